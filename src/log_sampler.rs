//! Log lines for events that come in floods (a refused webhook per request a stranger sends):
//! the first of each kind is logged, then at most one per interval, carrying how many went
//! unlogged since. The events are counted in full elsewhere, by a metric.

use std::collections::hash_map::{Entry, HashMap};
use std::hash::Hash;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// Which events of each kind `K` get a log line. On tokio's clock, so tests can pause it.
#[derive(Debug)]
pub struct LogSampler<K> {
    every: Duration,
    kinds: Mutex<HashMap<K, Tally>>,
}

#[derive(Debug)]
struct Tally {
    logged_at: Instant,
    unlogged: u64,
}

impl<K: Eq + Hash> LogSampler<K> {
    /// At most one line per `every` for each kind (`Duration::ZERO`: a line for every event).
    pub fn new(every: Duration) -> Self {
        LogSampler {
            every,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    /// An event of `kind`: `Some(unlogged)` when it gets a line (with how many of its kind went
    /// unlogged since the last one), `None` when it is only counted.
    pub fn sample(&self, kind: K) -> Option<u64> {
        let now = Instant::now();
        let mut kinds = self.kinds.lock();
        match kinds.entry(kind) {
            Entry::Vacant(first) => {
                first.insert(Tally {
                    logged_at: now,
                    unlogged: 0,
                });
                Some(0)
            }
            Entry::Occupied(mut seen) => {
                let tally = seen.get_mut();
                if now.duration_since(tally.logged_at) >= self.every {
                    tally.logged_at = now;
                    Some(std::mem::take(&mut tally.unlogged))
                } else {
                    tally.unlogged += 1;
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_first_of_each_kind_then_one_per_interval_with_the_count_since() {
        let sampler = LogSampler::new(Duration::from_secs(60));
        assert_eq!(sampler.sample("bad"), Some(0), "the first is logged");
        let quiet = (0..99).filter(|_| sampler.sample("bad").is_some()).count();
        assert_eq!(quiet, 0, "then none within the interval");
        assert_eq!(sampler.sample("other"), Some(0), "kinds are sampled apart");
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(
            sampler.sample("bad"),
            Some(99),
            "a line with the count since"
        );
        assert_eq!(sampler.sample("bad"), None);

        let every = LogSampler::new(Duration::ZERO);
        assert_eq!(every.sample("bad"), Some(0));
        assert_eq!(every.sample("bad"), Some(0), "0: every event is logged");
    }
}

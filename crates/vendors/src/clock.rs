//! Where "now" comes from. Time is an input: the gateway reads its clock, never the wall clock
//! directly, so tests and the simulated world can fix the date they run at.

use std::time::Instant;

use chrono::{DateTime, Utc};

/// A source of the current time.
///
/// [`Clock::system`] is the wall clock. [`Clock::starting_at`] reads a chosen instant at its
/// creation and runs on from there at the real pace, so time still moves (webhook timestamps
/// grow, caches expire) while every date stays reproducible to within the test's run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    origin: Option<(DateTime<Utc>, Instant)>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { origin: None }
    }

    /// A clock that reads `at` now and runs on from there.
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock {
            origin: Some((at, Instant::now())),
        }
    }

    /// The same clock moved on (or back) by `by`: what a gateway started later would read.
    pub fn shifted(self, by: chrono::Duration) -> Clock {
        match self.origin {
            None => Clock::starting_at(Utc::now() + by),
            Some((at, since)) => Clock {
                origin: Some((at + by, since)),
            },
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.origin {
            None => Utc::now(),
            Some((at, since)) => {
                at + chrono::Duration::from_std(since.elapsed()).unwrap_or(chrono::TimeDelta::MAX)
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_clock_reads_its_start_and_runs_on() {
        let at = DateTime::parse_from_rfc3339("2031-02-03T04:05:06Z")
            .unwrap()
            .to_utc();
        let clock = Clock::starting_at(at);
        let now = clock.now();
        assert!(
            now >= at && now - at < chrono::Duration::minutes(1),
            "{now}"
        );
        assert!(clock.now() >= now, "it never runs backwards");
    }
}

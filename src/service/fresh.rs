//! Fresh reads: `return(id, fresh: true)` reads an RRR return from RRR itself
//! (`get/order_return/{id}`) rather than the index, and puts the answer into the index. Each
//! tenant may make [`FRESH_READS_PER_MINUTE`] such vendor reads a minute (on the gateway's
//! clock); a fresh answer is reused for [`FRESH_FOR`], so a page that asks twice costs one
//! read. Past the cap the index's row is answered, with a `FRESH_READ_LIMITED` error that says
//! when to try again.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use vendors::model::{Return, Vendor};
use vendors::VendorError;

use super::Service;

/// Vendor reads one tenant's fresh reads may make per minute.
pub const FRESH_READS_PER_MINUTE: u32 = 30;
/// How long a fresh answer is reused.
pub const FRESH_FOR: Duration = Duration::seconds(30);
/// Fresh answers kept at most (the oldest go first past it).
const KEPT_AT_MOST: usize = 1000;

/// One tenant's fresh-read budget and recent answers.
#[derive(Debug, Default)]
pub struct FreshReads {
    state: Mutex<FreshState>,
}

#[derive(Debug, Default)]
struct FreshState {
    /// Start of the current minute's window, and the reads made in it.
    window: Option<(DateTime<Utc>, u32)>,
    /// Return id → when read, and the answer (`None`: RRR does not know it).
    answers: HashMap<String, (DateTime<Utc>, Option<Arc<Return>>)>,
}

impl FreshReads {
    /// A recent answer for `id`, if one is still fresh.
    fn recent(&self, id: &str, now: DateTime<Utc>) -> Option<Option<Arc<Return>>> {
        let state = self.state.lock();
        let (at, answer) = state.answers.get(id)?;
        (now - *at < FRESH_FOR).then(|| answer.clone())
    }

    /// Takes one read from the minute's budget, or says how long until the next window.
    fn take(&self, now: DateTime<Utc>) -> Result<(), Duration> {
        let mut state = self.state.lock();
        let window = match state.window {
            Some((start, used)) if now - start < Duration::minutes(1) => (start, used),
            _ => (now, 0),
        };
        if window.1 >= FRESH_READS_PER_MINUTE {
            return Err(window.0 + Duration::minutes(1) - now);
        }
        state.window = Some((window.0, window.1 + 1));
        Ok(())
    }

    fn keep(&self, id: &str, now: DateTime<Utc>, answer: Option<Arc<Return>>) {
        let mut state = self.state.lock();
        if state.answers.len() >= KEPT_AT_MOST {
            state.answers.retain(|_, (at, _)| now - *at < FRESH_FOR);
            if state.answers.len() >= KEPT_AT_MOST {
                state.answers.clear();
            }
        }
        state.answers.insert(id.to_owned(), (now, answer));
    }
}

/// How a fresh read went.
#[derive(Debug)]
pub enum FreshReturn {
    /// Read from the vendor now, or within [`FRESH_FOR`].
    Fresh(Option<Arc<Return>>),
    /// The tenant's budget is spent: the index's row, and how long until reads are allowed.
    Limited {
        indexed: Option<Arc<Return>>,
        retry_after: std::time::Duration,
    },
}

impl Service {
    /// RRR return `id` read fresh from RRR (within the tenant's cap), its index row updated.
    pub async fn fresh_rrr_return(&self, id: &str) -> Result<FreshReturn, Arc<VendorError>> {
        let now = self.clock.now();
        if let Some(recent) = self.fresh.recent(id, now) {
            return Ok(FreshReturn::Fresh(recent));
        }
        let Ok(numeric) = id.parse::<u64>() else {
            return Ok(FreshReturn::Fresh(None));
        };
        if let Err(wait) = self.fresh.take(now) {
            let indexed = self.find_return(Vendor::Rrr, id).await?;
            return Ok(FreshReturn::Limited {
                indexed,
                retry_after: wait.to_std().unwrap_or_default(),
            });
        }
        let found = match self.up.rrr_return(numeric).await {
            Ok(found) => found,
            Err(e)
                if e.api_error()
                    .is_some_and(|a| a.kind == vendors::ApiErrorKind::NotFound) =>
            {
                None
            }
            Err(e) => return Err(Arc::new(e)),
        };
        if let Some(r) = &found {
            self.index_rows(self.index.upsert_returns(std::slice::from_ref(r)).await);
        }
        let found = found.map(Arc::new);
        self.fresh.keep(id, now, found.clone());
        Ok(FreshReturn::Fresh(found))
    }
}

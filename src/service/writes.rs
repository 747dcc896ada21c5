//! Writes run once per idempotency key (see `crate::idempotency`) and are never retried. A write
//! the vendor accepted drops that vendor's cached reads, so the next query shows the change
//! (`crate::upstream`, where each write is sent); a failed one drops nothing: a flood of
//! failing writes must not empty the cache and turn every read into a vendor call. (A write that
//! timed out may still have happened; the cache's TTL bounds how long a read misses it.)

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use vendors::VendorError;

use super::error::{Result, ServiceError};
use super::Service;
use crate::upstream::Upstreams;

/// A write's outcome as stored under its key: the answer, or the vendor's failure.
pub type Outcome<T> = std::result::Result<T, Arc<VendorError>>;

/// What names one write for its idempotency key: the operation, the caller's key (if any) and
/// the input's fingerprint (its JSON).
pub struct Write<'a> {
    operation: &'static str,
    key: Option<&'a str>,
    fingerprint: String,
}

impl<'a> Write<'a> {
    pub fn new(
        operation: &'static str,
        key: Option<&'a str>,
        input: &(impl Serialize + ?Sized),
    ) -> Self {
        Write {
            operation,
            key,
            fingerprint: serde_json::to_string(input).expect("write inputs serialise to JSON"),
        }
    }
}

impl Service {
    /// Runs `write` once per key (see [`Write`]) and answers its outcome; a repeat with the
    /// same input answers the stored outcome, with other input it is refused.
    pub(crate) async fn write_once<T, F, Fut>(&self, w: Write<'_>, write: F) -> Result<T>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce(Arc<Upstreams>) -> Fut,
        Fut: Future<Output = Outcome<T>>,
    {
        let up = self.up.clone();
        let stored = self
            .idempotency
            .run(w.operation, w.key, w.fingerprint, || write(up))
            .await?;
        (*stored).clone().map_err(ServiceError::Vendor)
    }

    /// Whether an outcome is stored under `key` for `operation` already (a replay).
    pub(crate) async fn replays(&self, operation: &'static str, key: Option<&str>) -> bool {
        self.idempotency.has(operation, key).await
    }
}

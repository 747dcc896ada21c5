//! Writes run once per idempotency key (see `crate::idempotency`) and are never retried. A write
//! the vendor accepted drops that vendor's cached reads (`crate::upstream`, where each write is
//! sent); a failed one drops nothing: a flood of failing writes must not empty the cache and
//! turn every read into a vendor call. Each operation then puts the rows the vendor answered
//! into the index, so the next query shows the change without asking the vendor.

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

/// A write's outcome as stored under its key: the vendor's failure kept as its code and
/// message ([`vendors::StoredFailure`]), replayed as [`VendorError::Replayed`].
pub(super) mod stored {
    use std::sync::Arc;

    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use vendors::{StoredFailure, VendorError};

    pub fn serialize<T: Serialize, S: Serializer>(
        outcome: &Result<T, Arc<VendorError>>,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        outcome
            .as_ref()
            .map_err(|e| StoredFailure::from(&**e))
            .serialize(to)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        from: D,
    ) -> Result<Result<T, Arc<VendorError>>, D::Error> {
        let stored = Result::<T, StoredFailure>::deserialize(from)?;
        Ok(stored.map_err(|f| Arc::new(VendorError::from(f))))
    }
}

/// [`Outcome`] as the idempotency store keeps it.
#[derive(Serialize, serde::Deserialize)]
#[serde(bound = "T: Serialize + serde::de::DeserializeOwned")]
struct StoredOutcome<T>(#[serde(with = "stored")] Outcome<T>);

impl Service {
    /// Runs `write` once per key (see [`Write`]) and answers its outcome; a repeat with the
    /// same input answers the stored outcome, with other input it is refused.
    pub(crate) async fn write_once<T, F, Fut>(&self, w: Write<'_>, write: F) -> Result<T>
    where
        T: Serialize + serde::de::DeserializeOwned,
        F: FnOnce(Arc<Upstreams>) -> Fut,
        Fut: Future<Output = Outcome<T>>,
    {
        let up = self.up.clone();
        let stored = self
            .idempotency
            .run(w.operation, w.key, w.fingerprint, || async {
                StoredOutcome(write(up).await)
            })
            .await?;
        stored.0.map_err(ServiceError::Vendor)
    }

    /// Whether an outcome is stored under `key` for `operation` already (a replay).
    pub(crate) async fn replays(&self, operation: &'static str, key: Option<&str>) -> bool {
        self.idempotency.has(operation, key).await
    }
}

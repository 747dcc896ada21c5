//! Idempotent mutations: a key (the `Idempotency-Key` header or the `idempotencyKey` argument)
//! makes a mutation run once. The same key with the same input replays the stored outcome —
//! success or vendor failure alike, since a failed write (a timeout, say) may still have
//! happened and must not be sent again; the same key with other input is refused;
//! concurrent duplicates wait for the one call and share its outcome. Keys expire after the
//! configured TTL. Input that fails validation never reaches the store.
//!
//! Outcomes are kept in the returns index (as JSON), so they survive a restart and, with a
//! shared store, are seen by every replica. Within a process, duplicates wait on a lock per
//! key; across replicas the store keeps the first outcome stored and answers it to the
//! others.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use vendors::clock::Clock;

use crate::config::IdempotencySettings;
use crate::index::{ReturnIndex, StoreError, StoredOutcome};

/// The key was used before with other input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("idempotency key {key:?} was used with other input for {operation}")]
pub struct KeyReused {
    pub key: String,
    pub operation: &'static str,
}

/// Why a keyed write was not run.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error(transparent)]
    KeyReused(#[from] KeyReused),
    /// The store could not say whether the key was used: the write is not risked.
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct IdempotencyStore {
    index: ReturnIndex,
    clock: Clock,
    ttl: Duration,
    /// A lock per key being written now, so concurrent duplicates run the write once.
    running: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for IdempotencyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyStore")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl IdempotencyStore {
    pub fn new(settings: &IdempotencySettings, index: ReturnIndex, clock: Clock) -> Self {
        IdempotencyStore {
            index,
            clock,
            ttl: Duration::from_secs(settings.ttl_s),
            running: Mutex::default(),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// Whether an outcome is stored under `(operation, key)` and has not expired.
    pub async fn has(&self, operation: &'static str, key: Option<&str>) -> bool {
        let Some(key) = key else {
            return false;
        };
        match self.index.idempotency_get(operation, key, self.now()).await {
            Ok(stored) => stored.is_some(),
            Err(e) => {
                tracing::error!(error = %e, "idempotency keys cannot be read");
                false
            }
        }
    }

    /// Runs `op` once per `(operation, key)`; `fingerprint` identifies the input. Without a
    /// key, `op` simply runs.
    pub async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        key: Option<&str>,
        fingerprint: String,
        op: F,
    ) -> Result<T, IdempotencyError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let Some(key) = key else {
            return Ok(op().await);
        };
        let slot_key = format!("{operation}\u{0}{key}");
        let slot = self
            .running
            .lock()
            .entry(slot_key.clone())
            .or_default()
            .clone();
        let outcome = {
            let _held = slot.lock().await;
            self.run_locked(operation, key, fingerprint, op).await
        };
        // The last one out removes the lock (the map holds one reference, `slot` another).
        let mut running = self.running.lock();
        if running
            .get(&slot_key)
            .is_some_and(|s| Arc::strong_count(s) <= 2)
        {
            running.remove(&slot_key);
        }
        outcome
    }

    async fn run_locked<T, F, Fut>(
        &self,
        operation: &'static str,
        key: &str,
        fingerprint: String,
        op: F,
    ) -> Result<T, IdempotencyError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let reused = || KeyReused {
            key: key.to_owned(),
            operation,
        };
        let replay = |(stored_fingerprint, outcome): (String, String)| {
            if stored_fingerprint != fingerprint {
                return Err(IdempotencyError::from(reused()));
            }
            serde_json::from_str(&outcome)
                .map_err(|e| IdempotencyError::Store(StoreError::Corrupt(e)))
        };
        if let Some(stored) = self
            .index
            .idempotency_get(operation, key, self.now())
            .await?
        {
            return replay(stored);
        }
        let value = op().await;
        let outcome = serde_json::to_string(&value).expect("write outcomes serialise to JSON");
        let now = self.now();
        let expires_at =
            now.saturating_add(i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX));
        match self
            .index
            .idempotency_put(
                operation,
                key,
                &StoredOutcome {
                    fingerprint: &fingerprint,
                    outcome: &outcome,
                    expires_at,
                },
                now,
            )
            .await
        {
            // Another replica stored first: its outcome stands for everyone.
            Ok(standing) if standing.1 != outcome => replay(standing),
            Ok(_) => Ok(value),
            // The write happened: its answer is given, though a repeat of the key will not
            // find it.
            Err(e) => {
                tracing::error!(error = %e, operation, "a write's outcome could not be stored under its idempotency key");
                Ok(value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    async fn store() -> IdempotencyStore {
        let index = ReturnIndex::new(
            Arc::new(
                crate::index::sqlite::SqliteStore::in_memory()
                    .await
                    .unwrap(),
            ),
            "default",
        );
        IdempotencyStore::new(&IdempotencySettings::default(), index, Clock::system())
    }

    #[tokio::test]
    async fn same_key_same_input_runs_once_and_replays() {
        let store = store().await;
        let calls = AtomicUsize::new(0);
        let run = || {
            store.run("op", Some("k1"), "in".into(), || async {
                calls.fetch_add(1, Ordering::SeqCst) + 1
            })
        };
        assert_eq!(run().await.unwrap(), 1);
        assert_eq!(run().await.unwrap(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(store.has("op", Some("k1")).await);
        assert!(!store.has("op", Some("k2")).await);
    }

    #[tokio::test]
    async fn same_key_other_input_is_refused() {
        let store = store().await;
        store
            .run("op", Some("k"), "a".into(), || async { 1 })
            .await
            .unwrap();
        let err = store
            .run("op", Some("k"), "b".into(), || async { 2 })
            .await
            .unwrap_err();
        assert!(
            matches!(err, IdempotencyError::KeyReused(KeyReused { ref key, .. }) if key == "k")
        );
        // The key is per operation.
        assert_eq!(
            store
                .run("other", Some("k"), "b".into(), || async { 3 })
                .await
                .unwrap(),
            3
        );
    }

    #[tokio::test]
    async fn concurrent_duplicates_share_one_run() {
        let store = store().await;
        let calls = AtomicUsize::new(0);
        let runs = (0..20).map(|_| {
            store.run("op", Some("k"), "in".into(), || async {
                tokio::task::yield_now().await;
                calls.fetch_add(1, Ordering::SeqCst)
            })
        });
        let outcomes = futures_util::future::join_all(runs).await;
        assert!(outcomes.iter().all(|o| *o.as_ref().unwrap() == 0));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(store.running.lock().is_empty(), "locks are let go");
    }

    #[tokio::test]
    async fn without_a_key_every_call_runs() {
        let store = store().await;
        let calls = AtomicUsize::new(0);
        for _ in 0..3 {
            store
                .run("op", None, "in".into(), || async {
                    calls.fetch_add(1, Ordering::SeqCst)
                })
                .await
                .unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}

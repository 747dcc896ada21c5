//! Idempotent mutations: a key (the `Idempotency-Key` header or the `idempotencyKey` argument)
//! makes a mutation run once. The same key with the same input replays the stored outcome —
//! success or vendor failure alike, since a failed write (a timeout, say) may still have
//! happened and must not be sent again; the same key with other input is refused;
//! concurrent duplicates wait for the one call and share its outcome. Keys expire after the
//! configured TTL. Input that fails validation never reaches the store.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::config::IdempotencySettings;

#[derive(Clone)]
struct Stored {
    fingerprint: Arc<str>,
    outcome: Arc<dyn Any + Send + Sync>,
}

/// The key was used before with other input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("idempotency key {key:?} was used with other input for {operation}")]
pub struct KeyReused {
    pub key: String,
    pub operation: &'static str,
}

pub struct IdempotencyStore {
    cache: Cache<String, Stored>,
}

impl std::fmt::Debug for IdempotencyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyStore").finish_non_exhaustive()
    }
}

impl IdempotencyStore {
    pub fn new(settings: &IdempotencySettings) -> Self {
        IdempotencyStore {
            cache: Cache::builder()
                .max_capacity(settings.max_keys)
                .time_to_live(Duration::from_secs(settings.ttl_s))
                .build(),
        }
    }

    /// Whether an outcome is stored (or being produced) under `(operation, key)`.
    pub async fn has(&self, operation: &'static str, key: Option<&str>) -> bool {
        match key {
            Some(key) => self.cache.contains_key(&format!("{operation}\u{0}{key}")),
            None => false,
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
    ) -> Result<Arc<T>, KeyReused>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let Some(key) = key else {
            return Ok(Arc::new(op().await));
        };
        let fingerprint: Arc<str> = fingerprint.into();
        let mine = fingerprint.clone();
        let stored = self
            .cache
            .get_with(format!("{operation}\u{0}{key}"), async move {
                Stored {
                    fingerprint: mine,
                    outcome: Arc::new(op().await),
                }
            })
            .await;
        if stored.fingerprint != fingerprint {
            return Err(KeyReused {
                key: key.to_owned(),
                operation,
            });
        }
        Ok(stored
            .outcome
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("one operation name, one outcome type")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn store() -> IdempotencyStore {
        IdempotencyStore::new(&IdempotencySettings::default())
    }

    #[tokio::test]
    async fn same_key_same_input_runs_once_and_replays() {
        let store = store();
        let calls = AtomicUsize::new(0);
        let run = || {
            store.run("op", Some("k1"), "in".into(), || async {
                calls.fetch_add(1, Ordering::SeqCst) + 1
            })
        };
        assert_eq!(*run().await.unwrap(), 1);
        assert_eq!(*run().await.unwrap(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn same_key_other_input_is_refused() {
        let store = store();
        store
            .run("op", Some("k"), "a".into(), || async { 1 })
            .await
            .unwrap();
        let err = store
            .run("op", Some("k"), "b".into(), || async { 2 })
            .await
            .unwrap_err();
        assert_eq!(err.key, "k");
        // The key is per operation.
        assert_eq!(
            *store
                .run("other", Some("k"), "b".into(), || async { 3 })
                .await
                .unwrap(),
            3
        );
    }

    #[tokio::test]
    async fn concurrent_duplicates_share_one_run() {
        let store = store();
        let calls = AtomicUsize::new(0);
        let runs = (0..20).map(|_| {
            store.run("op", Some("k"), "in".into(), || async {
                tokio::task::yield_now().await;
                calls.fetch_add(1, Ordering::SeqCst)
            })
        });
        let outcomes = futures_util::future::join_all(runs).await;
        assert!(outcomes.iter().all(|o| **o.as_ref().unwrap() == 0));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn without_a_key_every_call_runs() {
        let store = store();
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

//! The read cache in front of every vendor (moka).
//!
//! - one bounded cache per vendor, with that vendor's time-to-live;
//! - single-flight: concurrent misses of one key make one vendor call, and every caller gets
//!   its result (moka's `try_get_with`);
//! - stale-while-revalidate for vendors configured so (V-Track): past its TTL an entry is still
//!   served, and one background refresh replaces it;
//! - the age of the data last served per vendor, for the `vendors` query.
//!
//! Values are stored type-erased; the key includes the value's type name, so two resources can
//! never read each other's entries.

use std::any::{type_name, Any};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use moka::future::Cache;

use crate::config::CacheSettings;
use vendors::escaped::Escaped;
use vendors::model::Vendor;
use vendors::VendorError;

#[derive(Clone)]
struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    fetched_at: Instant,
}

struct VendorSlot {
    cache: Cache<String, Entry>,
    ttl: Duration,
    stale_while_revalidate: bool,
    hits: AtomicU64,
    misses: AtomicU64,
}

pub struct VendorCache {
    slots: HashMap<Vendor, VendorSlot>,
    refreshing: Arc<Mutex<HashSet<String>>>,
    served: Mutex<HashMap<Vendor, Instant>>,
}

impl std::fmt::Debug for VendorCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorCache").finish_non_exhaustive()
    }
}

/// What a cached read answers: the value, or the vendor failure every waiting caller shares.
pub type Cached<T> = Result<Arc<T>, Arc<VendorError>>;

impl VendorCache {
    pub fn new(settings: &CacheSettings) -> Self {
        let slots = Vendor::ALL
            .into_iter()
            .map(|vendor| {
                let ttl = Duration::from_secs(settings.ttl_s.of(vendor));
                let stale_while_revalidate = vendor == Vendor::VTrack;
                let keep = if stale_while_revalidate {
                    ttl + Duration::from_secs(settings.vtrack_max_stale_s)
                } else {
                    ttl
                };
                let cache = Cache::builder()
                    .max_capacity(settings.max_entries_per_vendor)
                    .time_to_live(keep.max(Duration::from_millis(1)))
                    .build();
                (
                    vendor,
                    VendorSlot {
                        cache,
                        ttl,
                        stale_while_revalidate,
                        hits: AtomicU64::new(0),
                        misses: AtomicU64::new(0),
                    },
                )
            })
            .collect();
        VendorCache {
            slots,
            refreshing: Arc::new(Mutex::new(HashSet::new())),
            served: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, vendor: Vendor) -> &VendorSlot {
        // Every vendor gets a slot in `new`.
        &self.slots[&vendor]
    }

    /// The cached value of `key`, or `fetch`ed once however many callers wait for it.
    pub async fn get<T, F, Fut>(&self, vendor: Vendor, key: &str, fetch: F) -> Cached<T>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, VendorError>> + Send + 'static,
    {
        let slot = self.slot(vendor);
        let key = format!("{}|{key}", type_name::<T>());
        if let Some(entry) = slot.cache.get(&key).await {
            if entry.fetched_at.elapsed() <= slot.ttl {
                slot.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(self.serve(vendor, entry));
            }
            if slot.stale_while_revalidate {
                slot.hits.fetch_add(1, Ordering::Relaxed);
                self.refresh_in_background(vendor, key, fetch);
                return Ok(self.serve(vendor, entry));
            }
            // Past its TTL but not yet swept by moka: drop it and fetch anew.
            slot.cache.invalidate(&key).await;
        }
        slot.misses.fetch_add(1, Ordering::Relaxed);
        let entry = slot
            .cache
            .try_get_with(key, async move {
                let value = fetch().await?;
                Ok::<_, VendorError>(Entry {
                    value: Arc::new(value),
                    fetched_at: Instant::now(),
                })
            })
            .await?;
        Ok(self.serve(vendor, entry))
    }

    fn serve<T: Send + Sync + 'static>(&self, vendor: Vendor, entry: Entry) -> Arc<T> {
        let mut served = self.served.lock();
        served.insert(vendor, entry.fetched_at);
        drop(served);
        entry
            .value
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("cache keys carry their value's type name"))
    }

    fn refresh_in_background<T, F, Fut>(&self, vendor: Vendor, key: String, fetch: F)
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, VendorError>> + Send + 'static,
    {
        if !self.refreshing.lock().insert(key.clone()) {
            return; // one refresh per key at a time
        }
        let cache = self.slot(vendor).cache.clone();
        let refreshing = self.refreshing.clone();
        tokio::spawn(async move {
            match fetch().await {
                Ok(value) => {
                    let entry = Entry {
                        value: Arc::new(value),
                        fetched_at: Instant::now(),
                    };
                    cache.insert(key.clone(), entry).await;
                }
                Err(error) => {
                    tracing::warn!(%vendor, error = %Escaped(&error), "background refresh failed")
                }
            }
            refreshing.lock().remove(&key);
        });
    }

    /// How old the data last served for `vendor` is; `None` before the first read.
    pub fn data_age(&self, vendor: Vendor) -> Option<Duration> {
        self.served.lock().get(&vendor).map(Instant::elapsed)
    }

    /// Forgets `vendor`'s cached reads that describe any of `subjects` (an order id, a tracking
    /// number: a word of the read's key) or whose key starts with one of `prefixes` (reads that
    /// cover everything in a window, such as ProCarrier's `tracking/range`); everything else
    /// stays. A write drops what it made stale, never the vendor's whole cache.
    pub async fn invalidate_mentioning(
        &self,
        vendor: Vendor,
        subjects: &[&str],
        prefixes: &[&str],
    ) -> usize {
        let cache = &self.slot(vendor).cache;
        let stale: Vec<std::sync::Arc<String>> = cache
            .iter()
            .map(|(key, _)| key)
            .filter(|key| {
                // Past the value's type name: `<type>|<read>`.
                let read = key.split_once('|').map_or(key.as_str(), |(_, read)| read);
                prefixes.iter().any(|p| read.starts_with(p))
                    || read
                        .split(|c: char| !(c.is_alphanumeric() || "-_.@+".contains(c)))
                        .any(|word| subjects.contains(&word))
            })
            .collect();
        for key in &stale {
            cache.invalidate(key.as_str()).await;
        }
        stale.len()
    }

    /// Reads served from the cache and reads that went to the vendor (or joined a flight).
    pub fn hits_and_misses(&self, vendor: Vendor) -> (u64, u64) {
        let slot = self.slot(vendor);
        (
            slot.hits.load(Ordering::Relaxed),
            slot.misses.load(Ordering::Relaxed),
        )
    }

    /// Entries held for `vendor` (approximate, as moka counts).
    pub fn entry_count(&self, vendor: Vendor) -> u64 {
        self.slot(vendor).cache.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::config::VendorTtls;

    fn settings(ttl_s: u64) -> CacheSettings {
        CacheSettings {
            max_entries_per_vendor: 100,
            ttl_s: VendorTtls {
                vtrack: ttl_s,
                procarrier: ttl_s,
                rrr: ttl_s,
                merchantpro: ttl_s,
                trackru: ttl_s,
            },
            vtrack_max_stale_s: 3600,
        }
    }

    fn counting(
        calls: &Arc<AtomicUsize>,
    ) -> impl FnOnce() -> std::future::Ready<Result<usize, VendorError>> {
        let calls = calls.clone();
        move || std::future::ready(Ok(calls.fetch_add(1, Ordering::SeqCst) + 1))
    }

    #[tokio::test]
    async fn concurrent_misses_make_one_fetch_and_hits_make_none() {
        let cache = Arc::new(VendorCache::new(&settings(60)));
        let calls = Arc::new(AtomicUsize::new(0));
        let gets = (0..20).map(|_| cache.get(Vendor::Rrr, "k", counting(&calls)));
        let values = futures_util::future::join_all(gets).await;
        assert!(values.iter().all(|v| **v.as_ref().unwrap() == 1));
        assert_eq!(
            *cache.get(Vendor::Rrr, "k", counting(&calls)).await.unwrap(),
            1
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(cache.data_age(Vendor::Rrr).is_some());
    }

    #[tokio::test]
    async fn a_write_drops_only_the_reads_that_mention_its_subject() {
        let cache = VendorCache::new(&settings(60));
        let calls = Arc::new(AtomicUsize::new(0));
        for key in [
            "orders?ids=12,345",
            "orders?ids=1234",
            "tracking/get?PCR0000000012",
            "tracking/range?since=1700000000",
            "services/get?x",
        ] {
            cache.get(Vendor::Rrr, key, counting(&calls)).await.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        // `12` is a word of the first key only, not a part of `1234` or of a tracking number.
        assert_eq!(
            cache
                .invalidate_mentioning(Vendor::Rrr, &["12"], &["tracking/range"])
                .await,
            2
        );
        for (key, fetched) in [
            ("orders?ids=12,345", true),
            ("orders?ids=1234", false),
            ("tracking/get?PCR0000000012", false),
            ("tracking/range?since=1700000000", true),
            ("services/get?x", false),
        ] {
            let before = calls.load(Ordering::SeqCst);
            cache.get(Vendor::Rrr, key, counting(&calls)).await.unwrap();
            assert_eq!(calls.load(Ordering::SeqCst) > before, fetched, "{key}");
        }
    }

    #[tokio::test]
    async fn failures_are_shared_but_not_cached() {
        let cache = VendorCache::new(&settings(60));
        let failing = || {
            std::future::ready(Err::<usize, _>(VendorError::Config {
                vendor: Vendor::Rrr,
                reason: "test".into(),
            }))
        };
        assert!(cache.get(Vendor::Rrr, "k", failing).await.is_err());
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            *cache.get(Vendor::Rrr, "k", counting(&calls)).await.unwrap(),
            1
        );
    }

    #[tokio::test]
    async fn vtrack_is_served_stale_while_one_refresh_runs() {
        // TTL 0: every read after the first is stale.
        let cache = VendorCache::new(&settings(0));
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            *cache
                .get(Vendor::VTrack, "report", counting(&calls))
                .await
                .unwrap(),
            1
        );
        // Stale: answered at once with the old value; a refresh is started in the background.
        assert_eq!(
            *cache
                .get(Vendor::VTrack, "report", counting(&calls))
                .await
                .unwrap(),
            1
        );
        // Wait for the refresh to land (no sleeping: poll the count the fetch bumps).
        while calls.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let mut seen = 1;
        while seen == 1 {
            seen = *cache
                .get(Vendor::VTrack, "report", counting(&calls))
                .await
                .unwrap();
            tokio::task::yield_now().await;
        }
        assert!(seen >= 2);
        // Non-SWR vendors fetch anew once past their TTL.
        let rrr_calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            *cache
                .get(Vendor::Rrr, "x", counting(&rrr_calls))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            *cache
                .get(Vendor::Rrr, "x", counting(&rrr_calls))
                .await
                .unwrap(),
            2
        );
    }
}

//! The five vendor clients behind the read cache: every vendor read the schema makes goes
//! through here, is cached per vendor (single-flight, TTL, V-Track stale-while-revalidate) and
//! comes back mapped into the unified model. Outcomes feed each vendor's health.
//!
//! Reads are shaped to what each vendor can batch: ProCarrier returns through `returns/search`
//! (1000 a page) and events through `tracking/range` from the day the oldest parcel asked for
//! was sent back, RRR and V-Track as their full listings,
//! MerchantPro orders by `ids=` (100 a call) or from its listing for channel references it cannot
//! filter by, TrackRU trackings by `numbers=` (40 a call).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, SystemTime};

use chrono::{NaiveDate, NaiveTime};
use futures_util::future::try_join_all;

use crate::cache::{Cached, VendorCache};
use crate::config::{CacheSettings, VendorsSettings};
use crate::error::ErrorCode;
use vendors::clock::Clock;
use vendors::model::{Delivery, DropOffPoint, Order, Return, ReturnService, Shipment, Vendor};
use vendors::{
    merchantpro, procarrier, rrr, trackru, vtrack, ApiErrorKind, BreakerState, RateLimitHold,
    Refusal, Transport, VendorError,
};

/// TrackRU takes at most this many numbers in one `numbers=` query (TrackingMore v2's limit).
const TRACKRU_NUMBERS_PER_CALL: usize = 40;
/// MerchantPro's page limit, also the most ids one `ids=` call can answer.
const MERCHANTPRO_IDS_PER_CALL: usize = 100;

/// The last outcome of each vendor's reads, for the `vendors` query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub last_success: Option<SystemTime>,
    pub last_failure: Option<(SystemTime, ErrorCode)>,
    pub consecutive_failures: u32,
}

#[derive(Debug, Default)]
struct HealthBoard(Mutex<HashMap<Vendor, Health>>);

impl HealthBoard {
    fn record(&self, vendor: Vendor, error: Option<&VendorError>) {
        let mut board = self.0.lock();
        let health = board.entry(vendor).or_default();
        match error {
            None => {
                health.last_success = Some(SystemTime::now());
                health.consecutive_failures = 0;
            }
            Some(e) => {
                health.last_failure = Some((SystemTime::now(), e.code()));
                health.consecutive_failures += 1;
            }
        }
    }
}

/// V-Track's report: parcels returned to sender (refused or unclaimed) and parcels delivered.
#[derive(Debug, Default)]
pub struct VTrackReport {
    pub returns: Vec<Arc<Return>>,
    pub deliveries: Vec<Arc<Delivery>>,
    /// Rows and entries the mapping could not read (logged when fetched).
    pub skipped: usize,
}

/// MerchantPro orders indexed by id and, apart, by channel reference: the two are different
/// numberings, so one is never looked up as the other.
#[derive(Debug, Default)]
pub struct OrderIndex {
    pub orders: Vec<Arc<Order>>,
    by_id: HashMap<String, usize>,
    by_reference: HashMap<String, usize>,
}

impl OrderIndex {
    pub fn new(orders: Vec<Order>) -> Self {
        let orders: Vec<Arc<Order>> = orders.into_iter().map(Arc::new).collect();
        let mut by_id = HashMap::with_capacity(orders.len());
        let mut by_reference = HashMap::with_capacity(orders.len());
        for (i, o) in orders.iter().enumerate() {
            by_id.insert(o.id.clone(), i);
            if let Some(r) = &o.reference {
                by_reference.entry(r.clone()).or_insert(i);
            }
        }
        OrderIndex {
            orders,
            by_id,
            by_reference,
        }
    }

    /// By MerchantPro id.
    pub fn by_id(&self, id: &str) -> Option<&Arc<Order>> {
        self.by_id.get(id).map(|&i| &self.orders[i])
    }

    /// By channel reference (`channel_ref_id`).
    pub fn by_reference(&self, reference: &str) -> Option<&Arc<Order>> {
        self.by_reference.get(reference).map(|&i| &self.orders[i])
    }
}

/// One tenant's vendor clients behind the read cache. The clients are private: reads come out
/// mapped into the model (and cached), writes go through the methods at the end, so every call
/// passes here.
#[derive(Debug)]
pub struct Upstreams {
    vtrack: vtrack::Client,
    procarrier: procarrier::Client,
    rrr: rrr::Client,
    merchantpro: merchantpro::Client,
    trackru: trackru::Client,
    pub cache: VendorCache,
    health: Arc<HealthBoard>,
    clock: Clock,
}

impl Upstreams {
    pub fn new(
        v: &VendorsSettings,
        cache: &CacheSettings,
        clock: Clock,
    ) -> Result<Self, VendorError> {
        Ok(Upstreams {
            vtrack: vtrack::Client::new(&v.vtrack)?,
            procarrier: procarrier::Client::new(&v.procarrier)?,
            rrr: rrr::Client::new(&v.rrr)?,
            merchantpro: merchantpro::Client::new(&v.merchantpro)?,
            trackru: trackru::Client::new(&v.trackru)?,
            cache: VendorCache::new(cache),
            health: Arc::default(),
            clock,
        })
    }

    pub fn health(&self, vendor: Vendor) -> Health {
        self.health
            .0
            .lock()
            .get(&vendor)
            .cloned()
            .unwrap_or_default()
    }

    /// The transport every call to `vendor` goes through.
    pub fn transport(&self, vendor: Vendor) -> &Transport {
        match vendor {
            Vendor::VTrack => self.vtrack.transport(),
            Vendor::ProCarrier => self.procarrier.transport(),
            Vendor::Rrr => self.rrr.transport(),
            Vendor::MerchantPro => self.merchantpro.transport(),
            Vendor::TrackRu => self.trackru.transport(),
        }
    }

    /// The circuit breaker of `vendor`'s calls.
    pub fn breaker_state(&self, vendor: Vendor) -> BreakerState {
        self.transport(vendor).breaker_state()
    }

    /// The refusal of our credentials holding every call to `vendor` now, if any.
    pub fn refusal(&self, vendor: Vendor) -> Option<Refusal> {
        self.transport(vendor).refusal()
    }

    /// The hold after `vendor`'s last 429, while it lasts.
    pub fn rate_limit_hold(&self, vendor: Vendor) -> Option<RateLimitHold> {
        self.transport(vendor).rate_limit_hold()
    }

    /// How old the data last served for `vendor` is.
    pub fn data_age(&self, vendor: Vendor) -> Option<Duration> {
        self.cache.data_age(vendor)
    }

    async fn cached<T, F, Fut>(&self, vendor: Vendor, key: &str, fetch: F) -> Cached<T>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, VendorError>> + Send + 'static,
    {
        let health = self.health.clone();
        self.cache
            .get(vendor, key, move || async move {
                let outcome = Box::pin(fetch()).await;
                health.record(vendor, outcome.as_ref().err());
                outcome
            })
            .await
    }

    /// Every ProCarrier return, walking `returns/search`'s `IdLast` cursor.
    pub async fn procarrier_returns(&self) -> Cached<Vec<Arc<Return>>> {
        let client = self.procarrier.clone();
        self.cached(Vendor::ProCarrier, "returns/search", move || async move {
            let rows = client.search_all_returns(&Default::default()).await?;
            Ok(rows
                .iter()
                .map(|r| Arc::new(procarrier::mapping::map_return(r)))
                .collect())
        })
        .await
    }

    /// Every RRR return, page by page until an empty one.
    pub async fn rrr_returns(&self) -> Cached<Vec<Arc<Return>>> {
        let client = self.rrr.clone();
        self.cached(Vendor::Rrr, "get/order_returns", move || async move {
            let rows = client.order_returns(&Default::default()).await?;
            Ok(rows
                .iter()
                .map(|r| Arc::new(rrr::mapping::order_return(r)))
                .collect())
        })
        .await
    }

    /// The V-Track report: returned/refused parcels and deliveries (slow; served stale while it
    /// refreshes once past its TTL).
    pub async fn vtrack_report(&self) -> Cached<VTrackReport> {
        let client = self.vtrack.clone();
        self.cached(Vendor::VTrack, "statistics/returns", move || async move {
            let report = client.report().await?;
            Ok(VTrackReport {
                skipped: report.skipped(),
                returns: report.returns.into_iter().map(Arc::new).collect(),
                deliveries: report.deliveries.into_iter().map(Arc::new).collect(),
            })
        })
        .await
    }

    /// Every MerchantPro order with its lines, indexed by id and channel reference. Used where
    /// only the channel reference is known: MerchantPro cannot filter by it.
    pub async fn merchantpro_orders(&self) -> Cached<OrderIndex> {
        let client = self.merchantpro.clone();
        self.cached(Vendor::MerchantPro, "orders", move || async move {
            let filter = merchantpro::client::OrderFilter {
                include_line_items: true,
                ..Default::default()
            };
            let orders = client.list_all(&filter).await?;
            Ok(OrderIndex::new(
                orders.iter().map(merchantpro::mapping::order).collect(),
            ))
        })
        .await
    }

    /// MerchantPro orders by id, `ids=` in calls of 100. The cache key is the id set, so
    /// identical concurrent batches make one call.
    pub async fn merchantpro_orders_by_id(&self, mut ids: Vec<u64>) -> Cached<OrderIndex> {
        ids.sort_unstable();
        ids.dedup();
        let key = format!("orders?ids={}", join(&ids));
        let client = self.merchantpro.clone();
        self.cached(Vendor::MerchantPro, &key, move || async move {
            let calls = ids
                .chunks(MERCHANTPRO_IDS_PER_CALL)
                .map(|c| client.get_many(c));
            let orders = try_join_all(calls).await?;
            Ok(OrderIndex::new(
                orders
                    .iter()
                    .flatten()
                    .map(merchantpro::mapping::order)
                    .collect(),
            ))
        })
        .await
    }

    /// TrackRU trackings by number, `numbers=` in calls of 40, keyed by tracking number.
    pub async fn trackru_by_numbers(
        &self,
        mut numbers: Vec<String>,
    ) -> Cached<HashMap<String, Arc<Shipment>>> {
        numbers.sort_unstable();
        numbers.dedup();
        let key = format!("trackings/get?numbers={}", numbers.join(","));
        let client = self.trackru.clone();
        self.cached(Vendor::TrackRu, &key, move || async move {
            let queries: Vec<_> = numbers
                .chunks(TRACKRU_NUMBERS_PER_CALL)
                .map(|chunk| trackru::wire::ListQuery {
                    numbers: Some(chunk.join(",")),
                    limit: Some(TRACKRU_NUMBERS_PER_CALL as u32),
                    ..Default::default()
                })
                .collect();
            let pages = try_join_all(queries.iter().map(|q| client.list(q))).await?;
            Ok(pages
                .iter()
                .flat_map(|page| &page.items)
                .map(trackru::mapping::shipment)
                .map(|s| (s.tracking_number.clone(), Arc::new(s)))
                .collect())
        })
        .await
    }

    /// Every TrackRU tracking (the customer view searches them by contact).
    pub async fn trackru_all(&self) -> Cached<Vec<Shipment>> {
        let client = self.trackru.clone();
        self.cached(Vendor::TrackRu, "trackings/get", move || async move {
            let all = client.list_all(&Default::default(), 2000).await?;
            Ok(all.iter().map(trackru::mapping::shipment).collect())
        })
        .await
    }

    /// ProCarrier events of every parcel that moved from the start of `since` (a UTC day) up
    /// to now, by tracking number: `tracking/range` windows instead of one `tracking/get` per
    /// parcel. Keyed by the day, so the rows of a page created the same day share one read.
    pub async fn procarrier_tracking_since(
        &self,
        since: NaiveDate,
    ) -> Cached<HashMap<String, Arc<Shipment>>> {
        let key = format!("tracking/range?since={since}");
        let (client, clock) = (self.procarrier.clone(), self.clock);
        self.cached(Vendor::ProCarrier, &key, move || async move {
            let from = since.and_time(NaiveTime::MIN).and_utc();
            let records = client.tracking_between(from, clock.now()).await?;
            Ok(records
                .iter()
                .map(procarrier::mapping::map_tracking)
                .map(|s| (s.tracking_number.clone(), Arc::new(s)))
                .collect())
        })
        .await
    }

    /// One parcel's ProCarrier events (`tracking/get`), for a parcel asked for without a date
    /// to start a range from. `None` when ProCarrier does not know the number (it answers an
    /// unknown number with `requestWrong`).
    pub async fn procarrier_tracking_of(&self, number: String) -> Cached<Option<Arc<Shipment>>> {
        let key = format!("tracking/get?{number}");
        let client = self.procarrier.clone();
        self.cached(Vendor::ProCarrier, &key, move || async move {
            match client.get_tracking(&number).await {
                Ok(record) => Ok(Some(Arc::new(procarrier::mapping::map_tracking(&record)))),
                Err(e)
                    if e.api_error().is_some_and(|a| {
                        matches!(a.kind, ApiErrorKind::BadRequest | ApiErrorKind::NotFound)
                    }) =>
                {
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    pub async fn procarrier_services(
        &self,
        request: procarrier::wire::ServicesRequest,
    ) -> Cached<Vec<ReturnService>> {
        let key = format!("services/get?{}", cache_key(&request));
        let client = self.procarrier.clone();
        self.cached(Vendor::ProCarrier, &key, move || async move {
            let answer = client.get_services(&request).await?;
            Ok(answer
                .services
                .iter()
                .map(procarrier::mapping::map_service)
                .collect())
        })
        .await
    }

    /// Drop-off points. A filter that names no service searches every service the account
    /// has (`services/get` with an empty request, cached): ProCarrier needs at least one.
    pub async fn procarrier_dropoff_points(
        &self,
        mut filter: procarrier::wire::DropOffFilter,
    ) -> Cached<Vec<DropOffPoint>> {
        if filter.services.is_empty() {
            let all = self.procarrier_services(Default::default()).await?;
            filter.services = all.iter().filter_map(|s| s.id.parse().ok()).collect();
        }
        let key = format!("dropoff/points?{}", cache_key(&filter));
        let client = self.procarrier.clone();
        self.cached(Vendor::ProCarrier, &key, move || async move {
            let answer = client.dropoff_points(&filter).await?;
            Ok(procarrier::mapping::map_dropoff_points(&answer))
        })
        .await
    }

    // ---- Writes and uncached reads: never cached, never retried. A write the vendor accepted
    // drops that vendor's cached reads (they describe the state before it); a failed one drops
    // nothing ---------------------------------------------------------------------------------

    /// Drops `vendor`'s cached reads when `outcome` says the write was made.
    fn wrote<T>(&self, vendor: Vendor, outcome: Result<T, VendorError>) -> Result<T, VendorError> {
        if outcome.is_ok() {
            self.cache.invalidate_vendor(vendor);
        }
        outcome
    }

    pub async fn procarrier_create_return(
        &self,
        request: &procarrier::wire::NewReturn,
    ) -> Result<procarrier::wire::ReturnCreated, VendorError> {
        let created = self.procarrier.create_return(request).await;
        self.wrote(Vendor::ProCarrier, created)
    }

    /// One return fresh from ProCarrier (`returns/get`), with its label when `lookup` asks.
    pub async fn procarrier_return(
        &self,
        lookup: &procarrier::wire::ReturnLookup,
    ) -> Result<procarrier::wire::ReturnRecord, VendorError> {
        self.procarrier.get_return(lookup).await
    }

    pub async fn procarrier_cancel_return(
        &self,
        request: &procarrier::wire::ReturnCancel,
    ) -> Result<procarrier::wire::ReturnCancelled, VendorError> {
        let cancelled = self.procarrier.cancel_return(request).await;
        self.wrote(Vendor::ProCarrier, cancelled)
    }

    pub async fn procarrier_add_tracking(
        &self,
        event: &procarrier::wire::NewTrackingStatus,
    ) -> Result<procarrier::wire::Acknowledgement, VendorError> {
        let added = self.procarrier.add_tracking(event).await;
        self.wrote(Vendor::ProCarrier, added)
    }

    /// ProCarrier's unauthenticated `check/available` (readiness).
    pub async fn procarrier_available(
        &self,
    ) -> Result<procarrier::wire::Availability, VendorError> {
        self.procarrier.check_available().await
    }

    /// One MerchantPro order fresh from the vendor (checks before a write).
    pub async fn merchantpro_order(
        &self,
        id: u64,
    ) -> Result<merchantpro::wire::Order, VendorError> {
        self.merchantpro.get(id, &[]).await
    }

    pub async fn merchantpro_transition(
        &self,
        id: u64,
        transition: merchantpro::wire::Transition,
    ) -> Result<(), VendorError> {
        let moved = self.merchantpro.transition(id, transition).await.map(drop);
        self.wrote(Vendor::MerchantPro, moved)
    }

    pub async fn merchantpro_update(
        &self,
        id: u64,
        change: &merchantpro::wire::OrderUpdate,
    ) -> Result<merchantpro::wire::Order, VendorError> {
        let updated = self.merchantpro.update(id, change).await;
        self.wrote(Vendor::MerchantPro, updated)
    }

    /// Registers trackings with TrackRU in batches of 40, an outcome per parcel (TrackRU's
    /// cached reads are dropped when it accepted any).
    pub async fn trackru_create_many(
        &self,
        trackings: &[trackru::wire::CreateTracking],
    ) -> Vec<trackru::client::BatchItemResult> {
        let results = self.trackru.create_many(trackings).await;
        if results
            .iter()
            .any(|r| matches!(r.outcome, trackru::client::BatchOutcome::Accepted))
        {
            self.cache.invalidate_vendor(Vendor::TrackRu);
        }
        results
    }

    pub async fn trackru_update(
        &self,
        carrier: &str,
        number: &str,
        update: &trackru::wire::UpdateTracking,
    ) -> Result<trackru::wire::Tracking, VendorError> {
        let updated = self.trackru.update(carrier, number, update).await;
        self.wrote(Vendor::TrackRu, updated)
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A request's JSON as its cache key: equal requests, equal keys.
fn cache_key<T: serde::Serialize>(request: &T) -> String {
    serde_json::to_string(request).expect("vendor request types serialise to JSON")
}

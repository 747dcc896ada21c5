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
use std::ops::ControlFlow;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use futures_util::future::try_join_all;
use tokio::sync::mpsc;

use crate::cache::{Cached, VendorCache};
use crate::config::{CacheSettings, VendorsSettings};
use crate::error::ErrorCode;
use vendors::clock::Clock;
use vendors::model::{DropOffPoint, Order, Return, ReturnService, Shipment, Vendor};
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

    // ---- The index's sync: uncached reads, mapped, never on a request path --------------------

    /// Records a sync read's outcome in the vendor's health, as the cached reads do.
    fn observed<T>(
        &self,
        vendor: Vendor,
        outcome: Result<T, VendorError>,
    ) -> Result<T, VendorError> {
        self.health.record(vendor, outcome.as_ref().err());
        outcome
    }

    /// ProCarrier returns created between `from` and `to` (inclusive, to the second):
    /// `returns/search` with `DateFrom`/`DateTo`, walking its `IdLast` cursor.
    pub async fn sync_procarrier_returns(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Return>, VendorError> {
        let filter = procarrier::wire::ReturnSearchFilter {
            date_from: Some(procarrier::mapping::format_filter_date(from.fixed_offset())),
            date_to: Some(procarrier::mapping::format_filter_date(to.fixed_offset())),
            ..Default::default()
        };
        let rows = self.procarrier.search_all_returns(&filter).await;
        let rows = self.observed(Vendor::ProCarrier, rows)?;
        Ok(rows.iter().map(procarrier::mapping::map_return).collect())
    }

    /// ProCarrier parcels with events that happened (`added`: were added) between `from` and
    /// `to`, with those events.
    pub async fn sync_procarrier_tracking(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        added: bool,
    ) -> Result<Vec<Shipment>, VendorError> {
        let records = if added {
            self.procarrier.tracking_added_between(from, to).await
        } else {
            self.procarrier.tracking_between(from, to).await
        };
        let records = self.observed(Vendor::ProCarrier, records)?;
        Ok(records
            .iter()
            .map(procarrier::mapping::map_tracking)
            .collect())
    }

    /// One ProCarrier return as it is now (`returns/get` by tracking number); `None` when
    /// ProCarrier does not know the number.
    pub async fn sync_procarrier_return(
        &self,
        number: &str,
    ) -> Result<Option<Return>, VendorError> {
        let lookup = procarrier::wire::ReturnLookup {
            value: number.to_owned(),
            field: "tracking".to_owned(),
            label_format: None,
        };
        match self.procarrier.get_return(&lookup).await {
            Ok(record) => {
                self.health.record(Vendor::ProCarrier, None);
                Ok(Some(procarrier::mapping::map_return(&record)))
            }
            Err(e)
                if e.api_error().is_some_and(|a| {
                    matches!(a.kind, ApiErrorKind::BadRequest | ApiErrorKind::NotFound)
                }) =>
            {
                Ok(None)
            }
            Err(e) => self.observed(Vendor::ProCarrier, Err(e)),
        }
    }

    /// RRR returns created on the days `from` to `to` (inclusive), each page sent to `pages`
    /// as it is read.
    pub async fn sync_rrr_returns(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        pages: mpsc::Sender<Vec<Return>>,
    ) -> Result<(), VendorError> {
        let filter = rrr::client::ReturnsFilter {
            date_from: Some(from),
            date_to: Some(to),
        };
        let read = self
            .rrr
            .order_returns_pages(&filter, |rows| {
                send_mapped(&pages, rows, rrr::mapping::order_return)
            })
            .await;
        self.observed(Vendor::Rrr, read)
    }

    /// One RRR return by id, as it is now (`get/order_return/{id}`).
    pub async fn rrr_return(&self, id: u64) -> Result<Option<Return>, VendorError> {
        let found = self.rrr.order_return(id).await;
        let found = self.observed(Vendor::Rrr, found)?;
        Ok(found.as_ref().map(rrr::mapping::order_return))
    }

    /// MerchantPro orders created between `from` and `to`, with their lines, each page sent to
    /// `pages` as it is read.
    pub async fn sync_merchantpro_orders(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        pages: mpsc::Sender<Vec<Order>>,
    ) -> Result<(), VendorError> {
        let filter = merchantpro::client::OrderFilter {
            created_after: Some(from.fixed_offset()),
            created_before: Some(to.fixed_offset()),
            include_line_items: true,
            ..Default::default()
        };
        let read = self
            .merchantpro
            .list_pages(&filter, |rows| {
                send_mapped(&pages, rows, merchantpro::mapping::order)
            })
            .await;
        self.observed(Vendor::MerchantPro, read)
    }

    /// MerchantPro orders by id, as they are now (`ids=`, 100 a call).
    pub async fn sync_merchantpro_orders_by_id(
        &self,
        ids: &[u64],
    ) -> Result<Vec<Order>, VendorError> {
        let orders = self.merchantpro.get_many(ids).await;
        let orders = self.observed(Vendor::MerchantPro, orders)?;
        Ok(orders.iter().map(merchantpro::mapping::order).collect())
    }

    /// TrackRU trackings created (`by_update`: updated) at or after `from` and, when given,
    /// at or before `to` (unix seconds), in pages of 2000, each sent to `pages` as it is read.
    pub async fn sync_trackru(
        &self,
        from: i64,
        to: Option<i64>,
        by_update: bool,
        pages: mpsc::Sender<Vec<Shipment>>,
    ) -> Result<(), VendorError> {
        let query = if by_update {
            trackru::wire::ListQuery {
                update_time_min: Some(from),
                update_time_max: to,
                ..Default::default()
            }
        } else {
            trackru::wire::ListQuery {
                created_at_min: Some(from),
                created_at_max: to,
                ..Default::default()
            }
        };
        let read = self
            .trackru
            .list_pages(&query, trackru::client::MAX_PAGE_SIZE, |rows| {
                send_mapped(&pages, rows, trackru::mapping::shipment)
            })
            .await;
        self.observed(Vendor::TrackRu, read)
    }

    /// V-Track's whole report, read now.
    pub async fn sync_vtrack(&self) -> Result<vtrack::mapping::Report, VendorError> {
        let report = self.vtrack.report().await;
        self.observed(Vendor::VTrack, report)
    }

    // ---- Writes and uncached reads: never cached, never retried. A write the vendor accepted
    // drops the cached reads of what it changed (they describe the state before it); a failed
    // one drops nothing -----------------------------------------------------------------------

    /// ProCarrier reads that cover every parcel in a window: any write to a parcel stales them.
    const PROCARRIER_WINDOWS: [&'static str; 1] = ["tracking/range"];

    /// Drops `vendor`'s cached reads of `subjects` (and those starting with `windows`) when
    /// `outcome` says the write was made.
    async fn wrote<T>(
        &self,
        vendor: Vendor,
        subjects: &[&str],
        windows: &[&str],
        outcome: Result<T, VendorError>,
    ) -> Result<T, VendorError> {
        if outcome.is_ok() {
            self.cache
                .invalidate_mentioning(vendor, subjects, windows)
                .await;
        }
        outcome
    }

    pub async fn procarrier_create_return(
        &self,
        request: &procarrier::wire::NewReturn,
    ) -> Result<procarrier::wire::ReturnCreated, VendorError> {
        let created = self.procarrier.create_return(request).await;
        // A lookup of its number before it existed (answered "not found") is stale now.
        let number = created
            .as_ref()
            .map_or(String::new(), |c| c.tracking_number.clone());
        self.wrote(
            Vendor::ProCarrier,
            &[&number],
            &Self::PROCARRIER_WINDOWS,
            created,
        )
        .await
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
        let answered = cancelled
            .as_ref()
            .ok()
            .and_then(|c| c.result.tracking_number.clone());
        let subjects: Vec<&str> = [&request.tracking_number, &request.external_id, &answered]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        self.wrote(
            Vendor::ProCarrier,
            &subjects,
            &Self::PROCARRIER_WINDOWS,
            cancelled,
        )
        .await
    }

    pub async fn procarrier_add_tracking(
        &self,
        event: &procarrier::wire::NewTrackingStatus,
    ) -> Result<procarrier::wire::Acknowledgement, VendorError> {
        let added = self.procarrier.add_tracking(event).await;
        self.wrote(
            Vendor::ProCarrier,
            &[&event.tracking_number],
            &Self::PROCARRIER_WINDOWS,
            added,
        )
        .await
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
        self.wrote(Vendor::MerchantPro, &[&id.to_string()], &[], moved)
            .await
    }

    pub async fn merchantpro_update(
        &self,
        id: u64,
        change: &merchantpro::wire::OrderUpdate,
    ) -> Result<merchantpro::wire::Order, VendorError> {
        let updated = self.merchantpro.update(id, change).await;
        self.wrote(Vendor::MerchantPro, &[&id.to_string()], &[], updated)
            .await
    }

    /// `POST /orders`: a new order (an exchange: a return order linked to its original by
    /// `return_source_id`). The original's cached reads are dropped: its `rma_orders` grew.
    pub async fn merchantpro_create(
        &self,
        order: &merchantpro::wire::NewOrder,
    ) -> Result<merchantpro::wire::Order, VendorError> {
        let created = self.merchantpro.create(order).await;
        let source = order.return_source_id.map(|id| id.0.to_string());
        let subjects: Vec<&str> = source.as_deref().into_iter().collect();
        self.wrote(Vendor::MerchantPro, &subjects, &[], created)
            .await
    }

    /// A shop order as ProCarrier holds it for returns (`orders/get` by reference, cached);
    /// `None` when ProCarrier does not know the reference (it answers `requestWrong`).
    pub async fn procarrier_order(
        &self,
        reference: String,
    ) -> Cached<Option<Arc<procarrier::wire::Order>>> {
        let key = format!("orders/get?{reference}");
        let client = self.procarrier.clone();
        self.cached(Vendor::ProCarrier, &key, move || async move {
            match client.get_order("reference", &reference).await {
                Ok(order) => Ok(Some(Arc::new(order))),
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

    /// ProCarrier order ids whose text matches `text` (`orders/search`, uncached: it finds
    /// the id an update needs).
    pub async fn procarrier_search_orders(&self, text: &str) -> Result<Vec<i64>, VendorError> {
        let filter = procarrier::wire::SearchFilter {
            full_text_search: Some(text.to_owned()),
            ..Default::default()
        };
        Ok(self.procarrier.search_orders(&filter).await?.id)
    }

    /// One ProCarrier order fresh, by `field` (`id`, `reference`).
    pub async fn procarrier_order_by(
        &self,
        field: &str,
        value: &str,
    ) -> Result<procarrier::wire::Order, VendorError> {
        self.procarrier.get_order(field, value).await
    }

    pub async fn procarrier_create_order(
        &self,
        order: &procarrier::wire::Order,
    ) -> Result<procarrier::wire::OrderSaved, VendorError> {
        let saved = self.procarrier.create_order(order).await;
        let reference = order.order_reference.clone().unwrap_or_default();
        self.wrote(Vendor::ProCarrier, &[&reference], &[], saved)
            .await
    }

    pub async fn procarrier_update_order(
        &self,
        order: &procarrier::wire::Order,
    ) -> Result<procarrier::wire::OrderSaved, VendorError> {
        let saved = self.procarrier.update_order(order).await;
        let reference = order.order_reference.clone().unwrap_or_default();
        self.wrote(Vendor::ProCarrier, &[&reference], &[], saved)
            .await
    }

    /// `orders/delete` by reference.
    pub async fn procarrier_delete_order(
        &self,
        reference: &str,
    ) -> Result<procarrier::wire::MessageResult, VendorError> {
        let deleted = self.procarrier.delete_order("reference", reference).await;
        self.wrote(Vendor::ProCarrier, &[reference], &[], deleted)
            .await
    }

    /// TrackRU `realtime`: the carrier asked live for one parcel (never cached here: the
    /// caller keeps the answer for the vendor's two hours). TrackRU's cached reads of the
    /// parcel are dropped: the live read updated it.
    pub async fn trackru_realtime(
        &self,
        request: &trackru::wire::RealtimeRequest,
    ) -> Result<trackru::wire::RealtimeResult, VendorError> {
        let answer = self.trackru.realtime(request).await;
        self.wrote(Vendor::TrackRu, &[&request.tracking_number], &[], answer)
            .await
    }

    /// Stops tracking a parcel at TrackRU.
    pub async fn trackru_delete(&self, carrier: &str, number: &str) -> Result<(), VendorError> {
        let deleted = self.trackru.delete(carrier, number).await;
        self.wrote(Vendor::TrackRu, &[number], &[], deleted).await
    }

    /// Registers trackings with TrackRU in batches of 40, an outcome per parcel (TrackRU's
    /// cached reads of the parcels it accepted are dropped).
    pub async fn trackru_create_many(
        &self,
        trackings: &[trackru::wire::CreateTracking],
    ) -> Vec<trackru::client::BatchItemResult> {
        let results = self.trackru.create_many(trackings).await;
        let accepted: Vec<&str> = results
            .iter()
            .filter(|r| matches!(r.outcome, trackru::client::BatchOutcome::Accepted))
            .map(|r| r.tracking_number.as_str())
            .collect();
        if !accepted.is_empty() {
            self.cache
                .invalidate_mentioning(Vendor::TrackRu, &accepted, &[])
                .await;
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
        self.wrote(Vendor::TrackRu, &[number], &[], updated).await
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

/// Maps a page read for the sync and sends it on; stops the reading when the receiver has gone
/// (the writer failed, and its error is the step's).
async fn send_mapped<W, M>(
    pages: &mpsc::Sender<Vec<M>>,
    rows: Vec<W>,
    map: impl Fn(&W) -> M,
) -> ControlFlow<()> {
    let page = rows.iter().map(map).collect();
    drop(rows);
    match pages.send(page).await {
        Ok(()) => ControlFlow::Continue(()),
        Err(_) => ControlFlow::Break(()),
    }
}

//! DataLoaders, one per cross-linked vendor resource, created per request. Each deduplicates
//! its keys and batches them onto what the vendor can batch; the vendor reads underneath are
//! cached and single-flighted across requests (see `upstream`).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::{DateTime, FixedOffset, NaiveDate};
use futures_util::future::join_all;

use super::customers::{ContactKey, ContactRecords, IdentityCache, IdentityLookup};
use crate::upstream::Upstreams;
use vendors::model::{Order, Shipment, TrackingStatus, Vendor};
use vendors::VendorError;

/// Orders by channel reference (ProCarrier `OrderReference`, V-Track `web_order_id`, TrackRU
/// `order_id`), as MerchantPro's `channel_ref_id`. A reference is never taken for a MerchantPro
/// id, even when it is all digits: that link would be false whenever the numbers collide.
pub struct OrderLoader(pub Arc<Upstreams>);

/// An order lookup's outcome: the vendor's failure is a value, cached for the request like an
/// order, so 100 rows asking a failed vendor make one attempt, not 100.
pub type OrderLookup = Result<Arc<Order>, Arc<VendorError>>;

impl Loader<String> for OrderLoader {
    type Value = OrderLookup;
    type Error = std::convert::Infallible;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, OrderLookup>, Self::Error> {
        match self.lookup(keys).await {
            Ok(found) => Ok(found.into_iter().map(|(k, o)| (k, Ok(o))).collect()),
            Err(e) => Ok(keys.iter().map(|k| (k.clone(), Err(e.clone()))).collect()),
        }
    }
}

impl OrderLoader {
    /// MerchantPro cannot filter by channel reference: the references are found in its
    /// listing (read once, cached).
    async fn lookup(
        &self,
        keys: &[String],
    ) -> Result<HashMap<String, Arc<Order>>, Arc<VendorError>> {
        let index = self.0.merchantpro_orders().await?;
        Ok(keys
            .iter()
            .filter_map(|key| Some((key.clone(), index.by_reference(key)?.clone())))
            .collect())
    }
}

/// One parcel as all tracking vendors know it: ProCarrier and TrackRU events merged in time
/// order, with the failures of a vendor that could not answer. The vendors' shipments are
/// shared with the cache, never copied; events are referred to by position.
#[derive(Debug, Default)]
pub struct MergedShipment {
    pub tracking_number: String,
    /// The shipments each vendor returned (at most one per vendor).
    pub parts: Vec<Arc<Shipment>>,
    /// `(part, event)` positions, oldest event first.
    order: Vec<(usize, usize)>,
    pub failures: Vec<Arc<VendorError>>,
}

impl MergedShipment {
    fn new(
        tracking_number: String,
        parts: Vec<Arc<Shipment>>,
        failures: Vec<Arc<VendorError>>,
    ) -> Self {
        let mut order: Vec<(usize, usize)> = parts
            .iter()
            .enumerate()
            .flat_map(|(p, part)| (0..part.events.len()).map(move |e| (p, e)))
            .collect();
        order.sort_by(|&(pa, ea), &(pb, eb)| {
            let (a, b) = (&parts[pa].events[ea], &parts[pb].events[eb]);
            a.at.cmp(&b.at).then(a.vendor.cmp(&b.vendor))
        });
        MergedShipment {
            tracking_number,
            parts,
            order,
            failures,
        }
    }

    pub fn found(&self) -> bool {
        !self.parts.is_empty()
    }

    /// Every vendor's events, oldest first, as `(shipment, index)` pairs.
    pub fn events(&self) -> impl Iterator<Item = (&Arc<Shipment>, usize)> {
        self.order.iter().map(|&(p, e)| (&self.parts[p], e))
    }

    /// The freshest word on the parcel: a status set by hand at a vendor (it stands until
    /// reverted), else the latest event's status, else the first vendor's.
    pub fn status(&self) -> Option<(TrackingStatus, &str, Vendor)> {
        if let Some(p) = self.parts.iter().find(|p| p.manual_status) {
            return Some((p.status, p.status_raw.as_str(), p.vendor));
        }
        if let Some(&(p, i)) = self.order.last() {
            let e = &self.parts[p].events[i];
            return Some((e.status, &e.status_raw, e.vendor));
        }
        self.parts
            .first()
            .map(|p| (p.status, p.status_raw.as_str(), p.vendor))
    }

    pub fn first<T>(&self, f: impl Fn(&Shipment) -> Option<T>) -> Option<T> {
        self.parts.iter().find_map(|p| f(p))
    }
}

/// A parcel to load: its tracking number and, when known, the UTC day its return or order was
/// created. Its events come after that day, so ProCarrier's range starts there, whatever the
/// parcel's age.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParcelKey {
    pub number: String,
    pub since: Option<NaiveDate>,
}

impl ParcelKey {
    pub fn new(number: String, created_at: Option<DateTime<FixedOffset>>) -> Self {
        ParcelKey {
            number,
            since: created_at.map(|t| t.to_utc().date_naive()),
        }
    }
}

/// Shipments by tracking number: ProCarrier events from `tracking/range` starting at the
/// oldest parcel's day (or `tracking/get` for a parcel asked for without one), TrackRU
/// trackings by `numbers=` in batches of 40.
pub struct ShipmentLoader(pub Arc<Upstreams>);

impl Loader<ParcelKey> for ShipmentLoader {
    type Value = Arc<MergedShipment>;
    type Error = std::convert::Infallible;

    async fn load(
        &self,
        keys: &[ParcelKey],
    ) -> Result<HashMap<ParcelKey, Self::Value>, Self::Error> {
        let numbers: Vec<String> = keys.iter().map(|k| k.number.clone()).collect();
        let undated: Vec<&str> = keys
            .iter()
            .filter(|k| k.since.is_none())
            .map(|k| k.number.as_str())
            .collect();
        let oldest = keys.iter().filter_map(|k| k.since).min();
        let (ranged, single, trackru) = tokio::join!(
            async {
                match oldest {
                    Some(day) => Some(self.0.procarrier_tracking_since(day).await),
                    None => None,
                }
            },
            join_all(
                undated
                    .iter()
                    .map(|n| self.0.procarrier_tracking_of((*n).to_owned()))
            ),
            self.0.trackru_by_numbers(numbers)
        );
        let single: HashMap<&str, _> = undated.into_iter().zip(single).collect();
        Ok(keys
            .iter()
            .map(|key| {
                // Each key carries the failures of the reads it needed.
                let mut failures: Vec<Arc<VendorError>> = Vec::new();
                let procarrier = match key.since {
                    Some(_) => match &ranged {
                        Some(Ok(by_number)) => by_number.get(&key.number).cloned(),
                        Some(Err(e)) => {
                            failures.push(e.clone());
                            None
                        }
                        None => None,
                    },
                    None => match single.get(key.number.as_str()) {
                        Some(Ok(found)) => (**found).clone(),
                        Some(Err(e)) => {
                            failures.push(e.clone());
                            None
                        }
                        None => None,
                    },
                };
                let trackru = match &trackru {
                    Ok(by_number) => by_number.get(&key.number).cloned(),
                    Err(e) => {
                        failures.push(e.clone());
                        None
                    }
                };
                let parts: Vec<Arc<Shipment>> = procarrier.into_iter().chain(trackru).collect();
                let merged = MergedShipment::new(key.number.clone(), parts, failures);
                (key.clone(), Arc::new(merged))
            })
            .collect())
    }
}

/// People by any of their contact keys, over every vendor's records as read for the batch
/// (linked once per change of those reads: see [`IdentityCache`]).
pub struct IdentityLoader {
    pub upstreams: Arc<Upstreams>,
    pub cache: Arc<IdentityCache>,
}

impl Loader<ContactKey> for IdentityLoader {
    type Value = IdentityLookup;
    type Error = std::convert::Infallible;

    async fn load(
        &self,
        keys: &[ContactKey],
    ) -> Result<HashMap<ContactKey, IdentityLookup>, Self::Error> {
        let records = Arc::new(ContactRecords::read(&self.upstreams).await);
        let identities = self.cache.identities(&records);
        Ok(keys
            .iter()
            .map(|key| {
                let lookup = IdentityLookup {
                    identity: identities.of(key),
                    records: records.clone(),
                };
                (key.clone(), lookup)
            })
            .collect())
    }
}

/// The loaders of one request. They remember what they loaded for the request, so a listing
/// can load all its rows' links in one batch up front ([`Loaders::prefetch`]) and the rows'
/// fields then find them: batches never depend on resolver timing.
pub struct Loaders {
    orders: DataLoader<OrderLoader, HashMapCache>,
    shipments: DataLoader<ShipmentLoader, HashMapCache>,
    identities: DataLoader<IdentityLoader, HashMapCache>,
    naive: bool,
}

impl Loaders {
    /// `naive`: one key per batch and no prefetch, the row-by-row baseline of the benchmarks.
    /// `fresh`: nothing is remembered between loads (a long-lived subscription session reads
    /// every event's links anew, through the vendor cache).
    pub fn new(
        up: &Arc<Upstreams>,
        identities: &Arc<IdentityCache>,
        naive: bool,
        fresh: bool,
    ) -> Self {
        let batch = if naive { 1 } else { 1000 };
        let loaders = Loaders {
            orders: DataLoader::with_cache(
                OrderLoader(up.clone()),
                crate::request_id::spawn,
                HashMapCache::default(),
            )
            .max_batch_size(batch),
            shipments: DataLoader::with_cache(
                ShipmentLoader(up.clone()),
                crate::request_id::spawn,
                HashMapCache::default(),
            )
            .max_batch_size(batch),
            identities: DataLoader::with_cache(
                IdentityLoader {
                    upstreams: up.clone(),
                    cache: identities.clone(),
                },
                crate::request_id::spawn,
                HashMapCache::default(),
            )
            .max_batch_size(batch),
            naive,
        };
        if fresh {
            loaders.orders.enable_all_cache(false);
            loaders.shipments.enable_all_cache(false);
            loaders.identities.enable_all_cache(false);
        }
        loaders
    }

    /// Loads, in one batch each, the orders and trackings a page's rows will ask for (empty:
    /// not asked for), so the rows then find them: batches never depend on resolver timing.
    pub async fn prefetch(&self, order_keys: Vec<String>, tracking_keys: Vec<ParcelKey>) {
        if self.naive {
            return;
        }
        let orders = async {
            if !order_keys.is_empty() {
                let _ = self.orders.load_many(order_keys).await;
            }
        };
        let shipments = async {
            if !tracking_keys.is_empty() {
                let _ = self.shipments.load_many(tracking_keys).await;
            }
        };
        tokio::join!(orders, shipments);
    }

    /// The shop order with channel reference `reference`: `Ok(None)` when MerchantPro does not
    /// know it.
    pub async fn order(&self, reference: String) -> Result<Option<Arc<Order>>, Arc<VendorError>> {
        match self.orders.load_one(reference).await {
            Ok(found) => found.transpose(),
            Err(never) => match never {},
        }
    }

    /// One parcel as every tracking vendor knows it (with the failures of those that could
    /// not answer).
    pub async fn shipment(&self, parcel: ParcelKey) -> Arc<MergedShipment> {
        match self.shipments.load_one(parcel).await {
            Ok(found) => found.expect("the shipment loader answers every key it is asked"),
            Err(never) => match never {},
        }
    }

    /// The identity `key` belongs to, with the records it was found in.
    pub async fn identity(&self, key: ContactKey) -> IdentityLookup {
        match self.identities.load_one(key).await {
            Ok(found) => found.expect("the identity loader answers every key it is asked"),
            Err(never) => match never {},
        }
    }

    /// The tenant's identity cache (lookups by a customer id's digest).
    pub(crate) fn identity_cache(&self) -> &IdentityCache {
        &self.identities.loader().cache
    }
}

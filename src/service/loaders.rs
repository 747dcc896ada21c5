//! DataLoaders, one per cross-linked resource, created per request. Each deduplicates its keys
//! and reads them in one batch: from the returns index once the vendor's backfill is done,
//! else batched onto what the vendor can batch, through reads cached and single-flighted
//! across requests (see `upstream`).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::{DateTime, FixedOffset, NaiveDate};
use futures_util::future::join_all;

use super::customers::{self, ContactKey, IdentityLookup, LinkedIdentity};
use crate::index::ReturnIndex;
use crate::upstream::Upstreams;
use vendors::model::{Order, Shipment, TrackingStatus, Vendor};
use vendors::VendorError;

/// Orders by channel reference (ProCarrier `OrderReference`, V-Track `web_order_id`, TrackRU
/// `order_id`), as MerchantPro's `channel_ref_id`. A reference is never taken for a MerchantPro
/// id, even when it is all digits: that link would be false whenever the numbers collide.
pub struct OrderLoader {
    pub upstreams: Arc<Upstreams>,
    pub index: ReturnIndex,
}

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
    /// From the index once MerchantPro's backfill is done. Before, from MerchantPro's listing
    /// (read once, cached): MerchantPro cannot filter by channel reference.
    async fn lookup(
        &self,
        keys: &[String],
    ) -> Result<HashMap<String, Arc<Order>>, Arc<VendorError>> {
        if self.index.sync_board().backfilled(Vendor::MerchantPro) {
            match self.index.orders_by_reference(keys).await {
                Ok(orders) => {
                    let mut found = HashMap::with_capacity(orders.len());
                    for o in orders {
                        if let Some(r) = o.reference.clone() {
                            found.entry(r).or_insert_with(|| Arc::new(o));
                        }
                    }
                    return Ok(found);
                }
                Err(e) => {
                    tracing::error!(error = %e, "the returns index failed; asking the vendor")
                }
            }
        }
        let index = self.upstreams.merchantpro_orders().await?;
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

/// Shipments by tracking number, from the index for each vendor whose backfill is done. Else
/// from the vendors: ProCarrier events from `tracking/range` starting at the oldest parcel's
/// day (or `tracking/get` for a parcel asked for without one), TrackRU trackings by `numbers=`
/// in batches of 40.
pub struct ShipmentLoader {
    pub upstreams: Arc<Upstreams>,
    pub index: ReturnIndex,
}

/// One vendor's shipment of a parcel (none when it does not know it), or its failure.
type Found = Result<Option<Arc<Shipment>>, Arc<VendorError>>;

impl ShipmentLoader {
    /// The index's shipments of `numbers` for each of `vendors`, or `None` when the index
    /// failed (the vendors are asked then).
    async fn indexed(
        &self,
        numbers: &[String],
        vendors: &[Vendor],
    ) -> Option<HashMap<Vendor, HashMap<String, Arc<Shipment>>>> {
        if vendors.is_empty() {
            return Some(HashMap::new());
        }
        match self.index.shipments(numbers).await {
            Ok(found) => {
                let mut by_vendor: HashMap<Vendor, HashMap<String, Arc<Shipment>>> =
                    vendors.iter().map(|&v| (v, HashMap::new())).collect();
                for s in found {
                    if let Some(part) = by_vendor.get_mut(&s.vendor) {
                        part.insert(s.tracking_number.clone(), Arc::new(s));
                    }
                }
                Some(by_vendor)
            }
            Err(e) => {
                tracing::error!(error = %e, "the returns index failed; asking the vendors");
                None
            }
        }
    }
}

impl Loader<ParcelKey> for ShipmentLoader {
    type Value = Arc<MergedShipment>;
    type Error = std::convert::Infallible;

    async fn load(
        &self,
        keys: &[ParcelKey],
    ) -> Result<HashMap<ParcelKey, Self::Value>, Self::Error> {
        let numbers: Vec<String> = keys.iter().map(|k| k.number.clone()).collect();
        let board = self.index.sync_board();
        let from_index: Vec<Vendor> = [Vendor::ProCarrier, Vendor::TrackRu]
            .into_iter()
            .filter(|&v| board.backfilled(v))
            .collect();
        let mut indexed = self
            .indexed(&numbers, &from_index)
            .await
            .unwrap_or_default();
        let procarrier_indexed = indexed.remove(&Vendor::ProCarrier);
        let trackru_indexed = indexed.remove(&Vendor::TrackRu);
        // A parcel asked for without a date (a lookup by number, not a listing's row) that
        // the index has no ProCarrier events of is asked of ProCarrier (`tracking/get`, cached):
        // a return without events yet is known to `tracking/get` only.
        let undated: Vec<&str> = keys
            .iter()
            .filter(|k| k.since.is_none())
            .filter(|k| {
                procarrier_indexed
                    .as_ref()
                    .is_none_or(|found| !found.contains_key(&k.number))
            })
            .map(|k| k.number.as_str())
            .collect();
        let oldest = keys.iter().filter_map(|k| k.since).min();
        let up = &self.upstreams;
        let (ranged, single, trackru) = tokio::join!(
            async {
                match (oldest, &procarrier_indexed) {
                    (Some(day), None) => Some(up.procarrier_tracking_since(day).await),
                    _ => None,
                }
            },
            join_all(
                undated
                    .iter()
                    .map(|n| up.procarrier_tracking_of((*n).to_owned())),
            ),
            async {
                match trackru_indexed {
                    Some(found) => Ok(found),
                    None => up
                        .trackru_by_numbers(numbers)
                        .await
                        .map(|found| (*found).clone()),
                }
            }
        );
        let single: HashMap<&str, _> = undated.into_iter().zip(single).collect();
        // Each vendor's part of one parcel: its shipment (if it has one), or the failure of
        // the read it needed; `None` when no read covered it.
        let procarrier_part = |key: &ParcelKey| -> Option<Found> {
            if let Some(found) = single.get(key.number.as_str()) {
                return Some(found.as_ref().map(|s| (**s).clone()).map_err(Clone::clone));
            }
            if let Some(found) = &procarrier_indexed {
                return Some(Ok(found.get(&key.number).cloned()));
            }
            let ranged = ranged.as_ref().filter(|_| key.since.is_some())?;
            Some(
                ranged
                    .as_ref()
                    .map(|m| m.get(&key.number).cloned())
                    .map_err(Clone::clone),
            )
        };
        let trackru_part = |key: &ParcelKey| -> Found {
            trackru
                .as_ref()
                .map(|m| m.get(&key.number).cloned())
                .map_err(Clone::clone)
        };
        Ok(keys
            .iter()
            .map(|key| {
                // Each key carries the failures of the reads it needed.
                let mut failures: Vec<Arc<VendorError>> = Vec::new();
                let mut parts: Vec<Arc<Shipment>> = Vec::new();
                for part in [procarrier_part(key), Some(trackru_part(key))]
                    .into_iter()
                    .flatten()
                {
                    match part {
                        Ok(found) => parts.extend(found),
                        Err(e) => failures.push(e),
                    }
                }
                let merged = MergedShipment::new(key.number.clone(), parts, failures);
                (key.clone(), Arc::new(merged))
            })
            .collect())
    }
}

/// People by any of their contact keys: the index walks the links between their keys and
/// finds every record naming one of them.
pub struct IdentityLoader(pub ReturnIndex);

impl Loader<ContactKey> for IdentityLoader {
    type Value = IdentityLookup;
    type Error = Arc<crate::index::StoreError>;

    async fn load(
        &self,
        keys: &[ContactKey],
    ) -> Result<HashMap<ContactKey, IdentityLookup>, Self::Error> {
        customers::look_up_many(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// Each key's identity alone (the contact links walked, no records read).
pub struct LinkedIdentityLoader(pub ReturnIndex);

impl Loader<ContactKey> for LinkedIdentityLoader {
    type Value = LinkedIdentity;
    type Error = Arc<crate::index::StoreError>;

    async fn load(
        &self,
        keys: &[ContactKey],
    ) -> Result<HashMap<ContactKey, LinkedIdentity>, Self::Error> {
        customers::identities_of(&self.0, keys)
            .await
            .map_err(Arc::new)
    }
}

/// The loaders of one request. They remember what they loaded for the request, so a listing
/// can load all its rows' links in one batch up front ([`Loaders::prefetch`]) and the rows'
/// fields then find them: batches never depend on resolver timing.
pub struct Loaders {
    orders: DataLoader<OrderLoader, HashMapCache>,
    shipments: DataLoader<ShipmentLoader, HashMapCache>,
    identities: DataLoader<IdentityLoader, HashMapCache>,
    linked_identities: DataLoader<LinkedIdentityLoader, HashMapCache>,
    naive: bool,
}

impl Loaders {
    /// `naive`: one key per batch and no prefetch, the row-by-row baseline of the benchmarks.
    /// `fresh`: nothing is remembered between loads (a long-lived subscription session reads
    /// every event's links anew, through the vendor cache).
    pub fn new(up: &Arc<Upstreams>, index: &ReturnIndex, naive: bool, fresh: bool) -> Self {
        let batch = if naive { 1 } else { 1000 };
        let loaders = Loaders {
            orders: DataLoader::with_cache(
                OrderLoader {
                    upstreams: up.clone(),
                    index: index.clone(),
                },
                crate::request_id::spawn,
                HashMapCache::default(),
            )
            .max_batch_size(batch),
            shipments: DataLoader::with_cache(
                ShipmentLoader {
                    upstreams: up.clone(),
                    index: index.clone(),
                },
                crate::request_id::spawn,
                HashMapCache::default(),
            )
            .max_batch_size(batch),
            identities: DataLoader::with_cache(
                IdentityLoader(index.clone()),
                crate::request_id::spawn,
                HashMapCache::default(),
            )
            .max_batch_size(batch),
            linked_identities: DataLoader::with_cache(
                LinkedIdentityLoader(index.clone()),
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
            loaders.linked_identities.enable_all_cache(false);
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

    /// The identity `key` belongs to, with the records naming them.
    pub async fn identity(&self, key: ContactKey) -> Result<IdentityLookup, super::ServiceError> {
        match self.identities.load_one(key).await {
            Ok(found) => Ok(found.expect("the identity loader answers every key it is asked")),
            Err(e) => Err(super::ServiceError::Index(e)),
        }
    }

    /// The identity `key` belongs to, without the records naming them.
    pub async fn linked_identity(
        &self,
        key: ContactKey,
    ) -> Result<LinkedIdentity, super::ServiceError> {
        match self.linked_identities.load_one(key).await {
            Ok(found) => Ok(found.expect("the identity loader answers every key it is asked")),
            Err(e) => Err(super::ServiceError::Index(e)),
        }
    }
}

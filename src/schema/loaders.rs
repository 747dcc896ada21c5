//! DataLoaders, one per cross-linked vendor resource, created per request. Each deduplicates
//! its keys and batches them onto what the vendor can batch; the vendor reads underneath are
//! cached and single-flighted across requests (see `upstream`).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::model::{Order, Shipment, TrackingEvent, TrackingStatus, Vendor};
use crate::upstream::Upstreams;
use crate::vendors::VendorError;

/// Orders by reference: a MerchantPro id (RRR's `order_id`) or a channel reference
/// (ProCarrier `OrderReference`, V-Track `web_order_id`, TrackRU `order_id`).
pub struct OrderLoader(pub Arc<Upstreams>);

impl Loader<String> for OrderLoader {
    type Value = Arc<Order>;
    type Error = Arc<VendorError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Arc<Order>>, Self::Error> {
        let ids: Vec<u64> = keys.iter().filter_map(|k| k.parse().ok()).collect();
        let mut found = HashMap::with_capacity(keys.len());
        if !ids.is_empty() {
            let by_id = self.0.merchantpro_orders_by_id(ids).await?;
            for key in keys {
                if let Some(o) = by_id.get(key) {
                    found.insert(key.clone(), o.clone());
                }
            }
        }
        // MerchantPro cannot filter by channel reference: those come from its listing.
        if keys.iter().any(|k| !found.contains_key(k)) {
            let index = self.0.merchantpro_orders().await?;
            for key in keys {
                if !found.contains_key(key) {
                    if let Some(o) = index.get(key) {
                        found.insert(key.clone(), o.clone());
                    }
                }
            }
        }
        Ok(found)
    }
}

/// One parcel as all tracking vendors know it: ProCarrier and TrackRU events merged in time
/// order, with the failures of a vendor that could not answer.
#[derive(Debug, Default)]
pub struct MergedShipment {
    pub tracking_number: String,
    /// The shipments each vendor returned (at most one per vendor).
    pub parts: Vec<Shipment>,
    pub events: Vec<TrackingEvent>,
    pub failures: Vec<Arc<VendorError>>,
}

impl MergedShipment {
    fn new(tracking_number: String, parts: Vec<Shipment>, failures: Vec<Arc<VendorError>>) -> Self {
        let mut events: Vec<TrackingEvent> = parts.iter().flat_map(|p| p.events.clone()).collect();
        events.sort_by(|a, b| a.at.cmp(&b.at).then(a.vendor.cmp(&b.vendor)));
        MergedShipment {
            tracking_number,
            parts,
            events,
            failures,
        }
    }

    pub fn found(&self) -> bool {
        !self.parts.is_empty()
    }

    /// The freshest word on the parcel: the latest event's status, else the first vendor's.
    pub fn status(&self) -> Option<(TrackingStatus, &str, Vendor)> {
        if let Some(e) = self.events.last() {
            return Some((e.status, &e.status_raw, e.vendor));
        }
        self.parts
            .first()
            .map(|p| (p.status, p.status_raw.as_str(), p.vendor))
    }

    pub fn first<T>(&self, f: impl Fn(&Shipment) -> Option<T>) -> Option<T> {
        self.parts.iter().find_map(f)
    }
}

/// Shipments by tracking number: ProCarrier events from its `tracking/range` listing, TrackRU
/// trackings by `numbers=` in batches of 40.
pub struct ShipmentLoader(pub Arc<Upstreams>);

impl Loader<String> for ShipmentLoader {
    type Value = Arc<MergedShipment>;
    type Error = std::convert::Infallible;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let (procarrier, trackru) = tokio::join!(
            self.0.procarrier_tracking(),
            self.0.trackru_by_numbers(keys.to_vec())
        );
        let mut failures = Vec::new();
        for outcome in [procarrier.as_ref().err(), trackru.as_ref().err()]
            .into_iter()
            .flatten()
        {
            failures.push(outcome.clone());
        }
        Ok(keys
            .iter()
            .map(|key| {
                let parts: Vec<Shipment> = [
                    procarrier.as_ref().ok().and_then(|m| m.get(key)),
                    trackru.as_ref().ok().and_then(|m| m.get(key)),
                ]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
                let merged = MergedShipment::new(key.clone(), parts, failures.clone());
                (key.clone(), Arc::new(merged))
            })
            .collect())
    }
}

/// The loaders of one request.
pub struct Loaders {
    pub orders: DataLoader<OrderLoader>,
    pub shipments: DataLoader<ShipmentLoader>,
}

impl Loaders {
    pub fn new(up: &Arc<Upstreams>) -> Self {
        Loaders {
            orders: DataLoader::new(OrderLoader(up.clone()), tokio::spawn),
            shipments: DataLoader::new(ShipmentLoader(up.clone()), tokio::spawn),
        }
    }
}

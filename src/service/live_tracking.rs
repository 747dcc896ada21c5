//! A parcel chased live and a parcel no longer tracked: TrackRU's `realtime` (the carrier
//! asked now; slow, costly, and allowed once per parcel per two hours) and tracking delete.
//!
//! The two hours are the gateway's rule too: each live read is kept in the index's keyed,
//! expiring store (the one idempotency keys live in) until its window closes, on the gateway's
//! clock, so a refresh inside the window answers the kept read without calling TrackRU — across
//! restarts and, with a shared store, across replicas.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use vendors::model::{Shipment, Vendor};
use vendors::trackru::{mapping as tr_map, wire as tr};

use super::error::{Result, ServiceError};
use super::validate;
use super::writes::{Outcome, Write};
use super::Service;
use crate::index::StoredOutcome;
use crate::upstream::Upstreams;

/// TrackRU's rule: one realtime read of a parcel per two hours.
pub const REALTIME_INTERVAL: Duration = Duration::hours(2);

/// The keyed store's operation name for kept live reads (apart from every mutation's).
const REALTIME_WINDOW: &str = "trackru.realtime";

/// The live reads in flight in this process, one lock per parcel.
#[derive(Debug, Default)]
pub struct RealtimeFlights(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl RealtimeFlights {
    fn slot(&self, parcel: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.0.lock().entry(parcel.to_owned()).or_default().clone()
    }

    /// Drops the parcel's lock once nobody holds or waits for it.
    fn release(&self, parcel: &str) {
        let mut flights = self.0.lock();
        if flights
            .get(parcel)
            .is_some_and(|s| Arc::strong_count(s) <= 1)
        {
            flights.remove(parcel);
        }
    }
}

/// A parcel's live read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshedTracking {
    pub tracking_number: String,
    pub carrier_code: String,
    /// When TrackRU was asked.
    pub refreshed_at: DateTime<Utc>,
    /// The earliest the vendor allows the next live read.
    pub next_refresh_at: DateTime<Utc>,
    /// Answered from the read kept inside the window, without calling TrackRU.
    pub from_cache: bool,
    pub shipment: Arc<Shipment>,
}

/// What untracking answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UntrackedParcel {
    pub tracking_number: String,
    pub carrier_code: String,
}

/// A tracking number as TrackRU takes it, or `trackingNumber` named.
fn tracking_number(raw: &str) -> Result<String> {
    let number = validate::required("trackingNumber", raw)?;
    if !number
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ServiceError::invalid(
            "trackingNumber",
            "letters, digits and `-` only",
        ));
    }
    Ok(number)
}

impl Service {
    /// The carrier code to ask TrackRU with: the caller's, else the one TrackRU's row in the
    /// index has for the parcel.
    async fn carrier_of(&self, number: &str, given: Option<&str>) -> Result<String> {
        if let Some(c) = given {
            return Ok(validate::required("carrierCode", c)?.to_ascii_lowercase());
        }
        let rows = self.index.shipments(&[number.to_owned()]).await?;
        rows.into_iter()
            .find(|s| s.vendor == Vendor::TrackRu)
            .and_then(|s| s.carrier)
            .map(|c| c.to_ascii_lowercase())
            .ok_or_else(|| {
                ServiceError::invalid(
                    "carrierCode",
                    "TrackRU does not track this parcel: give its carrier code",
                )
            })
    }

    /// The live read of a parcel kept inside its window, if any.
    async fn kept_realtime(&self, window_key: &str) -> Option<RefreshedTracking> {
        let now = self.clock.now().timestamp_millis();
        match self
            .index
            .idempotency_get(REALTIME_WINDOW, window_key, now)
            .await
        {
            Ok(Some((_, kept))) => serde_json::from_str(&kept)
                .map_err(|e| tracing::warn!(error = %e, "a kept live read does not read back"))
                .ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "kept live reads cannot be read");
                None
            }
        }
    }

    /// Keeps a live read until its window closes.
    async fn keep_realtime(&self, window_key: &str, read: &RefreshedTracking) {
        let outcome = serde_json::to_string(read).expect("live reads serialise to JSON");
        let entry = StoredOutcome {
            fingerprint: "",
            outcome: &outcome,
            expires_at: read.next_refresh_at.timestamp_millis(),
        };
        let now = self.clock.now().timestamp_millis();
        if let Err(e) = self
            .index
            .idempotency_put(REALTIME_WINDOW, window_key, &entry, now)
            .await
        {
            tracing::error!(error = %e, "a live read could not be kept; the vendor's 429 will guard");
        }
    }

    /// Asks TrackRU's carrier live for a parcel, at most once per two hours per parcel
    /// (inside the window the kept read is answered); once per idempotency `key`.
    pub async fn refresh_tracking(
        &self,
        number: &str,
        carrier: Option<&str>,
        key: Option<&str>,
    ) -> Result<RefreshedTracking> {
        let number = tracking_number(number)?;
        let carrier = self.carrier_of(&number, carrier).await?;
        let window_key = format!("{carrier}/{number}");
        let write = Write::new("refreshTracking", key, &(&carrier, &number));
        let refreshed = self
            .write_once(write, |up| async move {
                // One live read of a parcel at a time: concurrent refreshes wait for it and
                // answer what it kept, rather than each calling (and meeting the 429).
                let slot = self.realtime_flights.slot(&window_key);
                let read = {
                    let _held = slot.lock().await;
                    self.realtime_read(&up, number, carrier, &window_key).await
                };
                drop(slot);
                self.realtime_flights.release(&window_key);
                read
            })
            .await?;
        Ok(refreshed)
    }

    /// The kept live read of a parcel inside its window, else a new one (kept and indexed).
    async fn realtime_read(
        &self,
        up: &Upstreams,
        number: String,
        carrier: String,
        window_key: &str,
    ) -> Outcome<RefreshedTracking> {
        if let Some(kept) = self.kept_realtime(window_key).await {
            return Ok(RefreshedTracking {
                from_cache: true,
                ..kept
            });
        }
        let request = tr::RealtimeRequest {
            tracking_number: number.clone(),
            carrier_code: carrier.clone(),
            destination_code: None,
            lang: None,
        };
        let answer = up.trackru_realtime(&request).await.map_err(Arc::new)?;
        // The carrier knowing nothing is an answer too (`notfound`).
        let unknown = tr::Tracking {
            tracking_number: number.clone(),
            carrier_code: carrier.clone(),
            status: Some("notfound".into()),
            ..Default::default()
        };
        let shipment = tr_map::shipment(answer.items.first().unwrap_or(&unknown));
        let refreshed_at = self.clock.now();
        let read = RefreshedTracking {
            tracking_number: number,
            carrier_code: carrier,
            refreshed_at,
            next_refresh_at: refreshed_at + REALTIME_INTERVAL,
            from_cache: false,
            shipment: Arc::new(shipment),
        };
        self.keep_realtime(window_key, &read).await;
        // Only a parcel TrackRU tracks has a row to update.
        if answer.items.first().is_some_and(|t| t.id.is_some()) {
            self.index_rows(
                self.index
                    .upsert_shipments(&[(*read.shipment).clone()])
                    .await,
            );
        }
        Ok(read)
    }

    /// Stops tracking a parcel at TrackRU (once per idempotency `key`) and drops TrackRU's
    /// row of it from the index.
    pub async fn untrack_parcel(
        &self,
        carrier: &str,
        number: &str,
        key: Option<&str>,
    ) -> Result<UntrackedParcel> {
        let carrier = validate::required("carrierCode", carrier)?.to_ascii_lowercase();
        let number = tracking_number(number)?;
        let write = Write::new("untrackParcel", key, &(&carrier, &number));
        let untracked = self
            .write_once(write, |up| async move {
                up.trackru_delete(&carrier, &number)
                    .await
                    .map_err(Arc::new)?;
                Ok(UntrackedParcel {
                    tracking_number: number,
                    carrier_code: carrier,
                })
            })
            .await?;
        self.index_rows(
            self.index
                .delete_shipments(
                    Vendor::TrackRu,
                    std::slice::from_ref(&untracked.tracking_number),
                )
                .await,
        );
        Ok(untracked)
    }
}

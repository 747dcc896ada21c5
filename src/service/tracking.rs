//! Tracking writes: parcels registered with TrackRU (a result per parcel), TrackRU's manual
//! status overrides, and events recorded on ProCarrier returns. Reading a parcel's merged
//! tracking goes through the request's loaders (`super::loaders`).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use vendors::model::{Shipment, TrackingStatus};
use vendors::procarrier::{mapping as pc_map, wire as pc};
use vendors::trackru::client::BatchOutcome;
use vendors::trackru::{mapping as tr_map, wire as tr};

use super::error::{Result, ServiceError};
use super::validate;
use super::writes::Write;
use super::Service;

/// A parcel to register with TrackRU, as the caller gave it.
#[derive(Debug, Clone, Serialize)]
pub struct ParcelToTrack {
    pub tracking_number: String,
    /// The carrier's TrackRU / TrackingMore code, e.g. `dhl`.
    pub carrier_code: String,
    pub order_reference: Option<String>,
    pub title: Option<String>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    /// ISO-3166 alpha-2.
    pub destination_country: Option<String>,
}

/// What became of one parcel sent to TrackRU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParcelOutcome {
    Accepted,
    AlreadyTracked,
    /// TrackRU refused it (with its code and reason).
    Rejected,
    /// Its batch failed as a whole: not known to be tracked; safe to send again.
    NotSent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParcelResult {
    pub tracking_number: String,
    pub carrier_code: Option<String>,
    pub outcome: ParcelOutcome,
    /// The vendor's code (or ours, for a batch not sent), when it was not accepted.
    pub code: Option<String>,
    pub reason: Option<String>,
}

/// One result per parcel, in the order given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrackedParcels {
    pub results: Vec<ParcelResult>,
}

impl TrackedParcels {
    pub fn count(&self, outcome: ParcelOutcome) -> usize {
        self.results.iter().filter(|r| r.outcome == outcome).count()
    }
}

/// A manual status at TrackRU, or back to the carrier's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StatusOverride {
    /// TrackRU status 4.
    Delivered,
    /// TrackRU status 7.
    Exception,
    /// TrackRU command 8: the carrier's own status again.
    Revert,
}

/// A parcel's status after an override.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OverriddenStatus {
    pub tracking_number: String,
    pub carrier_code: String,
    pub status: TrackingStatus,
    pub status_raw: String,
    /// The parcel as TrackRU answered (what the index is updated with).
    pub shipment: Arc<Shipment>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EventLocation {
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
}

/// An event to record on a ProCarrier return.
#[derive(Debug, Clone)]
pub struct NewTrackingEvent {
    pub tracking_number: String,
    /// One of ProCarrier's documented codes (20 received by carrier, 60 delivered to the
    /// retailer, …).
    pub status_code: i32,
    pub at: DateTime<FixedOffset>,
    pub description: Option<String>,
    pub location: Option<EventLocation>,
}

/// The event as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub tracking_number: String,
    pub status_code: i32,
    pub status: TrackingStatus,
    pub at: DateTime<FixedOffset>,
}

/// The vendor requests for `parcels`, or the first invalid field (paths under `parcels`).
fn tracking_requests(parcels: &[ParcelToTrack]) -> Result<Vec<tr::CreateTracking>> {
    if parcels.is_empty() || parcels.len() > 1000 {
        return Err(ServiceError::invalid(
            "parcels",
            "between 1 and 1000 parcels",
        ));
    }
    let mut seen = HashSet::new();
    parcels
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let field = |name: &str| format!("parcels[{i}].{name}");
            let number = validate::required(&field("trackingNumber"), &p.tracking_number)?;
            if !number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(ServiceError::invalid(
                    field("trackingNumber"),
                    "letters, digits and `-` only",
                ));
            }
            if !seen.insert(number.clone()) {
                return Err(ServiceError::invalid(
                    field("trackingNumber"),
                    "given twice",
                ));
            }
            let carrier =
                validate::required(&field("carrierCode"), &p.carrier_code)?.to_ascii_lowercase();
            let country = validate::optional(p.destination_country.as_deref(), |c| {
                validate::country(&field("destinationCountry"), c)
            })?;
            let email = validate::optional(p.customer_email.as_deref(), |e| {
                validate::email(&field("customerEmail"), e)
            })?;
            let phone = validate::optional(p.customer_phone.as_deref(), |ph| {
                validate::phone(&field("customerPhone"), ph, country.as_deref())
            })?;
            Ok(tr::CreateTracking {
                tracking_number: number,
                carrier_code: Some(carrier),
                destination_code: country,
                title: p.title.clone(),
                customer_name: p.customer_name.clone(),
                customer_email: email,
                customer_phone: phone,
                order_id: p.order_reference.clone(),
                ..Default::default()
            })
        })
        .collect()
}

impl Service {
    /// Registers `parcels` with TrackRU in batches of 40 (once per idempotency `key`), with a
    /// result per parcel.
    pub async fn track_parcels(
        &self,
        parcels: &[ParcelToTrack],
        key: Option<&str>,
    ) -> Result<TrackedParcels> {
        let requests = tracking_requests(parcels)?;
        let write = Write::new("trackParcels", key, parcels);
        let tracked = self
            .write_once(write, |up| async move {
                let results = up
                    .trackru_create_many(&requests)
                    .await
                    .into_iter()
                    .map(|r| {
                        let (outcome, code, reason) = match r.outcome {
                            BatchOutcome::Accepted => (ParcelOutcome::Accepted, None, None),
                            BatchOutcome::AlreadyExists => {
                                (ParcelOutcome::AlreadyTracked, None, None)
                            }
                            BatchOutcome::Rejected(e) => (
                                ParcelOutcome::Rejected,
                                Some(e.vendor_code),
                                Some(e.message),
                            ),
                            BatchOutcome::NotSent(e) => (
                                ParcelOutcome::NotSent,
                                Some(e.code().as_str().to_owned()),
                                Some(e.to_string()),
                            ),
                        };
                        ParcelResult {
                            tracking_number: r.tracking_number,
                            carrier_code: r.carrier_code,
                            outcome,
                            code,
                            reason,
                        }
                    })
                    .collect();
                Ok(TrackedParcels { results })
            })
            .await?;
        // Read back and indexed, so the next query shows them (TrackRU answers a creation
        // without the parcel's tracking).
        let registered: Vec<String> = tracked
            .results
            .iter()
            .filter(|r| {
                matches!(
                    r.outcome,
                    ParcelOutcome::Accepted | ParcelOutcome::AlreadyTracked
                )
            })
            .map(|r| r.tracking_number.clone())
            .collect();
        if !registered.is_empty() {
            match self.up.trackru_by_numbers(registered).await {
                Ok(found) => {
                    let shipments: Vec<Shipment> = found.values().map(|s| (**s).clone()).collect();
                    self.index_rows(self.index.upsert_shipments(&shipments).await);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "registered parcels not read back; the sync will")
                }
            }
        }
        Ok(tracked)
    }

    /// Sets a parcel's TrackRU status by hand, or reverts it (once per idempotency `key`).
    pub async fn override_tracking_status(
        &self,
        carrier_code: &str,
        tracking_number: &str,
        status: StatusOverride,
        key: Option<&str>,
    ) -> Result<OverriddenStatus> {
        let carrier = validate::required("carrierCode", carrier_code)?.to_ascii_lowercase();
        let number = validate::required("trackingNumber", tracking_number)?;
        let command = match status {
            StatusOverride::Delivered => 4,
            StatusOverride::Exception => 7,
            StatusOverride::Revert => 8,
        };
        let write = Write::new("overrideTrackingStatus", key, &(&carrier, &number, status));
        let overridden = self
            .write_once(write, |up| async move {
                let update = tr::UpdateTracking {
                    status: Some(command),
                    ..Default::default()
                };
                let tracking = up
                    .trackru_update(&carrier, &number, &update)
                    .await
                    .map_err(Arc::new)?;
                let shipment = tr_map::shipment(&tracking);
                Ok(OverriddenStatus {
                    tracking_number: shipment.tracking_number.clone(),
                    carrier_code: carrier,
                    status: shipment.status,
                    status_raw: shipment.status_raw.clone(),
                    shipment: Arc::new(shipment),
                })
            })
            .await?;
        self.index_rows(
            self.index
                .upsert_shipments(&[(*overridden.shipment).clone()])
                .await,
        );
        Ok(overridden)
    }

    /// Records an event on a ProCarrier return (once per idempotency `key`).
    pub async fn add_tracking_event(
        &self,
        event: &NewTrackingEvent,
        key: Option<&str>,
    ) -> Result<RecordedEvent> {
        let number = validate::required("trackingNumber", &event.tracking_number)?;
        let status = pc_map::tracking_status(i64::from(event.status_code)).ok_or_else(|| {
            ServiceError::invalid(
                "statusCode",
                format!("{} is not a ProCarrier status code", event.status_code),
            )
        })?;
        let location = match &event.location {
            Some(l) => Some(pc::EventLocation {
                country: validate::optional(l.country.as_deref(), |c| {
                    validate::country("location.country", c)
                })?,
                state: l.state.clone(),
                city: l.city.clone(),
            }),
            None => None,
        };
        let request = pc::NewTrackingStatus {
            tracking_number: number.clone(),
            date: pc_map::format_filter_date(event.at),
            status: i64::from(event.status_code),
            description: event.description.clone(),
            location,
            ..Default::default()
        };
        let write = Write::new("addTrackingEvent", key, &request);
        let (status_code, at) = (event.status_code, event.at);
        let recorded = self
            .write_once(write, |up| async move {
                up.procarrier_add_tracking(&request)
                    .await
                    .map_err(Arc::new)?;
                Ok(RecordedEvent {
                    tracking_number: number,
                    status_code,
                    status,
                    at,
                })
            })
            .await?;
        // The parcel's events read back into the index, so the next query shows the new one.
        match self
            .up
            .procarrier_tracking_of(recorded.tracking_number.clone())
            .await
        {
            Ok(found) => {
                if let Some(shipment) = &*found {
                    self.index_rows(self.index.upsert_shipments(&[(**shipment).clone()]).await)
                }
            }
            Err(e) => tracing::warn!(error = %e, "the new event not read back; the sync will"),
        }
        Ok(recorded)
    }
}

//! Wire types → unified model.
//!
//! A TrackRU tracking becomes a [`Shipment`]; its checkpoints (`origin_info.trackinfo[]`, then
//! `destination_info.trackinfo[]`, TrackingMore's shape — TrackRU's doc shows none) become
//! [`TrackingEvent`]s in time order. A tracking without checkpoint blocks maps to a shipment
//! with no events.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, Utc};

use super::wire::{Checkpoint, Tracking};
use crate::escaped::Escaped;
use crate::model::{Customer, Location, Shipment, TrackingEvent, TrackingStatus, Vendor};

/// Tracking `status` strings (TrackingMore v2's set).
pub const TRACKING_STATUSES: &[(&str, TrackingStatus)] = &[
    // Just added, nothing fetched from the carrier yet.
    ("pending", TrackingStatus::Pending),
    // The carrier has nothing (yet) for this number: still waiting, from our side.
    ("notfound", TrackingStatus::Pending),
    ("transit", TrackingStatus::InTransit),
    // TrackingMore's "pickup" covers "out for delivery" and "ready for collection"; couriers
    // (our carriers are ACS, ELTA, DHL home deliveries) mostly mean the former, so
    // OutForDelivery. Which one it was stays in `status_raw` and the checkpoint's description.
    ("pickup", TrackingStatus::OutForDelivery),
    ("delivered", TrackingStatus::Delivered),
    // Delivery attempted, not completed.
    ("undelivered", TrackingStatus::AttemptFail),
    ("exception", TrackingStatus::Exception),
    ("expired", TrackingStatus::Expired),
];

/// Manual overrides set with `PUT … {"status": 4|7}`, which the vendor then reports as the bare
/// numbers (`"status": "7"` in the doc's sample). They stand until the update command `8`
/// gives the carrier's own status back.
pub const MANUAL_OVERRIDES: &[(&str, TrackingStatus)] = &[
    ("4", TrackingStatus::Delivered),
    ("7", TrackingStatus::Exception),
];

/// `checkpoint_status` of one `trackinfo[]` entry: the same strings, except that a checkpoint
/// marked `pending` exists, so the carrier has the shipment's data (InfoReceived), not nothing.
pub const CHECKPOINT_STATUSES: &[(&str, TrackingStatus)] = &[
    ("pending", TrackingStatus::InfoReceived),
    ("notfound", TrackingStatus::Pending),
    ("transit", TrackingStatus::InTransit),
    ("pickup", TrackingStatus::OutForDelivery),
    ("delivered", TrackingStatus::Delivered),
    ("undelivered", TrackingStatus::AttemptFail),
    ("exception", TrackingStatus::Exception),
    ("expired", TrackingStatus::Expired),
];

fn lookup(table: &[(&str, TrackingStatus)], raw: &str) -> Option<TrackingStatus> {
    let raw = raw.trim();
    table
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(raw))
        .map(|(_, status)| *status)
}

/// A tracking's `status`, a manual override included; `None` for a code the vendor does not
/// document.
pub fn tracking_status(raw: &str) -> Option<TrackingStatus> {
    lookup(TRACKING_STATUSES, raw).or_else(|| manual_override(raw))
}

/// The status a manual override (`4`/`7`) set, if `raw` is one.
pub fn manual_override(raw: &str) -> Option<TrackingStatus> {
    lookup(MANUAL_OVERRIDES, raw)
}

/// A checkpoint's `checkpoint_status`; `None` for a code the vendor does not document.
pub fn checkpoint_status(raw: &str) -> Option<TrackingStatus> {
    lookup(CHECKPOINT_STATUSES, raw)
}

/// RFC 3339 (the tracking's own timestamps), or TrackingMore's checkpoint format
/// `YYYY-MM-DD HH:MM:SS`, which carries no offset: it is read in `local` (the offset of the
/// tracking's own timestamps, which is the account's time zone), or UTC without one.
pub fn parse_date(raw: &str, local: Option<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at);
    }
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M"))
        .ok()?;
    let offset = local.unwrap_or_else(|| Utc.fix());
    naive.and_local_timezone(offset).single()
}

/// A tracking as a [`Shipment`]. A missing or undocumented status takes the status of the
/// latest checkpoint, or `Pending` without one (we know nothing certain about the parcel); the
/// raw code is kept in `status_raw` either way.
pub fn shipment(t: &Tracking) -> Shipment {
    let created_at = t.created_at.as_deref().and_then(|s| parse_date(s, None));
    let updated_at = t.updated_at.as_deref().and_then(|s| parse_date(s, None));
    let local = updated_at.or(created_at).map(|at| *at.offset());
    let status_raw = t.status.clone().unwrap_or_default();
    let manual_status = manual_override(&status_raw).is_some();
    let destination_country = non_empty(t.destination_code.as_deref())
        .or_else(|| non_empty(t.destination_country.as_deref()))
        .map(str::to_ascii_uppercase);
    let customer = Customer::from_raw(
        Vendor::TrackRu,
        t.customer_name.as_deref(),
        t.customer_email.as_deref(),
        t.customer_phone.as_deref(),
        destination_country.as_deref(),
    );
    let has_customer =
        customer.name.is_some() || customer.email_raw.is_some() || customer.phone_raw.is_some();
    let events = events(t, local);
    let status = tracking_status(&status_raw)
        .or_else(|| events.last().map(|e| e.status))
        .unwrap_or(TrackingStatus::Pending);
    Shipment {
        vendor: Vendor::TrackRu,
        id: non_empty(t.id.as_deref()).map(str::to_owned),
        tracking_number: t.tracking_number.trim().to_owned(),
        carrier: non_empty(Some(&t.carrier_code)).map(str::to_owned),
        status,
        status_raw,
        order_reference: non_empty(t.order_id.as_deref()).map(str::to_owned),
        customer: has_customer.then_some(customer),
        destination_country,
        created_at,
        updated_at,
        archived: t
            .archived
            .as_deref()
            .is_some_and(|a| a.trim().eq_ignore_ascii_case("true")),
        manual_status,
        events,
    }
}

/// Checkpoints of both carriers, oldest first. A checkpoint whose date cannot be read is
/// skipped (an event without a time cannot be placed); one without a documented status is
/// `InTransit` (the carrier did scan it) with its raw status kept.
fn events(t: &Tracking, local: Option<FixedOffset>) -> Vec<TrackingEvent> {
    let checkpoints = [&t.origin_info, &t.destination_info]
        .into_iter()
        .flatten()
        .flat_map(|info| info.trackinfo.iter());
    let mut events: Vec<TrackingEvent> = checkpoints.filter_map(|c| event(t, c, local)).collect();
    // Stable: checkpoints at the same minute keep the vendor's order among themselves.
    events.sort_by_key(|e| e.at);
    events
}

fn event(t: &Tracking, c: &Checkpoint, local: Option<FixedOffset>) -> Option<TrackingEvent> {
    let Some(at) = parse_date(&c.date, local) else {
        tracing::warn!(
            tracking_number = %Escaped(&t.tracking_number),
            date = %Escaped(&c.date),
            "trackru checkpoint with an unreadable date skipped"
        );
        return None;
    };
    let status_raw = c.checkpoint_status.clone().unwrap_or_default();
    Some(TrackingEvent {
        vendor: Vendor::TrackRu,
        id: None,
        tracking_number: t.tracking_number.trim().to_owned(),
        at,
        status: checkpoint_status(&status_raw).unwrap_or(TrackingStatus::InTransit),
        status_raw,
        description: non_empty(c.status_description.as_deref()).map(str::to_owned),
        location: non_empty(c.details.as_deref()).map(|text| Location {
            text: Some(text.to_owned()),
            ..Location::default()
        }),
    })
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trackru::wire::{CarrierInfo, Envelope};

    #[test]
    fn tracking_statuses_row_by_row() {
        assert_eq!(tracking_status("pending"), Some(TrackingStatus::Pending));
        assert_eq!(tracking_status("notfound"), Some(TrackingStatus::Pending));
        assert_eq!(tracking_status("transit"), Some(TrackingStatus::InTransit));
        assert_eq!(
            tracking_status("pickup"),
            Some(TrackingStatus::OutForDelivery)
        );
        assert_eq!(
            tracking_status("delivered"),
            Some(TrackingStatus::Delivered)
        );
        assert_eq!(
            tracking_status("undelivered"),
            Some(TrackingStatus::AttemptFail)
        );
        assert_eq!(
            tracking_status("exception"),
            Some(TrackingStatus::Exception)
        );
        assert_eq!(tracking_status("expired"), Some(TrackingStatus::Expired));
        assert_eq!(tracking_status("4"), Some(TrackingStatus::Delivered));
        assert_eq!(tracking_status("7"), Some(TrackingStatus::Exception));
        assert_eq!(
            tracking_status(" Delivered "),
            Some(TrackingStatus::Delivered)
        );
        assert_eq!(tracking_status("8"), None);
        assert_eq!(tracking_status("lost"), None);
    }

    #[test]
    fn checkpoint_statuses_row_by_row() {
        assert_eq!(
            checkpoint_status("pending"),
            Some(TrackingStatus::InfoReceived)
        );
        assert_eq!(checkpoint_status("notfound"), Some(TrackingStatus::Pending));
        assert_eq!(
            checkpoint_status("transit"),
            Some(TrackingStatus::InTransit)
        );
        assert_eq!(
            checkpoint_status("pickup"),
            Some(TrackingStatus::OutForDelivery)
        );
        assert_eq!(
            checkpoint_status("delivered"),
            Some(TrackingStatus::Delivered)
        );
        assert_eq!(
            checkpoint_status("undelivered"),
            Some(TrackingStatus::AttemptFail)
        );
        assert_eq!(
            checkpoint_status("exception"),
            Some(TrackingStatus::Exception)
        );
        assert_eq!(checkpoint_status("expired"), Some(TrackingStatus::Expired));
        assert_eq!(checkpoint_status("4"), None);
    }

    #[test]
    fn dates_with_and_without_offset() {
        let plus8 = FixedOffset::east_opt(8 * 3600);
        assert_eq!(
            parse_date("2018-04-18T14:34:30+08:00", None)
                .unwrap()
                .to_rfc3339(),
            "2018-04-18T14:34:30+08:00"
        );
        assert_eq!(
            parse_date("2018-04-16 17:34:00", plus8)
                .unwrap()
                .to_rfc3339(),
            "2018-04-16T17:34:00+08:00"
        );
        assert_eq!(
            parse_date("2018-04-16 17:34", None).unwrap().to_rfc3339(),
            "2018-04-16T17:34:00+00:00"
        );
        assert_eq!(parse_date("yesterday", None), None);
    }

    #[test]
    fn the_doc_sample_maps_to_a_shipment() {
        let body = include_str!("../../fixtures/trackru/trackings-update.response.json");
        let envelope: Envelope<Tracking> = serde_json::from_str(body).unwrap();
        let s = shipment(&envelope.data);
        assert_eq!(s.vendor, Vendor::TrackRu);
        assert_eq!(s.id.as_deref(), Some("3d300c6f34a6a9711166cc44e4cc096a"));
        assert_eq!(s.tracking_number, "402934299065");
        assert_eq!(s.carrier.as_deref(), Some("sto"));
        assert_eq!(s.status, TrackingStatus::Exception);
        assert_eq!(s.status_raw, "7");
        assert_eq!(s.order_reference.as_deref(), Some("986574521568"));
        assert_eq!(s.destination_country.as_deref(), Some("CN"));
        assert!(s.archived);
        assert_eq!(
            s.created_at.unwrap().to_rfc3339(),
            "2018-04-18T14:34:30+08:00"
        );
        let customer = s.customer.unwrap();
        assert_eq!(customer.name.as_deref(), Some("sandy"));
        // The doc's e-mail is an obfuscation placeholder: kept raw, not an address.
        assert_eq!(customer.email, None);
        assert_eq!(customer.email_raw.as_deref(), Some("[email protected]"));
        assert_eq!(customer.phone.as_deref(), Some("+86123456789"));
        assert!(s.events.is_empty(), "the sample has no checkpoints");
    }

    #[test]
    fn checkpoints_become_events_in_time_order() {
        let t = Tracking {
            tracking_number: "5010000000".into(),
            carrier_code: "dhl".into(),
            updated_at: Some("2026-08-03T10:00:00+03:00".into()),
            status: Some("pickup".into()),
            origin_info: Some(CarrierInfo {
                trackinfo: vec![
                    Checkpoint {
                        date: "2026-08-02 09:00:00".into(),
                        status_description: Some("Out for delivery".into()),
                        details: Some("Athens, GR".into()),
                        checkpoint_status: Some("pickup".into()),
                        substatus: None,
                    },
                    Checkpoint {
                        date: "2026-08-01 09:00:00".into(),
                        status_description: Some("Shipment information received".into()),
                        details: None,
                        checkpoint_status: Some("pending".into()),
                        substatus: None,
                    },
                    Checkpoint {
                        date: "not a date".into(),
                        ..Checkpoint::default()
                    },
                ],
                ..CarrierInfo::default()
            }),
            ..Tracking::default()
        };
        let s = shipment(&t);
        assert_eq!(s.status, TrackingStatus::OutForDelivery);
        assert_eq!(s.customer, None);
        // Without a status of its own, the latest checkpoint's counts; the raw stays empty.
        let unstated = shipment(&Tracking {
            status: None,
            ..t.clone()
        });
        assert_eq!(unstated.status, TrackingStatus::OutForDelivery);
        assert_eq!(unstated.status_raw, "");
        assert_eq!(s.events.len(), 2);
        assert_eq!(s.events[0].status, TrackingStatus::InfoReceived);
        assert_eq!(s.events[0].at.to_rfc3339(), "2026-08-01T09:00:00+03:00");
        assert_eq!(s.events[1].status, TrackingStatus::OutForDelivery);
        assert_eq!(s.events[1].status_raw, "pickup");
        assert_eq!(
            s.events[1].location.as_ref().unwrap().text.as_deref(),
            Some("Athens, GR")
        );
    }

    #[test]
    fn an_unknown_status_is_pending_with_its_raw_code() {
        let t = Tracking {
            tracking_number: "X1".into(),
            status: Some("teleported".into()),
            ..Tracking::default()
        };
        let s = shipment(&t);
        assert_eq!(s.status, TrackingStatus::Pending);
        assert_eq!(s.status_raw, "teleported");
    }
}

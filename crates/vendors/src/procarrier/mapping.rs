//! ProCarrier wire types → the unified model.
//!
//! Dates: the doc gives no time zone for any field, so every ProCarrier date is read as UTC.
//! Each field has its own format: `OrderDate` `MM/DD/YYYY`, filters `YYYY/MM/DD HH:MM:SS`,
//! `DateAdded` in answers `MM/DD/YYYY HH:MM:SS`, `ExportDate` / event `Dt` / webhook times unix
//! seconds, `CollectionDate.date` `YYYY/MM/DD`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use rust_decimal::Decimal;

use super::wire;
use crate::escaped::Escaped;
use crate::model::{
    self, Address, Customer, DayHours, Label, Location, Money, ReturnItem, ReturnReason,
    ReturnService, ReturnStatus, Shipment, TrackingEvent, TrackingStatus, Vendor,
};

const VENDOR: Vendor = Vendor::ProCarrier;

/// Every tracking status code the doc lists: `(code, the doc's description, where the parcel
/// is, where the return stands)`. A return parcel travels customer → retailer, so "delivered"
/// is "delivered to the retailer" (60). Decisions where the doc leaves room:
/// - 10 registered online: the carrier has the data, not the parcel (`InfoReceived`), return `Requested`.
/// - 11 quarantine: held before it moves (`Pending`), return still `Requested`.
/// - hubs, pallets, relabelling, re-export and customs (20–50, 90, 95, 201, 202, 400): `InTransit`.
/// - 60 delivered to the retailer: `Delivered` / `Received`; 70 refunded: `Delivered` / `Refunded`.
/// - 100 delayed, 110 lost, 200 under investigation: `Exception` for both.
/// - 120 collection attempt failed: `AttemptFail`; the return is in trouble (`Exception`).
/// - 300 cancel requested and 310 cancelled: `Cancelled` for both (a requested cancel stops the
///   label being used; the vendor does not report a refused cancel separately).
pub const STATUS_CODES: &[(i64, &str, TrackingStatus, ReturnStatus)] = &[
    (
        10,
        "Return registered online",
        TrackingStatus::InfoReceived,
        ReturnStatus::Requested,
    ),
    (
        11,
        "Quarantine",
        TrackingStatus::Pending,
        ReturnStatus::Requested,
    ),
    (
        20,
        "Received by the carrier",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        24,
        "In transit to transit hub",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        26,
        "Received at transit hub",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        28,
        "Processed by transit hub",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        29,
        "Parcel relabeled",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        30,
        "In transit to final hub",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        35,
        "Parcel re-exported",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        40,
        "Received at final hub",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        43,
        "Processed by final hub",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        45,
        "Parcel has been added to the pallet",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        90,
        "Parcel has been extracted from the pallet",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        95,
        "Pallet dissolved",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        50,
        "In transit to the retailer",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        60,
        "Delivered to the retailer",
        TrackingStatus::Delivered,
        ReturnStatus::Received,
    ),
    (
        70,
        "Parcel refunded by retailer",
        TrackingStatus::Delivered,
        ReturnStatus::Refunded,
    ),
    (
        100,
        "Parcel delayed",
        TrackingStatus::Exception,
        ReturnStatus::Exception,
    ),
    (
        110,
        "Parcel lost",
        TrackingStatus::Exception,
        ReturnStatus::Exception,
    ),
    (
        120,
        "Collection attempt failed",
        TrackingStatus::AttemptFail,
        ReturnStatus::Exception,
    ),
    (
        200,
        "Parcel under investigation",
        TrackingStatus::Exception,
        ReturnStatus::Exception,
    ),
    (
        201,
        "Awaiting customs clearance",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        202,
        "Customs clearance completed",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
    (
        300,
        "Cancel requested",
        TrackingStatus::Cancelled,
        ReturnStatus::Cancelled,
    ),
    (
        310,
        "Canceled",
        TrackingStatus::Cancelled,
        ReturnStatus::Cancelled,
    ),
    (
        400,
        "Pallet in the process of filling",
        TrackingStatus::InTransit,
        ReturnStatus::InTransit,
    ),
];

fn status_row(code: i64) -> Option<&'static (i64, &'static str, TrackingStatus, ReturnStatus)> {
    STATUS_CODES.iter().find(|row| row.0 == code)
}

/// Where the parcel is, for a tracking status code; `None` for a code the doc does not list.
pub fn tracking_status(code: i64) -> Option<TrackingStatus> {
    status_row(code).map(|row| row.2)
}

/// Where the return stands, for a tracking status code; `None` for a code the doc does not list.
pub fn return_status(code: i64) -> Option<ReturnStatus> {
    status_row(code).map(|row| row.3)
}

/// The doc's description of a code.
pub fn status_description(code: i64) -> Option<&'static str> {
    status_row(code).map(|row| row.1)
}

/// An unlisted code claims no progress: the parcel reads `Pending` and the return `Requested`;
/// the raw code is kept beside it.
fn tracking_status_or_pending(code: i64) -> TrackingStatus {
    tracking_status(code).unwrap_or_else(|| {
        tracing::warn!(vendor = %VENDOR, code, "unknown tracking status code");
        TrackingStatus::Pending
    })
}

fn return_status_or_requested(code: i64) -> ReturnStatus {
    return_status(code).unwrap_or(ReturnStatus::Requested)
}

// ---------------------------------------------------------------------------------------------
// Dates (all UTC, see the module docs)

fn utc(naive: NaiveDateTime) -> DateTime<FixedOffset> {
    Utc.from_utc_datetime(&naive).fixed_offset()
}

/// `OrderDate`, `ExportDate` of an order: `MM/DD/YYYY`, midnight UTC.
pub fn parse_order_date(raw: &str) -> Option<DateTime<FixedOffset>> {
    NaiveDate::parse_from_str(raw.trim(), "%m/%d/%Y")
        .ok()
        .map(|d| utc(d.and_time(NaiveTime::MIN)))
}

pub fn format_order_date(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&Utc).format("%m/%d/%Y").to_string()
}

/// `DateAdded` in answers: `MM/DD/YYYY HH:MM:SS`.
pub fn parse_date_added(raw: &str) -> Option<DateTime<FixedOffset>> {
    NaiveDateTime::parse_from_str(raw.trim(), "%m/%d/%Y %H:%M:%S")
        .ok()
        .map(utc)
}

pub fn format_date_added(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&Utc)
        .format("%m/%d/%Y %H:%M:%S")
        .to_string()
}

/// Search filters and `tracking/add` dates: `YYYY/MM/DD HH:MM:SS`.
pub fn parse_filter_date(raw: &str) -> Option<DateTime<FixedOffset>> {
    NaiveDateTime::parse_from_str(raw.trim(), "%Y/%m/%d %H:%M:%S")
        .ok()
        .map(utc)
}

pub fn format_filter_date(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&Utc)
        .format("%Y/%m/%d %H:%M:%S")
        .to_string()
}

/// `CollectionDate`: `{date: "YYYY/MM/DD", timeFrom: "HH:MM", timeTo: "HH:MM"}` → the window.
pub fn parse_collection_date(
    c: &wire::CollectionDate,
) -> Option<(DateTime<FixedOffset>, Option<DateTime<FixedOffset>>)> {
    let day = NaiveDate::parse_from_str(c.date.trim(), "%Y/%m/%d").ok()?;
    let time = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok())
    };
    let from = utc(day.and_time(time(&c.time_from).unwrap_or(NaiveTime::MIN)));
    let to = time(&c.time_to).map(|t| utc(day.and_time(t)));
    Some((from, to))
}

/// Unix seconds (`Dt`, `ExportDate`, `TrackingLastUpdate`, webhook times).
pub fn from_unix(secs: i64) -> Option<DateTime<FixedOffset>> {
    DateTime::<Utc>::from_timestamp(secs, 0).map(|d| d.fixed_offset())
}

fn dated(
    field: &'static str,
    raw: &str,
    parsed: Option<DateTime<FixedOffset>>,
) -> Option<DateTime<FixedOffset>> {
    if parsed.is_none() && !raw.trim().is_empty() {
        tracing::warn!(vendor = %VENDOR, field, raw = %Escaped(raw), "unreadable date");
    }
    parsed
}

// ---------------------------------------------------------------------------------------------
// Returns

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn address_of(a: &wire::Address, contact: Option<&wire::Contact>) -> Address {
    Address {
        name: contact.and_then(|c| non_empty(&c.name)),
        company: contact.and_then(|c| non_empty(&c.company)),
        line1: non_empty(&a.address_line1),
        line2: non_empty(&a.address_line2),
        line3: non_empty(&a.address_line3),
        neighborhood: non_empty(&a.neighborhood),
        city: non_empty(&a.city),
        state: non_empty(&a.state),
        postal_code: non_empty(&a.zip),
        country: non_empty(&a.country).map(|c| c.to_ascii_uppercase()),
    }
}

fn customer_of(contact: &wire::Contact, address: &Address) -> Customer {
    let mut customer = Customer::from_raw(
        VENDOR,
        contact.name.as_deref(),
        contact.email.as_deref(),
        contact.phone.as_deref(),
        address.country.as_deref(),
    );
    customer.address = Some(address.clone());
    customer
}

fn reason_of(r: &wire::Reason) -> ReturnReason {
    ReturnReason {
        action: non_empty(&r.action),
        reason: non_empty(&r.reason),
        wish: non_empty(&r.wish),
        additional_title: r.additional.as_ref().and_then(|a| non_empty(&a.title)),
        additional_value: r.additional.as_ref().and_then(|a| non_empty(&a.value)),
    }
}

/// A product line; the price becomes money only when the currency is known (ProCarrier answers
/// about returns carry no currency).
pub fn map_product(p: &wire::Product, currency: Option<&str>) -> ReturnItem {
    ReturnItem {
        id: p.id.map(|id| id.to_string()),
        sku: non_empty(&p.sku),
        name: non_empty(&p.description),
        // A line without a quantity is one item (the doc's examples always send 1).
        quantity: p.quantity.and_then(|q| u32::try_from(q).ok()).unwrap_or(1),
        unit_price: currency.and_then(|c| p.price.and_then(|price| Money::from_f64(price, c))),
        reason: p.reason.as_ref().map(reason_of),
        ..ReturnItem::default()
    }
}

/// `returns/get` and `returns/search` rows. The return's status comes from its
/// `CurrentTrackingStatus`; a row without one (the doc's search example) reads `Requested` with
/// an empty raw status.
pub fn map_return(r: &wire::ReturnRecord) -> model::Return {
    let (status, raw) = match r.current_tracking_status {
        Some(code) => (return_status_or_requested(code), code.to_string()),
        None => (ReturnStatus::Requested, String::new()),
    };
    let mut out = model::Return::new(VENDOR, r.id.to_string(), status, raw);
    let contact = wire::Contact {
        name: r.name.clone(),
        company: r.company.clone(),
        phone: r.phone.clone(),
        email: r.email.clone(),
    };
    let address = address_of(&r.address, Some(&contact));
    out.display_id = non_empty(&r.display_id);
    out.order_reference = non_empty(&r.order_reference);
    out.tracking_number = non_empty(&r.tracking_number);
    out.tracking_status = r.current_tracking_status.map(tracking_status_or_pending);
    out.tracking_status_raw = r.current_tracking_status.map(|c| c.to_string());
    out.created_at = r
        .date_added
        .as_deref()
        .and_then(|d| dated("DateAdded", d, parse_date_added(d)));
    out.updated_at = r.tracking_last_update.and_then(from_unix);
    out.customer = Some(customer_of(&contact, &address));
    out.address = Some(address);
    out.items = r.products.iter().map(|p| map_product(p, None)).collect();
    out.carrier = non_empty(&r.carrier);
    out.label = match (&r.label_image, &r.label_content_type) {
        (Some(image), content_type) if !image.is_empty() => Some(Label {
            content_type: content_type
                .clone()
                .unwrap_or_else(|| "application/pdf".into()),
            base64: image.clone(),
        }),
        _ => None,
    };
    out
}

/// The label and first-mile data `returns/create` answers, onto a return already mapped (or
/// a fresh one keyed by tracking number when the caller has nothing else yet).
pub fn apply_created(out: &mut model::Return, c: &wire::ReturnCreated) {
    out.tracking_number = Some(c.tracking_number.clone());
    out.first_mile_address = c.first_mile_address.as_ref().map(|a| {
        [
            &a.address_line1,
            &a.address_line2,
            &a.address_line3,
            &a.zip,
            &a.city,
            &a.state,
            &a.country,
        ]
        .into_iter()
        .filter_map(non_empty)
        .collect::<Vec<_>>()
        .join(", ")
    });
    out.secondary_barcodes = c
        .secondary_barcodes
        .iter()
        .cloned()
        .chain(non_empty(&c.secondary_barcode))
        .collect();
    out.label = c
        .label_image
        .as_ref()
        .filter(|i| !i.is_empty())
        .map(|image| Label {
            content_type: c
                .label_content_yype
                .clone()
                .unwrap_or_else(|| "application/pdf".into()),
            base64: image.clone(),
        });
}

// ---------------------------------------------------------------------------------------------
// Tracking

pub fn map_event(tracking_number: &str, e: &wire::TrackingEvent) -> Option<TrackingEvent> {
    let at = from_unix(e.dt)?;
    Some(TrackingEvent {
        vendor: VENDOR,
        id: e.id.map(|id| id.to_string()),
        tracking_number: tracking_number.to_owned(),
        at,
        status: tracking_status_or_pending(e.status),
        status_raw: e.status.to_string(),
        description: non_empty(&e.description),
        location: e.location.as_ref().map(|l| Location {
            country: non_empty(&l.country),
            state: non_empty(&l.state),
            city: non_empty(&l.city),
            text: None,
        }),
    })
}

/// One parcel's tracking; events in time order, the latest one giving its status.
pub fn map_tracking(t: &wire::TrackingRecord) -> Shipment {
    let mut events: Vec<TrackingEvent> = t
        .events
        .iter()
        .filter_map(|e| {
            let mapped = map_event(&t.tracking_number, e);
            if mapped.is_none() {
                tracing::warn!(vendor = %VENDOR, dt = e.dt, "event time out of range");
            }
            mapped
        })
        .collect();
    events.sort_by_key(|e| e.at);
    let (status, status_raw) = events
        .last()
        .map(|e| (e.status, e.status_raw.clone()))
        .unwrap_or((TrackingStatus::Pending, String::new()));
    Shipment {
        vendor: VENDOR,
        id: t.id.map(|id| id.to_string()),
        tracking_number: t.tracking_number.clone(),
        carrier: non_empty(&t.carrier_name),
        status,
        status_raw,
        order_reference: non_empty(&t.order_reference),
        customer: None,
        destination_country: None,
        created_at: events.first().map(|e| e.at),
        updated_at: events.last().map(|e| e.at),
        archived: false,
        manual_status: false,
        events,
    }
}

/// One parcel's shipment from two reads (windows of `tracking/range`, `tracking/added`): the
/// later read's parcel fields, every event of both once (by event id, else by time and status),
/// and the status, first and last times derived from the events as [`map_tracking`] does.
pub fn merge_shipments(earlier: Shipment, later: Shipment) -> Shipment {
    let mut events = earlier.events;
    for e in later.events {
        let seen = events.iter().any(|x| match (&x.id, &e.id) {
            (Some(a), Some(b)) => a == b,
            _ => x.at == e.at && x.status_raw == e.status_raw,
        });
        if !seen {
            events.push(e);
        }
    }
    events.sort_by_key(|e| e.at);
    let (status, status_raw) = events
        .last()
        .map(|e| (e.status, e.status_raw.clone()))
        .unwrap_or((later.status, later.status_raw.clone()));
    Shipment {
        status,
        status_raw,
        created_at: events.first().map(|e| e.at),
        updated_at: events.last().map(|e| e.at),
        events,
        id: later.id.or(earlier.id),
        carrier: later.carrier.or(earlier.carrier),
        order_reference: later.order_reference.or(earlier.order_reference),
        ..later
    }
}

// ---------------------------------------------------------------------------------------------
// Services and drop-off points

pub fn map_service(s: &wire::Service) -> ReturnService {
    ReturnService {
        vendor: VENDOR,
        id: s.service_id.to_string(),
        name: non_empty(&s.service_name).unwrap_or_else(|| s.service_id.to_string()),
        kind: non_empty(&s.service_type),
        carrier: non_empty(&s.carrier),
        logo_url: non_empty(&s.service_logo),
    }
}

/// `"HH:MM-HH:MM"` → the range; `24:00` closes at midnight.
fn parse_range(raw: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (from, to) = raw.trim().split_once('-')?;
    let time = |t: &str| {
        let t = t.trim();
        if t == "24:00" {
            NaiveTime::from_hms_opt(23, 59, 59)
        } else {
            NaiveTime::parse_from_str(t, "%H:%M").ok()
        }
    };
    Some((time(from)?, time(to)?))
}

/// Seven entries, Monday first; `false` (closed) is an empty list of ranges.
pub fn map_detail_hours(h: &wire::DetailHours) -> Vec<DayHours> {
    const WEEK: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    WEEK.iter()
        .zip(h.days())
        .map(|(&weekday, day)| DayHours {
            weekday,
            ranges: match day {
                wire::DayHours::Closed => Vec::new(),
                wire::DayHours::Open(ranges) => ranges
                    .iter()
                    .filter_map(|r| {
                        let parsed = parse_range(r);
                        if parsed.is_none() {
                            tracing::warn!(vendor = %VENDOR, range = %Escaped(r), "unreadable opening hours");
                        }
                        parsed
                    })
                    .collect(),
            },
        })
        .collect()
}

/// Every point of every carrier and service. A point whose `Lat` is not a number is skipped
/// (with a warning): a point we cannot place on a map is of no use.
pub fn map_dropoff_points(r: &wire::DropOffResult) -> Vec<model::DropOffPoint> {
    let mut out = Vec::new();
    for carrier in &r.carriers {
        for service in &carrier.services {
            for p in &service.points {
                let Ok(lat) = p.lat.trim().parse::<f64>() else {
                    tracing::warn!(vendor = %VENDOR, point = %Escaped(&p.id), lat = %Escaped(&p.lat), "unreadable latitude");
                    continue;
                };
                let address = p
                    .address_detail
                    .as_ref()
                    .map(|a| {
                        [
                            &a.address_line1,
                            &a.address_line2,
                            &a.address_line3,
                            &a.zip,
                            &a.city,
                            &a.country,
                        ]
                        .into_iter()
                        .filter_map(non_empty)
                        .collect::<Vec<_>>()
                        .join(", ")
                    })
                    .unwrap_or_default();
                out.push(model::DropOffPoint {
                    vendor: VENDOR,
                    id: p.id.clone(),
                    carrier: non_empty(&carrier.name),
                    service_id: service.id.map(|id| id.to_string()),
                    title: non_empty(&p.title).unwrap_or_else(|| p.id.clone()),
                    address,
                    hours_text: non_empty(&p.hours),
                    opening_hours: p
                        .detail_hours
                        .as_ref()
                        .map(map_detail_hours)
                        .unwrap_or_default(),
                    lat,
                    lng: p.lng,
                });
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Orders

/// A ProCarrier order. ProCarrier keeps no payment or shipping state for orders, so both read
/// `Pending` with an empty raw status. `orders/get` answers no `Id`: the reference is the id
/// then; an order with neither is `None`.
pub fn map_order(o: &wire::Order) -> Option<model::Order> {
    let currency = non_empty(&o.currency);
    let address = address_of(&o.address, Some(&o.contact));
    let lines = o
        .products
        .iter()
        .map(|p| {
            let unit_price = currency
                .as_deref()
                .and_then(|c| p.price.and_then(|price| Money::from_f64(price, c)));
            let quantity = Decimal::from(p.quantity.unwrap_or(1));
            model::OrderLine {
                id: p.id.map(|id| id.to_string()),
                sku: non_empty(&p.sku),
                name: non_empty(&p.description),
                quantity,
                total: unit_price
                    .as_ref()
                    .map(|m| Money::new(m.amount * quantity, m.currency.clone())),
                unit_price,
            }
        })
        .collect::<Vec<_>>();
    let total = currency.as_deref().and_then(|c| {
        lines
            .iter()
            .map(|l| l.total.as_ref().map(|m| m.amount))
            .sum::<Option<Decimal>>()
            .map(|sum| Money::new(sum, c))
    });
    let reference = non_empty(&o.order_reference);
    let id =
        o.id.map(|id| id.to_string())
            .or_else(|| reference.clone())?;
    Some(model::Order {
        vendor: VENDOR,
        id,
        reference,
        created_at: o
            .order_date
            .as_deref()
            .and_then(|d| dated("OrderDate", d, parse_order_date(d))),
        updated_at: None,
        payment_status: model::PaymentStatus::Pending,
        payment_status_raw: String::new(),
        shipping_status: TrackingStatus::Pending,
        shipping_status_raw: String::new(),
        customer: Some(customer_of(&o.contact, &address)),
        billing_address: None,
        shipping_address: Some(address),
        lines,
        total,
        shipping_total: None,
        tracking_number: non_empty(&o.tracking_number),
        shipping_method: non_empty(&o.export_carrier_name),
        return_source_id: None,
        rma_order_ids: non_empty(&o.rma).into_iter().collect(),
        tags: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// Webhook

/// A `return_updated` webhook as a return. Prices are read from the vendor's decimal strings in
/// the order's `currency_code`.
pub fn map_webhook(w: &wire::ReturnUpdatedWebhook) -> model::Return {
    let (status, raw) = match w.current_tracking_status {
        Some(code) => (return_status_or_requested(code), code.to_string()),
        None => (ReturnStatus::Requested, String::new()),
    };
    let mut out = model::Return::new(VENDOR, w.id.to_string(), status, raw);
    let currency = w.order.as_ref().and_then(|o| non_empty(&o.currency_code));
    let contact = wire::Contact {
        name: w.name.clone(),
        company: w.company_name.clone(),
        phone: w.phone.clone(),
        email: w.email.clone(),
    };
    let address = address_of(
        &wire::Address {
            country: w.country.clone(),
            state: w.state.clone(),
            zip: w.zip.clone(),
            city: w.city.clone(),
            address_line1: w.addr1.clone(),
            address_line2: w.addr2.clone(),
            address_line3: w.addr3.clone(),
            neighborhood: None,
        },
        Some(&contact),
    );
    out.display_id = non_empty(&w.display_id);
    out.order_reference = non_empty(&w.order_reference);
    out.tracking_number = non_empty(&w.tracking);
    out.tracking_status = w.current_tracking_status.map(tracking_status_or_pending);
    out.tracking_status_raw = w.current_tracking_status.map(|c| c.to_string());
    out.created_at = w.date_added.and_then(from_unix);
    out.updated_at = w.tracking_last_update.and_then(from_unix);
    out.customer = Some(customer_of(&contact, &address));
    out.address = Some(address);
    out.carrier = non_empty(&w.carrier);
    out.service_id = w.service_id.map(|s| s.to_string());
    out.secondary_barcodes = non_empty(&w.barcode_number).into_iter().collect();
    out.items = w
        .item
        .iter()
        .map(|i| ReturnItem {
            sku: non_empty(&i.sku_code),
            name: non_empty(&i.sku_desc),
            quantity: i.quantity.and_then(|q| u32::try_from(q).ok()).unwrap_or(1),
            unit_price: currency.as_deref().and_then(|c| {
                i.price
                    .as_deref()
                    .and_then(|p| p.trim().parse::<Decimal>().ok())
                    .map(|amount| Money::new(amount, c))
            }),
            reason: i.reason.first().map(|r| ReturnReason {
                action: non_empty(&r.action),
                reason: non_empty(&r.reason),
                wish: non_empty(&r.wish),
                additional_title: r.additional.as_ref().and_then(|a| non_empty(&a.title)),
                additional_value: r.additional.as_ref().and_then(|a| non_empty(&a.value)),
            }),
            ..ReturnItem::default()
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/fixtures/procarrier/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn every_tracking_code_maps_to_its_tracking_status() {
        use TrackingStatus::*;
        let expected = [
            (10, InfoReceived),
            (11, Pending),
            (20, InTransit),
            (24, InTransit),
            (26, InTransit),
            (28, InTransit),
            (29, InTransit),
            (30, InTransit),
            (35, InTransit),
            (40, InTransit),
            (43, InTransit),
            (45, InTransit),
            (90, InTransit),
            (95, InTransit),
            (50, InTransit),
            (60, Delivered),
            (70, Delivered),
            (100, Exception),
            (110, Exception),
            (120, AttemptFail),
            (200, Exception),
            (201, InTransit),
            (202, InTransit),
            (300, Cancelled),
            (310, Cancelled),
            (400, InTransit),
        ];
        for (code, want) in expected {
            assert_eq!(tracking_status(code), Some(want), "code {code}");
        }
        assert_eq!(
            expected.len(),
            STATUS_CODES.len(),
            "every doc code is covered"
        );
        assert_eq!(tracking_status(303), None);
        assert_eq!(tracking_status_or_pending(999), Pending);
    }

    #[test]
    fn every_tracking_code_maps_to_its_return_status() {
        use ReturnStatus::*;
        let expected = [
            (10, Requested),
            (11, Requested),
            (20, InTransit),
            (24, InTransit),
            (26, InTransit),
            (28, InTransit),
            (29, InTransit),
            (30, InTransit),
            (35, InTransit),
            (40, InTransit),
            (43, InTransit),
            (45, InTransit),
            (90, InTransit),
            (95, InTransit),
            (50, InTransit),
            (60, Received),
            (70, Refunded),
            (100, Exception),
            (110, Exception),
            (120, Exception),
            (200, Exception),
            (201, InTransit),
            (202, InTransit),
            (300, Cancelled),
            (310, Cancelled),
            (400, InTransit),
        ];
        for (code, want) in expected {
            assert_eq!(return_status(code), Some(want), "code {code}");
        }
        assert_eq!(return_status(1), None);
        assert_eq!(return_status_or_requested(1), Requested);
    }

    #[test]
    fn each_date_format_is_read_as_utc() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        assert_eq!(
            parse_order_date("11/22/2020"),
            Some(at("2020-11-22T00:00:00Z"))
        );
        assert_eq!(
            parse_date_added("11/22/2020 13:01:33"),
            Some(at("2020-11-22T13:01:33Z"))
        );
        assert_eq!(
            parse_filter_date("2020/11/22 10:11:12"),
            Some(at("2020-11-22T10:11:12Z"))
        );
        assert_eq!(from_unix(1606050093), Some(at("2020-11-22T13:01:33Z")));
        let window = parse_collection_date(&wire::CollectionDate {
            date: "2020/11/22".into(),
            time_from: Some("10:00".into()),
            time_to: Some("15:30".into()),
        });
        assert_eq!(
            window,
            Some((at("2020-11-22T10:00:00Z"), Some(at("2020-11-22T15:30:00Z"))))
        );
        assert_eq!(parse_order_date("2020-11-22"), None);
        assert_eq!(parse_date_added("22/11/2020 13:01:33"), None);
        let t = at("2026-08-01T06:00:00+03:00");
        assert_eq!(format_filter_date(t), "2026/08/01 03:00:00");
        assert_eq!(format_date_added(t), "08/01/2026 03:00:00");
        assert_eq!(format_order_date(t), "08/01/2026");
    }

    #[test]
    fn the_sample_return_maps_with_its_key_fields() {
        let body = fixture("returns-get.response.json");
        let wire::Envelope(r): wire::Envelope<wire::ReturnRecord> =
            serde_json::from_str(&body).unwrap();
        let m = map_return(&r);
        assert_eq!(m.vendor, Vendor::ProCarrier);
        assert_eq!(m.id, "123456789");
        assert_eq!(m.order_reference.as_deref(), Some("REF123456789"));
        assert_eq!(m.tracking_number.as_deref(), Some("TRC123456789"));
        assert_eq!(m.status, ReturnStatus::InTransit);
        assert_eq!(m.status_raw, "40");
        assert_eq!(m.tracking_status, Some(TrackingStatus::InTransit));
        assert_eq!(
            m.created_at,
            Some(DateTime::parse_from_rfc3339("2020-11-22T13:01:33Z").unwrap())
        );
        assert_eq!(m.updated_at, from_unix(1606050093));
        let customer = m.customer.as_ref().unwrap();
        assert_eq!(customer.email.as_deref(), Some("example@example.com"));
        assert_eq!(customer.phone.as_deref(), Some("+10123456789"));
        assert_eq!(customer.name.as_deref(), Some("John Smith"));
        assert_eq!(m.address.as_ref().unwrap().country.as_deref(), Some("NL"));
        assert_eq!(m.items.len(), 1);
        assert_eq!(m.items[0].sku.as_deref(), Some("SKU123456789"));
        let reason = m.items[0].reason.as_ref().unwrap();
        assert_eq!(reason.action.as_deref(), Some("Exchange"));
        assert_eq!(reason.reason.as_deref(), Some("Does not suit me"));
        assert_eq!(reason.wish, None);
        let label = m.label.as_ref().unwrap();
        assert_eq!(label.content_type, "application/pdf");
        assert!(label.base64.starts_with("JVBERi0"));
    }

    #[test]
    fn the_created_return_answer_fills_label_and_barcodes() {
        let body = fixture("returns-create.response.json");
        let wire::Envelope(c): wire::Envelope<wire::ReturnCreated> =
            serde_json::from_str(&body).unwrap();
        let mut m = model::Return::new(VENDOR, "1", ReturnStatus::Requested, "10");
        apply_created(&mut m, &c);
        assert_eq!(m.tracking_number.as_deref(), Some("TRC123456789"));
        assert_eq!(m.secondary_barcodes.len(), 3);
        assert_eq!(m.label.as_ref().unwrap().content_type, "application/pdf");
        assert_eq!(
            m.first_mile_address.as_deref(),
            Some("Oudezijds Achterburgwal 60h, 1012 DP, Amsterdam, Amsterdam, NL")
        );
    }

    #[test]
    fn the_sample_tracking_maps_events_in_order() {
        let body = fixture("tracking-get.response.json");
        let wire::Envelope(t): wire::Envelope<wire::TrackingRecord> =
            serde_json::from_str(&body).unwrap();
        let s = map_tracking(&t);
        assert_eq!(s.tracking_number, "TRC123456789");
        assert_eq!(s.carrier.as_deref(), Some("Radar"));
        assert_eq!(s.order_reference.as_deref(), Some("REF123456789"));
        assert_eq!(s.status, TrackingStatus::InfoReceived);
        assert_eq!(s.status_raw, "10");
        assert_eq!(s.events.len(), 1);
        let e = &s.events[0];
        assert_eq!(e.id.as_deref(), Some("347109300"));
        assert_eq!(e.at, from_unix(1606050093).unwrap());
        assert_eq!(e.description.as_deref(), Some("Return registered online"));
        assert_eq!(
            e.location.as_ref().unwrap().city.as_deref(),
            Some("Amsterdam")
        );
    }

    #[test]
    fn the_sample_dropoff_points_have_seven_days_of_hours() {
        let body = fixture("dropoff-points.response.json");
        let wire::Envelope(r): wire::Envelope<wire::DropOffResult> =
            serde_json::from_str(&body).unwrap();
        let points = map_dropoff_points(&r);
        assert_eq!(points.len(), 1);
        let p = &points[0];
        assert_eq!(p.id, "123AC");
        assert_eq!(p.carrier.as_deref(), Some("Radar"));
        assert_eq!(p.service_id.as_deref(), Some("2"));
        assert_eq!(p.lat, 52.372987);
        assert_eq!(p.lng, 4.894087);
        assert_eq!(p.opening_hours.len(), 7);
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(p.opening_hours[0].weekday, Weekday::Mon);
        assert_eq!(
            p.opening_hours[0].ranges,
            vec![(hm(10, 0), hm(14, 0)), (hm(17, 0), hm(20, 30))]
        );
        assert_eq!(p.opening_hours[4].ranges[0], (hm(9, 0), hm(15, 0)));
        assert_eq!(p.opening_hours[6].weekday, Weekday::Sun);
        assert!(p.opening_hours[6].ranges.is_empty(), "Su: false is closed");
    }

    #[test]
    fn the_sample_services_and_order_map() {
        let wire::Envelope(s): wire::Envelope<wire::ServicesResult> =
            serde_json::from_str(&fixture("services-get.response.json")).unwrap();
        let svc = map_service(&s.services[0]);
        assert_eq!(svc.id, "1");
        assert_eq!(svc.name, "Radar");
        assert_eq!(svc.kind.as_deref(), Some("home_collection"));

        let wire::Envelope(o): wire::Envelope<wire::Order> =
            serde_json::from_str(&fixture("orders-get.response.json")).unwrap();
        let order = map_order(&o).unwrap();
        assert_eq!(order.reference.as_deref(), Some("REF123456789"));
        assert_eq!(order.created_at, parse_order_date("11/22/2020"));
        assert_eq!(order.lines.len(), 1);
        let price = order.lines[0].unit_price.as_ref().unwrap();
        assert_eq!(price.amount.to_string(), "9.99");
        assert_eq!(price.currency, "EUR");
        assert_eq!(order.tracking_number.as_deref(), Some("32153454NL"));
    }

    #[test]
    fn the_sample_webhook_maps_to_a_return() {
        let w: wire::ReturnUpdatedWebhook =
            serde_json::from_str(&fixture("webhook-return-updated.request.json")).unwrap();
        assert_eq!(w.order.as_ref().unwrap().free_return, Some(false));
        let m = map_webhook(&w);
        assert_eq!(m.id, "123456789");
        assert_eq!(m.status, ReturnStatus::InTransit);
        assert_eq!(m.status_raw, "20");
        assert_eq!(m.tracking_number.as_deref(), Some("HZ962130067GB"));
        assert_eq!(m.order_reference.as_deref(), Some("REF123456789"));
        assert_eq!(m.created_at, from_unix(1611665973));
        assert_eq!(m.service_id.as_deref(), Some("252"));
        let customer = m.customer.as_ref().unwrap();
        assert_eq!(customer.email.as_deref(), Some("jane@example.org"));
        assert_eq!(customer.phone_raw.as_deref(), Some("1234567890"));
        assert_eq!(m.items.len(), 1);
        let price = m.items[0].unit_price.as_ref().unwrap();
        assert_eq!(
            (price.amount.to_string().as_str(), price.currency.as_str()),
            ("9.99", "EUR")
        );
        assert_eq!(
            m.items[0].reason.as_ref().unwrap().action.as_deref(),
            Some("Exchange")
        );
    }
}

//! ProCarrier Returns simulator: every method at `POST /api/{method}/json`, the `ApiKey` in the
//! body, `{"Success"}` / `{"Error"}` envelopes, the vendor's limits (1000 returns a search,
//! `CountPerPage` up to 20000) and its IP block after repeated wrong keys.
//!
//! It accepts what the doc's own examples send: `Request` as an object or as a JSON-encoded
//! string (PHP example), any content type (the PHP example posts JSON under the form content
//! type), and a real form body `ApiKey=…&Request=…` too.
//!
//! Data: the World's ProCarrier returns (their return parcels' events as numeric codes), the
//! orders those returns belong to, the services and the drop-off points. Writes change it.

pub mod webhooks;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound::{Included, Unbounded};
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::settings::{SimCredentials, SimWebhooks};
use crate::world::{self, Clock, Milestone, ReturnChannel, Stage, World};
use vendors::procarrier::mapping::{
    format_date_added, format_order_date, parse_filter_date, status_description,
};
use vendors::procarrier::wire::{self, error_code, ApiMethod, Envelope};

/// Where the vendor's methods live under the simulator's origin (the base URL ends in `/api`).
pub const PREFIX: &str = "/api";

/// Consecutive wrong keys after which the caller is blocked (`ipBlocked`), like the vendor
/// ("blocked due to many incorrect login attempts").
pub const WRONG_KEYS_BEFORE_BLOCK: u32 = 5;
/// How long a block lasts.
pub const BLOCK_FOR: Duration = Duration::from_secs(60);

/// A `Request` containing this text anywhere is answered with the `internal` error, so tests
/// can see that envelope over HTTP. No real request carries it.
pub const INTERNAL_ERROR_TRIGGER: &str = "__sim_internal_error__";

/// `returns/get` lookup fields (lower-cased): the doc's `orderReference`, the `tracking` public
/// client code uses, and the return's other keys.
const RETURN_FIELDS: &[&str] = &[
    "id",
    "tracking",
    "trackingnumber",
    "orderreference",
    "reference",
    "displayid",
    "externalid",
];

/// A tiny valid one-page PDF, base64: the label of every return.
pub const LABEL_PDF_BASE64: &str = "JVBERi0xLjQKMSAwIG9iajw8L1R5cGUvQ2F0YWxvZy9QYWdlcyAyIDAgUj4+ZW5kb2JqCjIgMCBvYmo8PC9UeXBlL1BhZ2VzL0tpZHNbMyAwIFJdL0NvdW50IDE+PmVuZG9iagozIDAgb2JqPDwvVHlwZS9QYWdlL1BhcmVudCAyIDAgUi9NZWRpYUJveFswIDAgMjg4IDQzMl0+PmVuZG9iagp0cmFpbGVyPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==";

/// How ProCarrier writes the World's milestones as tracking status codes.
pub fn milestone_code(m: Milestone) -> i64 {
    match m {
        Milestone::Registered => 10,
        Milestone::PickedUp => 20,
        Milestone::Hub => 26,
        Milestone::FinalHub => 40,
        Milestone::OutForDelivery => 50,
        Milestone::Delivered | Milestone::ReturnedToSender => 60,
        Milestone::AttemptFailed => 120,
        Milestone::Delayed => 100,
        Milestone::Lost => 110,
        Milestone::CancelRequested => 300,
        Milestone::Cancelled => 310,
    }
}

#[derive(Debug, Clone)]
struct SimEvent {
    event: wire::TrackingEvent,
    /// Unix seconds the event was added to the system (`tracking/added`).
    date_added: i64,
}

#[derive(Debug, Clone)]
struct SimReturn {
    /// As `returns/search` answers it (no label).
    record: wire::ReturnRecord,
    created_at: DateTime<FixedOffset>,
    service_id: i64,
    external_id: Option<String>,
    events: Vec<SimEvent>,
}

impl SimReturn {
    fn tracking_number(&self) -> &str {
        self.record.tracking_number.as_deref().unwrap_or_default()
    }

    fn tracking(&self, with_date_added: bool) -> wire::TrackingRecord {
        self.tracking_with(
            self.events
                .iter()
                .map(|e| event_out(e, with_date_added))
                .collect(),
        )
    }

    /// The return's tracking record with `events`.
    fn tracking_with(&self, events: Vec<wire::TrackingEvent>) -> wire::TrackingRecord {
        let tn = self.tracking_number().to_owned();
        wire::TrackingRecord {
            id: Some(self.record.id),
            pallet_number: Some(format!("PL{tn}")),
            source_country: self.record.address.country.clone(),
            carrier_name: self.record.carrier.clone(),
            service_id: Some(self.service_id),
            external_id: self.external_id.clone(),
            order_reference: self.record.order_reference.clone(),
            secondary_barcode: Some(format!("SEC_{tn}")),
            tracking_number: tn,
            events,
        }
    }
}

fn event_out(e: &SimEvent, with_date_added: bool) -> wire::TrackingEvent {
    wire::TrackingEvent {
        date_added: with_date_added.then_some(e.date_added),
        ..e.event.clone()
    }
}

#[derive(Debug, Clone)]
struct SimOrder {
    id: i64,
    /// As `orders/get` answers it (no `Id`, as in the doc).
    order: wire::Order,
    created_at: DateTime<FixedOffset>,
}

/// Every return's events by when they happened (`tracking/range`) and by when they were added
/// (`tracking/added`): (unix seconds, event id, return id, position in the return's events).
/// Events are only ever added, never changed.
#[derive(Debug, Default)]
struct EventIndex {
    by_dt: BTreeSet<EventKey>,
    by_date_added: BTreeSet<EventKey>,
}

type EventKey = (i64, i64, i64, usize);

impl EventIndex {
    fn add(&mut self, return_id: i64, position: usize, e: &SimEvent) {
        let id = e.event.id.unwrap_or(0);
        self.by_dt.insert((e.event.dt, id, return_id, position));
        self.by_date_added
            .insert((e.date_added, id, return_id, position));
    }

    /// Events of `from` to `to` (unix seconds, both inclusive).
    fn between(&self, added: bool, from: i64, to: i64) -> impl Iterator<Item = &EventKey> {
        let index = if added {
            &self.by_date_added
        } else {
            &self.by_dt
        };
        index.range((from, i64::MIN, i64::MIN, 0)..=(to, i64::MAX, i64::MAX, usize::MAX))
    }
}

#[derive(Debug)]
struct Data {
    returns: BTreeMap<i64, SimReturn>,
    /// (created_at, id) of every return: date windows read it instead of every return.
    by_created: BTreeSet<(DateTime<FixedOffset>, i64)>,
    /// Tracking number → return id.
    by_tracking: HashMap<String, i64>,
    events: EventIndex,
    /// By order reference.
    orders: BTreeMap<String, SimOrder>,
    services: Vec<world::Service>,
    points: Vec<world::DropOffPoint>,
    next_return_id: i64,
    next_event_id: i64,
    next_order_id: i64,
    /// Where the moving world takes its next turn (a return id).
    webhook_cursor: i64,
    /// Which return the moving world's next booked return copies (a return id).
    booking_cursor: i64,
    clock: Clock,
}

#[derive(Debug, Default)]
struct Guard {
    wrong_keys: u32,
    blocked_until: Option<Instant>,
}

#[derive(Debug)]
struct Sim {
    api_key: String,
    clock: Clock,
    data: Mutex<Data>,
    guard: Mutex<Guard>,
    webhooks: webhooks::Webhooks,
}

/// A refusal in the vendor's envelope.
#[derive(Debug)]
struct Failure {
    code: &'static str,
    message: String,
}

fn fail(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn wrong(message: impl Into<String>) -> Failure {
    fail(error_code::REQUEST_WRONG, message)
}

/// HTTP status per error code. The vendor documents none; request errors come with 200 (as
/// the digest warns), refusals of the caller with 401/403, the rest as their meaning.
fn http_status(code: &str) -> StatusCode {
    match code {
        error_code::API_KEY_EMPTY => StatusCode::UNAUTHORIZED,
        error_code::ACCESS_DENIED | error_code::IP_BLOCKED => StatusCode::FORBIDDEN,
        error_code::UNKNOWN_CALL => StatusCode::NOT_FOUND,
        error_code::INTERNAL => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = wire::ErrorEnvelope {
            error: wire::ErrorBody {
                code: self.code.to_owned(),
                message: vec![self.message],
            },
        };
        (http_status(self.code), Json(body)).into_response()
    }
}

fn success<T: Serialize>(payload: T) -> Response {
    Json(Envelope(payload)).into_response()
}

type Answer = Result<Response, Failure>;

/// The vendor's API, and the admin endpoints of the moving world (see [`webhooks`]); starts
/// the world's ticker.
pub fn router(
    world: &World,
    credentials: &SimCredentials,
    moving: &SimWebhooks,
) -> (Router, Router) {
    let sim = Arc::new(Sim {
        api_key: credentials.procarrier_api_key.expose().to_owned(),
        clock: world.clock,
        data: Mutex::new(Data::from_world(world)),
        guard: Mutex::new(Guard::default()),
        webhooks: webhooks::Webhooks::new(moving),
    });
    tokio::spawn(webhooks::run_ticker(sim.clone()));
    let admin = webhooks::admin(sim.clone());
    let mut router = Router::new();
    for method in ApiMethod::ALL {
        router = router.route(
            &format!("{PREFIX}{}", method.path()),
            any(move |State(sim): State<Arc<Sim>>, body: Bytes| async move {
                sim.answer(method, &body)
            }),
        );
    }
    let router = router
        .fallback(|| async {
            fail(error_code::UNKNOWN_CALL, "API method does not exist.").into_response()
        })
        .with_state(sim);
    (router, admin)
}

// ---------------------------------------------------------------------------------------------
// From the World

fn unix(at: DateTime<FixedOffset>) -> i64 {
    at.timestamp()
}

fn money_f64(cents: i64) -> f64 {
    // A wire float as the vendor writes prices (`9.99`); never used for arithmetic.
    cents as f64 / 100.0
}

impl Data {
    fn from_world(w: &World) -> Data {
        let mut returns = BTreeMap::new();
        let mut orders = BTreeMap::new();
        for r in w
            .returns
            .iter()
            .filter(|r| r.channel == ReturnChannel::ProCarrier)
        {
            let order = w.order_of(r);
            let person = w.person_of(order);
            let parcel = &w.parcels[r.parcel];
            let outbound = &w.parcels[order.parcel];
            let events: Vec<SimEvent> = parcel
                .events
                .iter()
                .map(|e| {
                    let code = milestone_code(e.milestone);
                    SimEvent {
                        event: wire::TrackingEvent {
                            id: Some(e.id as i64),
                            dt: unix(e.at),
                            status: code,
                            description: status_description(code).map(str::to_owned),
                            location: Some(wire::EventLocation {
                                country: Some(e.country.into()),
                                state: None,
                                city: Some(e.city.into()),
                            }),
                            date_added: None,
                        },
                        date_added: unix(e.at),
                    }
                })
                .collect();
            let current = match r.stage {
                // The World ends a refunded return's parcel at "delivered"; ProCarrier reports
                // the refund as the return's current status.
                Stage::Refunded => Some(70),
                _ => events.last().map(|e| e.event.status),
            };
            let address = wire::Address {
                country: Some(person.country.into()),
                state: Some(person.region.into()),
                zip: Some(person.postal_code.clone()),
                city: Some(person.city.into()),
                address_line1: Some(person.street.clone()),
                ..wire::Address::default()
            };
            let products = r
                .lines
                .iter()
                .map(|l| {
                    let line = &order.lines[l.line];
                    wire::Product {
                        sku: Some(line.product.sku.clone()),
                        description: Some(line.product.name.into()),
                        quantity: Some(i64::from(l.quantity)),
                        price: Some(money_f64(line.product.price_cents)),
                        weight: Some(f64::from(line.product.weight_grams) / 1000.0),
                        weight_uom: Some("kg".into()),
                        dangerous_goods: Some("No".into()),
                        export_date: Some(unix(order.created_at)),
                        export_awb: Some(outbound.tracking_number.clone()),
                        export_carrier_name: Some(outbound.carrier_name.into()),
                        final_disposition: Some("return".into()),
                        custom_fields: Some(Value::Object(Default::default())),
                        reason: Some(wire::Reason {
                            action: Some(l.action.into()),
                            reason: Some(l.reason.into()),
                            wish: Some(String::new()),
                            additional: None,
                        }),
                        ..wire::Product::default()
                    }
                })
                .collect();
            let record = wire::ReturnRecord {
                id: r.id as i64,
                order_reference: Some(order.reference.clone()),
                date_added: Some(format_date_added(r.created_at)),
                display_id: Some(order.reference.clone()),
                carrier: Some(parcel.carrier_name.into()),
                export_date: Some(unix(order.created_at)),
                export_awb: Some(outbound.tracking_number.clone()),
                export_carrier_name: Some(outbound.carrier_name.into()),
                products,
                custom_fields: Some(Value::Object(Default::default())),
                // ProCarrier writes contacts clean: lower-case e-mail, E.164 phone.
                phone: Some(person.phone.clone()),
                email: Some(person.email.to_lowercase()),
                tracking_number: Some(parcel.tracking_number.clone()),
                tracking_last_update: events.last().map(|e| e.event.dt),
                current_tracking_status: current,
                address: address.clone(),
                name: Some(person.full_name()),
                company: None,
                ..wire::ReturnRecord::default()
            };
            returns.insert(
                r.id as i64,
                SimReturn {
                    record,
                    created_at: r.created_at,
                    service_id: i64::from(r.service_id),
                    external_id: Some(format!("E{}", r.id)),
                    events,
                },
            );
            orders
                .entry(order.reference.clone())
                .or_insert_with(|| SimOrder {
                    id: order.id as i64,
                    created_at: order.created_at,
                    order: wire::Order {
                        order_reference: Some(order.reference.clone()),
                        order_date: Some(format_order_date(order.created_at)),
                        currency: Some(order.currency.into()),
                        rma: Some(format!("RMA{}", r.id)),
                        free_return: Some(false),
                        custom_fields: Some(Value::Object(Default::default())),
                        export_date: Some(format_order_date(order.created_at)),
                        export_awb: Some(outbound.tracking_number.clone()),
                        export_carrier_name: Some(outbound.carrier_name.into()),
                        tracking_number: Some(outbound.tracking_number.clone()),
                        invoice_number: Some(format!("INV{}", order.id)),
                        export_mrn: Some(String::new()),
                        products: order
                            .lines
                            .iter()
                            .map(|line| wire::Product {
                                sku: Some(line.product.sku.clone()),
                                description: Some(line.product.name.into()),
                                quantity: Some(i64::from(line.quantity)),
                                price: Some(money_f64(line.product.price_cents)),
                                weight: Some(f64::from(line.product.weight_grams) / 1000.0),
                                weight_uom: Some("kg".into()),
                                dangerous_goods: Some("No".into()),
                                export_date: Some(unix(order.created_at)),
                                export_awb: Some(outbound.tracking_number.clone()),
                                export_carrier_name: Some(outbound.carrier_name.into()),
                                non_returnable: Some(false),
                                days_for_return: Some(30),
                                custom_fields: Some(Value::Object(Default::default())),
                                ..wire::Product::default()
                            })
                            .collect(),
                        contact: wire::Contact {
                            name: Some(person.full_name()),
                            company: None,
                            phone: Some(person.phone.clone()),
                            email: Some(person.email.to_lowercase()),
                        },
                        address,
                        ..wire::Order::default()
                    },
                });
        }
        let next_return_id = returns.keys().max().map_or(123_456_000, |m| m + 1);
        let next_order_id = w.orders.iter().map(|o| o.id as i64).max().unwrap_or(0) + 1;
        // Above every World event id (all parcels share one sequence), so new ids never clash.
        let next_event_id = w
            .parcels
            .iter()
            .flat_map(|p| &p.events)
            .map(|e| e.id as i64)
            .max()
            .unwrap_or(0)
            + 1;
        let mut data = Data {
            returns: BTreeMap::new(),
            by_created: BTreeSet::new(),
            by_tracking: HashMap::with_capacity(returns.len()),
            events: EventIndex::default(),
            orders,
            services: w.services.clone(),
            points: w.dropoff_points.clone(),
            next_return_id,
            next_event_id,
            next_order_id,
            webhook_cursor: 0,
            booking_cursor: 0,
            clock: w.clock,
        };
        for r in returns.into_values() {
            data.insert_return(r);
        }
        data
    }

    /// Adds a return, with its events, to the returns and their indexes.
    fn insert_return(&mut self, r: SimReturn) {
        let id = r.record.id;
        self.by_created.insert((r.created_at, id));
        self.by_tracking.insert(r.tracking_number().to_owned(), id);
        for (position, e) in r.events.iter().enumerate() {
            self.events.add(id, position, e);
        }
        self.returns.insert(id, r);
    }

    /// Adds `event` to return `id` and to the event indexes; the return, when there is one.
    fn add_event(&mut self, id: i64, event: SimEvent) -> Option<&mut SimReturn> {
        let r = self.returns.get_mut(&id)?;
        self.events.add(id, r.events.len(), &event);
        r.events.push(event);
        Some(r)
    }

    fn id_of_tracking(&self, number: &str) -> Option<i64> {
        self.by_tracking.get(number.trim()).copied()
    }

    /// Returns created from `from` to `to` (both inclusive; either end open when absent): with
    /// a bound, from the creation-date index by date; without, every return by id.
    fn created_between(
        &self,
        from: Option<DateTime<FixedOffset>>,
        to: Option<DateTime<FixedOffset>>,
    ) -> Box<dyn Iterator<Item = &SimReturn> + '_> {
        if from.is_none() && to.is_none() {
            return Box::new(self.returns.values());
        }
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Box::new(std::iter::empty());
            }
        }
        let lo = from.map_or(Unbounded, |f| Included((f, i64::MIN)));
        let hi = to.map_or(Unbounded, |t| Included((t, i64::MAX)));
        Box::new(
            self.by_created
                .range((lo, hi))
                .filter_map(|(_, id)| self.returns.get(id)),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope in: key, request, errors

/// The body as JSON, or a form `ApiKey=…&Request=…`. `None` when it is neither.
fn read_body(body: &[u8]) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(Value::Object(Default::default()));
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Some(v);
    }
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains('=') {
        return None;
    }
    let mut url = reqwest::Url::parse("http://form.invalid/").ok()?;
    url.set_query(Some(text.trim()));
    let fields: serde_json::Map<String, Value> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Some(Value::Object(fields))
}

fn field_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn parse<T: DeserializeOwned>(request: Value) -> Result<T, Failure> {
    serde_json::from_value(request)
        .map_err(|e| wrong(format!("The requested data structure is malformed: {e}")))
}

impl Sim {
    fn answer(&self, method: ApiMethod, body: &[u8]) -> Response {
        match self.answer_inner(method, body) {
            Ok(response) => response,
            Err(failure) => failure.into_response(),
        }
    }

    fn answer_inner(&self, method: ApiMethod, body: &[u8]) -> Answer {
        if method == ApiMethod::CheckAvailable {
            // No authorisation; the body is ignored.
            return Ok(success(wire::Availability {
                date: Some(self.clock.now().timestamp()),
            }));
        }
        self.check_not_blocked()?;
        let envelope = read_body(body)
            .ok_or_else(|| fail(error_code::JSON_INVALID, "Requested JSON is invalid."))?;
        let key = match field_ci(&envelope, "ApiKey") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => {
                return Err(fail(
                    error_code::API_KEY_EMPTY,
                    "Field `apiKey` from passed request data is empty.",
                ))
            }
        };
        self.check_key(&key)?;
        let request = match field_ci(&envelope, "Request") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(serde_json::from_str::<Value>(s).map_err(|_| {
                fail(
                    error_code::JSON_INVALID,
                    "Requested JSON is invalid (Field `request` in passed request).",
                )
            })?),
            Some(Value::Array(a)) if a.is_empty() => None,
            Some(other) => Some(other.clone()),
        };
        let request = match request {
            None | Some(Value::Null) => {
                return Err(fail(
                    error_code::REQUEST_EMPTY,
                    "Field `request` from passed request data is empty.",
                ))
            }
            Some(r) => r,
        };
        if request.to_string().contains(INTERNAL_ERROR_TRIGGER) {
            return Err(fail(error_code::INTERNAL, "Internal server error."));
        }
        let mut data = self.data.lock();
        data.dispatch(method, request)
    }

    fn check_not_blocked(&self) -> Result<(), Failure> {
        let mut guard = self.guard.lock();
        match guard.blocked_until {
            Some(until) if Instant::now() < until => Err(fail(
                error_code::IP_BLOCKED,
                "Your IP address was blocked due to many incorrect login attempts.",
            )),
            Some(_) => {
                *guard = Guard::default();
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// All callers share one counter: every caller of a simulator is on this machine, one
    /// address as the vendor would see it.
    fn check_key(&self, key: &str) -> Result<(), Failure> {
        let mut guard = self.guard.lock();
        if key == self.api_key {
            guard.wrong_keys = 0;
            return Ok(());
        }
        guard.wrong_keys += 1;
        if guard.wrong_keys >= WRONG_KEYS_BEFORE_BLOCK {
            guard.blocked_until = Some(Instant::now() + BLOCK_FOR);
        }
        Err(fail(
            error_code::ACCESS_DENIED,
            "Passed field `apiKey` is incorrect.",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Methods

fn filter_date(raw: &Option<String>, name: &str) -> Result<Option<DateTime<FixedOffset>>, Failure> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_filter_date(s)
            .map(Some)
            .ok_or_else(|| wrong(format!("{name} must be YYYY/MM/DD HH:MM:SS, got {s:?}"))),
    }
}

fn in_range(
    at: DateTime<FixedOffset>,
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
) -> bool {
    from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
}

/// Any whitespace-separated term occurring in one of `haystack` matches (case-insensitive):
/// the doc's example searches a reference and a tracking number at once.
fn full_text(terms: &Option<String>, haystack: &[Option<&str>]) -> bool {
    let Some(terms) = terms.as_deref() else {
        return true;
    };
    let hay: Vec<String> = haystack
        .iter()
        .flatten()
        .map(|s| s.to_lowercase())
        .collect();
    terms
        .split_whitespace()
        .map(str::to_lowercase)
        .any(|t| hay.iter().any(|h| h.contains(&t)))
        || terms.trim().is_empty()
}

fn same(a: &Option<String>, b: Option<&str>) -> bool {
    match a.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => true,
        Some(want) => b.is_some_and(|b| b.eq_ignore_ascii_case(want)),
    }
}

fn haversine_km(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    6371.0 * 2.0 * a.sqrt().asin()
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn point_hours(hours: &world::WeekHours) -> (String, wire::DetailHours) {
    const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
    let day = |i: usize| match &hours[i] {
        None => wire::DayHours::Closed,
        Some(ranges) if ranges.is_empty() => wire::DayHours::Closed,
        Some(ranges) => wire::DayHours::Open(
            ranges
                .iter()
                .map(|(from, to)| format!("{}-{}", hhmm(*from), hhmm(*to)))
                .collect(),
        ),
    };
    let text = DAYS
        .iter()
        .enumerate()
        .map(|(i, name)| match day(i) {
            wire::DayHours::Closed => format!("{name} closed"),
            wire::DayHours::Open(r) => format!("{name} {}", r.join(" ")),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let detail = wire::DetailHours {
        mo: day(0),
        tu: day(1),
        we: day(2),
        th: day(3),
        fr: day(4),
        sa: day(5),
        su: day(6),
    };
    (text, detail)
}

impl Data {
    fn dispatch(&mut self, method: ApiMethod, request: Value) -> Answer {
        match method {
            ApiMethod::OrdersCreate => self.orders_create(parse(request)?),
            ApiMethod::OrdersUpdate => self.orders_update(parse(request)?),
            ApiMethod::OrdersGet => self.orders_get(parse(request)?),
            ApiMethod::OrdersDelete => self.orders_delete(parse(request)?),
            ApiMethod::OrdersSearch => self.orders_search(parse(request)?),
            ApiMethod::ServicesGet => self.services_get(parse(request)?),
            ApiMethod::DropoffPoints => self.dropoff_points(parse(request)?),
            ApiMethod::ReturnsCreate => self.returns_create(parse(request)?),
            ApiMethod::ReturnsFind => self.returns_find(parse(request)?),
            ApiMethod::ReturnsGet => self.returns_get(parse(request)?),
            ApiMethod::ReturnsSearch => self.returns_search(parse(request)?),
            ApiMethod::ReturnsCancel => self.returns_cancel(parse(request)?),
            ApiMethod::TrackingGet => self.tracking_get(parse(request)?),
            ApiMethod::TrackingRange => self.tracking_page(parse(request)?, false),
            ApiMethod::TrackingAdded => self.tracking_page(parse(request)?, true),
            ApiMethod::TrackingAdd => self.tracking_add(parse(request)?),
            ApiMethod::CheckAvailable => Ok(success(wire::Availability {
                date: Some(self.clock.now().timestamp()),
            })),
        }
    }

    // -- Orders --

    fn orders_create(&mut self, req: wire::OrderRequest<wire::Order>) -> Answer {
        let mut order = req.order;
        let reference = order
            .order_reference
            .clone()
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| wrong("OrderReference is required"))?;
        if self.orders.contains_key(&reference) {
            return Err(wrong(format!("Order {reference} already exists")));
        }
        let created_at = order
            .order_date
            .as_deref()
            .and_then(vendors::procarrier::mapping::parse_order_date)
            .unwrap_or_else(|| self.clock.now().fixed_offset());
        let id = self.next_order_id;
        self.next_order_id += 1;
        order.id = None;
        self.orders.insert(
            reference.clone(),
            SimOrder {
                id,
                order,
                created_at,
            },
        );
        Ok(success(wire::OrderSaved {
            message: Some("Order successfully created".into()),
            order_reference: Some(reference),
            order_id: Some(id),
        }))
    }

    /// Answered in lower camel case (`success`, `orderId`), as the doc shows.
    fn orders_update(&mut self, req: wire::OrderRequest<wire::Order>) -> Answer {
        let mut order = req.order;
        let id = order.id.ok_or_else(|| wrong("Order Id is required"))?;
        let old_reference = self
            .orders
            .iter()
            .find(|(_, o)| o.id == id)
            .map(|(r, _)| r.clone())
            .ok_or_else(|| wrong(format!("Order {id} not found")))?;
        let Some(mut saved) = self.orders.remove(&old_reference) else {
            return Err(wrong(format!("Order {id} not found")));
        };
        let reference = order
            .order_reference
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or(old_reference);
        // `IxportMRN` is the update's spelling; stored as the `ExportMRN` that get answers.
        if let Some(mrn) = order.ixport_mrn.take() {
            order.export_mrn = Some(mrn);
        }
        order.id = None;
        order.order_reference = Some(reference.clone());
        if let Some(created) = order
            .order_date
            .as_deref()
            .and_then(vendors::procarrier::mapping::parse_order_date)
        {
            saved.created_at = created;
        }
        saved.order = order;
        self.orders.insert(reference.clone(), saved);
        Ok(Json(wire::OrderUpdatedLower {
            success: wire::OrderUpdatedLowerBody {
                message: "Order successfully updated".into(),
                order_reference: reference,
                order_id: id,
            },
        })
        .into_response())
    }

    fn find_order(&self, by: &wire::FieldValue) -> Result<String, Failure> {
        let value = by.value.trim();
        let found = match by.field.to_ascii_lowercase().as_str() {
            "reference" | "orderreference" => self.orders.get(value).map(|_| value.to_owned()),
            "id" => self
                .orders
                .iter()
                .find(|(_, o)| o.id.to_string() == value)
                .map(|(r, _)| r.clone()),
            other => return Err(wrong(format!("Unknown field {other:?}"))),
        };
        found.ok_or_else(|| wrong(format!("Order {value} not found")))
    }

    fn orders_get(&mut self, req: wire::OrderRequest<wire::FieldValue>) -> Answer {
        let reference = self.find_order(&req.order)?;
        match self.orders.get(&reference) {
            Some(o) => Ok(success(&o.order)),
            None => Err(wrong(format!("Order {reference} not found"))),
        }
    }

    fn orders_delete(&mut self, req: wire::OrderRequest<wire::FieldValue>) -> Answer {
        let reference = self.find_order(&req.order)?;
        self.orders.remove(&reference);
        Ok(success(wire::MessageResult {
            message: Some("Order successfully deleted".into()),
        }))
    }

    fn orders_search(&mut self, req: wire::FilterRequest<wire::SearchFilter>) -> Answer {
        let f = req.filter;
        let (from, to) = (
            filter_date(&f.date_from, "DateFrom")?,
            filter_date(&f.date_to, "DateTo")?,
        );
        let mut ids: Vec<i64> = self
            .orders
            .values()
            .filter(|o| in_range(o.created_at, from, to))
            .filter(|o| {
                full_text(
                    &f.full_text_search,
                    &[
                        o.order.order_reference.as_deref(),
                        o.order.tracking_number.as_deref(),
                        o.order.contact.email.as_deref(),
                        o.order.contact.name.as_deref(),
                    ],
                )
            })
            .map(|o| o.id)
            .collect();
        ids.sort_unstable();
        Ok(success(wire::IdList { id: ids }))
    }

    // -- Services and drop-off points --

    fn services_get(&mut self, req: wire::ServicesRequest) -> Answer {
        let country = req
            .service
            .as_ref()
            .and_then(|a| a.country.as_deref())
            .map(|c| c.trim().to_ascii_uppercase());
        let services = self
            .services
            .iter()
            .filter(|s| country.as_deref().is_none_or(|c| s.countries.contains(&c)))
            .map(|s| wire::Service {
                carrier: Some(s.carrier.into()),
                service_id: i64::from(s.id),
                service_name: Some(s.name.into()),
                service_type: Some(s.kind.into()),
                service_logo: Some(format!(
                    "https://static.procarrier.invalid/logos/{}.png",
                    s.carrier.to_lowercase()
                )),
                commercial_service: Some(wire::CommercialService {
                    name: Some(s.name.into()),
                    billing_code: Some(format!("BC{}", s.id)),
                }),
                local_carrier: Some(wire::LocalCarrier {
                    name: Some(s.carrier.into()),
                    logo: Some(format!(
                        "https://static.procarrier.invalid/logos/{}.png",
                        s.carrier.to_lowercase()
                    )),
                    pudo_locator_url: (s.kind == "drop_off").then(|| {
                        format!(
                            "https://pudo.procarrier.invalid/{}",
                            s.carrier.to_lowercase()
                        )
                    }),
                }),
            })
            .collect();
        Ok(success(wire::ServicesResult { services }))
    }

    /// Filtered by service ids (none: all), by radius in km around `Coordinates` (default 10),
    /// or without coordinates by the address' country; nearest first.
    fn dropoff_points(&mut self, req: wire::DropOffRequest) -> Answer {
        let f = req.request;
        if f.services.is_empty() {
            // The doc's request names the services to search: at least one is needed.
            return Err(wrong("Services must name at least one service"));
        }
        let centre = match &f.coordinates {
            Some(c) => Some((
                c.lat
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| wrong(format!("Coordinates.Lat {:?} is not a number", c.lat)))?,
                c.lng,
            )),
            None => None,
        };
        let radius = f.radius.unwrap_or(10.0);
        let country = f
            .address
            .as_ref()
            .and_then(|a| a.country.as_deref())
            .map(|c| c.trim().to_ascii_uppercase());
        let mut points: Vec<(f64, &world::DropOffPoint)> = self
            .points
            .iter()
            .filter(|p| f.services.contains(&i64::from(p.service_id)))
            .filter_map(|p| match centre {
                Some((lat, lng)) => {
                    let d = haversine_km(lat, lng, p.lat, p.lng);
                    (d <= radius).then_some((d, p))
                }
                None => country
                    .as_deref()
                    .is_none_or(|c| c == p.country)
                    .then_some((0.0, p)),
            })
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));

        let carrier_ids: BTreeMap<&str, i64> = self
            .services
            .iter()
            .map(|s| s.carrier)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .zip(1..)
            .collect();
        let mut carriers: Vec<wire::DropOffCarrier> = Vec::new();
        for (_, p) in points {
            let service_name = self
                .services
                .iter()
                .find(|s| s.id == p.service_id)
                .map(|s| s.name.to_owned());
            let carrier = match carriers
                .iter_mut()
                .position(|c| c.name.as_deref() == Some(p.carrier))
            {
                Some(i) => &mut carriers[i],
                None => {
                    carriers.push(wire::DropOffCarrier {
                        id: carrier_ids.get(p.carrier).copied(),
                        name: Some(p.carrier.into()),
                        services: Vec::new(),
                    });
                    let last = carriers.len() - 1;
                    &mut carriers[last]
                }
            };
            let service = match carrier
                .services
                .iter()
                .position(|s| s.id == Some(i64::from(p.service_id)))
            {
                Some(i) => &mut carrier.services[i],
                None => {
                    carrier.services.push(wire::DropOffService {
                        id: Some(i64::from(p.service_id)),
                        name: service_name,
                        points: Vec::new(),
                    });
                    let last = carrier.services.len() - 1;
                    &mut carrier.services[last]
                }
            };
            let (hours, detail) = point_hours(&p.hours);
            service.points.push(wire::DropOffPoint {
                id: p.id.to_string(),
                title: Some(p.title.clone()),
                address_detail: Some(wire::Address {
                    country: Some(p.country.into()),
                    city: Some(p.city.into()),
                    address_line1: Some(p.address.clone()),
                    ..wire::Address::default()
                }),
                hours: Some(hours),
                detail_hours: Some(detail),
                lat: format!("{:.6}", p.lat),
                lng: (p.lng * 1e6).round() / 1e6,
            });
        }
        Ok(success(wire::DropOffResult { carriers }))
    }

    // -- Returns --

    fn returns_create(&mut self, req: wire::ReturnRequest<wire::NewReturn>) -> Answer {
        let new = req.r#return;
        let service_id = new
            .service_id
            .ok_or_else(|| wrong("ServiceId is required"))?;
        let service = self
            .services
            .iter()
            .find(|s| i64::from(s.id) == service_id)
            .ok_or_else(|| wrong(format!("Service {service_id} is not available")))?;
        let carrier = service.carrier.to_owned();
        if let Some(external) = new.external_id.as_deref() {
            if self
                .returns
                .values()
                .any(|r| r.external_id.as_deref() == Some(external))
            {
                return Err(wrong(format!("ExternalId {external} already exists")));
            }
        }
        match new.label_format.as_deref() {
            None | Some("pdf") => {}
            Some(other) => return Err(wrong(format!("LabelFormat {other:?} is not supported"))),
        }
        let id = self.next_return_id;
        self.next_return_id += 1;
        let now = self.clock.now().fixed_offset();
        let created_at = new
            .date_added
            .and_then(vendors::procarrier::mapping::from_unix)
            .unwrap_or(now);
        let tracking_number = format!("PCR{id:010}");
        let event_id = self.next_event_id;
        self.next_event_id += 1;
        let event = SimEvent {
            event: wire::TrackingEvent {
                id: Some(event_id),
                dt: now.timestamp(),
                status: 10,
                description: status_description(10).map(str::to_owned),
                location: Some(wire::EventLocation {
                    country: new.address.country.clone(),
                    state: new.address.state.clone(),
                    city: new.address.city.clone(),
                }),
                date_added: None,
            },
            date_added: now.timestamp(),
        };
        let record = wire::ReturnRecord {
            id,
            order_reference: new.order_reference.clone(),
            date_added: Some(format_date_added(created_at)),
            display_id: new
                .display_id
                .clone()
                .or_else(|| new.order_reference.clone()),
            carrier: Some(carrier),
            export_date: new.products.iter().find_map(|p| p.export_date),
            export_awb: new.products.iter().find_map(|p| p.export_awb.clone()),
            export_carrier_name: new
                .products
                .iter()
                .find_map(|p| p.export_carrier_name.clone()),
            products: new.products.clone(),
            custom_fields: Some(Value::Object(Default::default())),
            phone: new.contact.phone.clone(),
            email: new.contact.email.clone(),
            tracking_number: Some(tracking_number.clone()),
            tracking_last_update: Some(now.timestamp()),
            current_tracking_status: Some(10),
            address: new.address.clone(),
            name: new.contact.name.clone(),
            company: new.contact.company.clone(),
            ..wire::ReturnRecord::default()
        };
        self.insert_return(SimReturn {
            record,
            created_at,
            service_id,
            external_id: new.external_id.clone(),
            events: vec![event],
        });
        let a = &new.address;
        Ok(success(wire::ReturnCreated {
            tracking_number: tracking_number.clone(),
            first_mile_address: Some(wire::Address {
                address_line1: a.address_line1.clone(),
                address_line2: Some(a.address_line2.clone().unwrap_or_default()),
                city: a.city.clone(),
                zip: a.zip.clone(),
                state: a.state.clone(),
                country: a.country.clone(),
                ..wire::Address::default()
            }),
            secondary_barcode: None,
            secondary_barcodes: vec![format!("sec_{id}"), format!("SEC_{tracking_number}")],
            label_content_yype: Some("application/pdf".into()),
            label_image: Some(LABEL_PDF_BASE64.into()),
        }))
    }

    fn returns_find(&mut self, req: wire::FilterRequest<wire::SearchFilter>) -> Answer {
        let f = req.filter;
        let (from, to) = (
            filter_date(&f.date_from, "DateFrom")?,
            filter_date(&f.date_to, "DateTo")?,
        );
        let mut ids: Vec<i64> = self
            .created_between(from, to)
            .filter(|r| same(&f.tracking_number, r.record.tracking_number.as_deref()))
            .filter(|r| same(&f.order_reference, r.record.order_reference.as_deref()))
            .filter(|r| full_text(&f.full_text_search, &searchable(r)))
            .map(|r| r.record.id)
            .collect();
        ids.sort_unstable();
        Ok(success(wire::NestedIdList { id: vec![ids] }))
    }

    fn returns_get(&mut self, req: wire::ReturnRequest<wire::ReturnLookup>) -> Answer {
        let lookup = req.r#return;
        let value = lookup.value.trim();
        let field = lookup.field.to_ascii_lowercase();
        if !RETURN_FIELDS.contains(&field.as_str()) {
            return Err(wrong(format!("Unknown field {:?}", lookup.field)));
        }
        let found = match field.as_str() {
            "id" => value
                .parse::<i64>()
                .ok()
                .filter(|id| id.to_string() == value)
                .and_then(|id| self.returns.get(&id)),
            "tracking" | "trackingnumber" => self
                .id_of_tracking(value)
                .and_then(|id| self.returns.get(&id)),
            "orderreference" | "reference" => self
                .returns
                .values()
                .find(|r| r.record.order_reference.as_deref() == Some(value)),
            "displayid" => self
                .returns
                .values()
                .find(|r| r.record.display_id.as_deref() == Some(value)),
            _ => self
                .returns
                .values()
                .find(|r| r.external_id.as_deref() == Some(value)),
        };
        let r = found.ok_or_else(|| wrong(format!("Return {value} not found")))?;
        match lookup.label_format.as_deref() {
            None | Some("pdf") => {}
            Some(other) => return Err(wrong(format!("LabelFormat {other:?} is not supported"))),
        }
        Ok(success(wire::ReturnRecord {
            label_content_type: Some("application/pdf".into()),
            label_image: Some(LABEL_PDF_BASE64.into()),
            ..r.record.clone()
        }))
    }

    /// Rows with `Id` above `IdLast`, by id, at most 1000 (the vendor's limit; it has no page
    /// size to ask for more). `Total` counts every row the filter matches, cursor aside.
    fn returns_search(&mut self, req: wire::FilterRequest<wire::ReturnSearchFilter>) -> Answer {
        let f = req.filter;
        let (from, to) = (
            filter_date(&f.date_from, "DateFrom")?,
            filter_date(&f.date_to, "DateTo")?,
        );
        let mut matching: Vec<&SimReturn> = self
            .created_between(from, to)
            .filter(|r| same(&f.order_reference, r.record.order_reference.as_deref()))
            .filter(|r| same(&f.country, r.record.address.country.as_deref()))
            .filter(|r| f.service_id.is_none_or(|s| s == r.service_id))
            // The doc does not say how `Status` differs from `CurrentTrackingStatus`; both are
            // read as the current tracking status code.
            .filter(|r| {
                f.status
                    .is_none_or(|s| r.record.current_tracking_status == Some(s))
            })
            .filter(|r| {
                f.current_tracking_status
                    .is_none_or(|s| r.record.current_tracking_status == Some(s))
            })
            .filter(|r| full_text(&f.full_text_search, &searchable(r)))
            .collect();
        let total = matching.len() as i64;
        matching.retain(|r| f.id_last.is_none_or(|last| r.record.id > last));
        // The lowest ids past the cursor, without sorting every match.
        let limit = wire::RETURNS_SEARCH_LIMIT;
        if matching.len() > limit {
            matching.select_nth_unstable_by_key(limit, |r| r.record.id);
            matching.truncate(limit);
        }
        matching.sort_unstable_by_key(|r| r.record.id);
        let rows = matching.into_iter().map(|r| r.record.clone()).collect();
        Ok(success(wire::ReturnSearchResult {
            total: Some(total),
            r#return: rows,
        }))
    }

    /// A cancel moves the return to 300 (cancel requested); one delivered to the retailer can
    /// no longer be cancelled.
    fn returns_cancel(&mut self, req: wire::ReturnRequest<wire::ReturnCancel>) -> Answer {
        let key = req.r#return;
        if key.external_id.is_none() && key.tracking_number.is_none() {
            return Err(wrong("ExternalId or TrackingNumber is required"));
        }
        let tracking = key.tracking_number.as_deref();
        let id = match key.external_id.as_deref() {
            // No index of external ids: the first return with either key, by id.
            Some(external) => self
                .returns
                .values()
                .find(|r| {
                    r.external_id.as_deref() == Some(external)
                        || tracking.is_some_and(|t| r.tracking_number() == t)
                })
                .map(|r| r.record.id),
            None => tracking.and_then(|t| self.by_tracking.get(t).copied()),
        }
        .ok_or_else(|| wrong("Return not found"))?;
        match self.returns[&id].record.current_tracking_status {
            Some(60 | 70) => return Err(wrong("Return was already delivered to the retailer")),
            Some(300 | 310) => {}
            _ => {
                let now = self.clock.now().timestamp();
                let event_id = self.next_event_id;
                self.next_event_id += 1;
                let event = SimEvent {
                    event: wire::TrackingEvent {
                        id: Some(event_id),
                        dt: now,
                        status: 300,
                        description: status_description(300).map(str::to_owned),
                        location: None,
                        date_added: None,
                    },
                    date_added: now,
                };
                if let Some(r) = self.add_event(id, event) {
                    r.record.current_tracking_status = Some(300);
                    r.record.tracking_last_update = Some(now);
                }
            }
        }
        let r = &self.returns[&id];
        Ok(success(wire::ReturnCancelled {
            result: wire::ReturnCancelDetail {
                message: Some("Return cancel requested".into()),
                tracking_number: r.record.tracking_number.clone(),
                external_id: r.external_id.clone(),
                status: Some("Return cancel requested".into()),
            },
        }))
    }

    // -- Tracking --

    fn by_tracking_number(&self, number: &str) -> Option<&SimReturn> {
        self.id_of_tracking(number)
            .and_then(|id| self.returns.get(&id))
    }

    fn tracking_get(&mut self, req: wire::TrackingGetRequest) -> Answer {
        let code = req.tracking_number.code;
        let r = self
            .by_tracking_number(&code)
            .ok_or_else(|| wrong(format!("Tracking number {code} not found")))?;
        Ok(success(r.tracking(false)))
    }

    /// Pages of events (by id, after `LastId`), grouped per parcel; `added` filters the dates
    /// on when events were added instead of when they happened.
    fn tracking_page(
        &mut self,
        req: wire::FilterRequest<wire::TrackingRangeFilter>,
        added: bool,
    ) -> Answer {
        let f = req.filter;
        // Every example of the doc sends the pair: a range needs both ends.
        let (Some(from), Some(to)) = (
            filter_date(&f.date_from, "DateFrom")?,
            filter_date(&f.date_to, "DateTo")?,
        ) else {
            return Err(wrong("DateFrom and DateTo are required"));
        };
        if from > to {
            return Err(wrong("DateFrom is after DateTo"));
        }
        let page = f.page.unwrap_or(1);
        if page < 1 {
            return Err(wrong("Page starts at 1"));
        }
        let per_page = f
            .count_per_page
            .unwrap_or(i64::from(wire::TRACKING_MAX_PER_PAGE))
            .clamp(1, i64::from(wire::TRACKING_MAX_PER_PAGE));
        // The window's events from the index, by id: a page costs its window, not the world.
        let mut events: Vec<(i64, &SimReturn, &SimEvent)> = self
            .events
            .between(added, from.timestamp(), to.timestamp())
            .filter(|(_, id, _, _)| f.last_id.is_none_or(|last| *id > last))
            .filter_map(|&(_, id, return_id, position)| {
                let r = self.returns.get(&return_id)?;
                Some((id, r, r.events.get(position)?))
            })
            .filter(|(_, r, _)| same(&f.source_country, r.record.address.country.as_deref()))
            .collect();
        events.sort_by_key(|(id, _, _)| *id);
        let total = events.len() as i64;
        let pages = (total + per_page - 1) / per_page;
        let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
        let mut data: Vec<wire::TrackingRecord> = Vec::new();
        // Parcels in the order their first event comes on the page.
        let mut parcels: HashMap<i64, usize> = HashMap::new();
        for (_, r, e) in events.into_iter().skip(start).take(per_page as usize) {
            let out = event_out(e, added);
            match parcels.get(&r.record.id) {
                Some(&i) => data[i].events.push(out),
                None => {
                    parcels.insert(r.record.id, data.len());
                    data.push(r.tracking_with(vec![out]));
                }
            }
        }
        Ok(success(wire::TrackingPage {
            tracking_data: data,
            total_events_count: Some(total),
            current_page: Some(page),
            total_pages_count: Some(pages),
            count_per_page: Some(per_page),
        }))
    }

    fn tracking_add(&mut self, req: wire::TrackingAddRequest) -> Answer {
        let s = req.tracking_status;
        let at = parse_filter_date(&s.date).ok_or_else(|| {
            wrong(format!(
                "Date must be YYYY/MM/DD HH:MM:SS, got {:?}",
                s.date
            ))
        })?;
        let added_at = match s.date_added.as_deref().map(str::trim) {
            None | Some("") => self.clock.now().fixed_offset(),
            Some(d) => parse_filter_date(d).ok_or_else(|| {
                wrong(format!("DateAdded must be YYYY/MM/DD HH:MM:SS, got {d:?}"))
            })?,
        };
        if status_description(s.status).is_none() {
            return Err(wrong(format!("Unknown tracking status {}", s.status)));
        }
        let id = self
            .id_of_tracking(&s.tracking_number)
            .ok_or_else(|| wrong(format!("Tracking number {} not found", s.tracking_number)))?;
        let event_id = self.next_event_id;
        self.next_event_id += 1;
        let event = SimEvent {
            event: wire::TrackingEvent {
                id: Some(event_id),
                dt: at.timestamp(),
                status: s.status,
                description: s
                    .description
                    .clone()
                    .or_else(|| status_description(s.status).map(str::to_owned)),
                location: s.location.clone(),
                date_added: None,
            },
            date_added: added_at.timestamp(),
        };
        let r = self
            .add_event(id, event)
            .ok_or_else(|| wrong(format!("Tracking number {} not found", s.tracking_number)))?;
        r.record.current_tracking_status = Some(s.status);
        r.record.tracking_last_update = Some(at.timestamp());
        let reference = r
            .record
            .order_reference
            .clone()
            .unwrap_or_else(|| r.record.id.to_string());
        Ok(success(wire::Acknowledgement {
            code: Some("success".into()),
            message: vec![format!("Return {reference} updated successfully")],
        }))
    }
}

fn searchable(r: &SimReturn) -> [Option<&str>; 5] {
    [
        r.record.order_reference.as_deref(),
        r.record.tracking_number.as_deref(),
        r.record.display_id.as_deref(),
        r.record.email.as_deref(),
        r.record.name.as_deref(),
    ]
}

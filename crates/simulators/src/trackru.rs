//! Simulator of TrackRU (`/v1/...`, `Api-Key` header, `{"meta","data"}` envelopes).
//!
//! Every parcel of the [`World`] is a tracking of the account: its events become
//! `origin_info.trackinfo[]` checkpoints (TrackingMore's shape, newest first, `Date` as
//! `YYYY-MM-DD HH:MM:SS` in the event's local time) and its status is that of the last one.
//! State lives in the router: created trackings are found by get and list, updates and
//! deletes show. Normal traffic is not rate-limited (pacing is the gateway's job; 429s come
//! from the shared fault knob), except the vendor's own rule that `realtime` looks up the same
//! parcel at most once per two hours.
//!
//! A world parcel is written out as a tracking when it is read, not kept written: a large world
//! holds hundreds of thousands of them. One is kept whole once an update changes it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, FixedOffset};
use serde::Serialize;

use crate::settings::SimCredentials;
use crate::world::{Clock, Milestone, Parcel, World};
use vendors::trackru::client::{BATCH_LIMIT, MAX_PAGE_SIZE, OVER_BATCH_LIMIT};
use vendors::trackru::wire::{
    status_command, BatchError, BatchResult, CarrierInfo, Checkpoint, CreateTracking, Envelope,
    ListPage, ListQuery, Meta, RealtimeRequest, RealtimeResult, Tracking, UpdateTracking,
};

/// The vendor's rule: `realtime` for the same parcel at most once per two hours.
const REALTIME_INTERVAL: StdDuration = StdDuration::from_secs(2 * 60 * 60);
const DEFAULT_PAGE_SIZE: u32 = 100;

/// (tracking_number, carrier_code lower-cased): the number first, so that every carrier's
/// tracking of one number is a range of the map.
type Key = (String, String);

/// Where a tracking's fields come from.
enum Source {
    /// A world parcel ([`World::parcels`] index), written out when read.
    World(usize),
    /// Created through the API, or a world parcel since updated.
    Kept(Box<Tracking>),
}

struct Stored {
    source: Source,
    /// The carrier's own status, restored by the update command 8 after a manual override.
    carrier_status: &'static str,
    created_unix: i64,
    updated_unix: i64,
}

impl Stored {
    fn tracking(&self, world: &World) -> Tracking {
        match &self.source {
            Source::World(parcel) => world_tracking(world, &world.parcels[*parcel]),
            Source::Kept(tracking) => (**tracking).clone(),
        }
    }

    /// The tracking, kept whole from now on so that it can be changed.
    fn kept(&mut self, world: &World) -> &mut Tracking {
        if let Source::World(parcel) = self.source {
            self.source = Source::Kept(Box::new(world_tracking(world, &world.parcels[parcel])));
        }
        match &mut self.source {
            Source::Kept(tracking) => tracking,
            Source::World(_) => unreachable!("kept just above"),
        }
    }

    fn status(&self) -> Option<&str> {
        match &self.source {
            // Until an update, a world parcel's status is its carrier's.
            Source::World(_) => Some(self.carrier_status),
            Source::Kept(tracking) => tracking.status.as_deref(),
        }
    }

    fn order_id<'a>(&'a self, world: &'a World) -> Option<&'a str> {
        match &self.source {
            Source::World(parcel) => Some(
                world.orders[world.parcels[*parcel].order]
                    .reference
                    .as_str(),
            ),
            Source::Kept(tracking) => tracking.order_id.as_deref(),
        }
    }
}

struct Store {
    world: Arc<World>,
    /// Every tracking ever added, in the order added (ties of the list's order go by it);
    /// `None` once deleted.
    trackings: Vec<Option<Stored>>,
    by_key: BTreeMap<Key, usize>,
    /// (created_unix, position in `trackings`): the list's order, read backwards.
    by_created: BTreeSet<(i64, usize)>,
    /// When each parcel was last looked up in realtime, on the simulator's clock.
    realtime_asked: HashMap<Key, DateTime<FixedOffset>>,
}

impl Store {
    fn new(world: Arc<World>) -> Store {
        let mut store = Store {
            world: world.clone(),
            trackings: Vec::with_capacity(world.parcels.len()),
            by_key: BTreeMap::new(),
            by_created: BTreeSet::new(),
            realtime_asked: HashMap::new(),
        };
        for (index, parcel) in world.parcels.iter().enumerate() {
            let (created, updated) = world_times(&world, parcel);
            let key = key_of(parcel.carrier_code, &parcel.tracking_number);
            store.insert(
                key,
                Stored {
                    source: Source::World(index),
                    carrier_status: world_status(parcel),
                    created_unix: created.timestamp(),
                    updated_unix: updated.timestamp(),
                },
            );
        }
        store
    }

    fn insert(&mut self, key: Key, stored: Stored) {
        let position = self.trackings.len();
        self.by_created.insert((stored.created_unix, position));
        self.by_key.insert(key, position);
        self.trackings.push(Some(stored));
    }

    fn get(&self, key: &Key) -> Option<&Stored> {
        self.by_key
            .get(key)
            .and_then(|&p| self.trackings[p].as_ref())
    }

    fn get_mut(&mut self, key: &Key) -> Option<&mut Stored> {
        self.by_key
            .get(key)
            .and_then(|&p| self.trackings[p].as_mut())
    }

    fn remove(&mut self, key: &Key) -> Option<Stored> {
        let position = self.by_key.remove(key)?;
        let stored = self.trackings[position].take()?;
        self.by_created.remove(&(stored.created_unix, position));
        Some(stored)
    }

    /// Positions of the trackings of `number`, under any carrier.
    fn of_number<'a>(&'a self, number: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.by_key
            .range((number.to_owned(), String::new())..)
            .take_while(move |((n, _), _)| n == number)
            .map(|(_, &p)| p)
    }
}

#[derive(Clone)]
struct Sim {
    store: Arc<Mutex<Store>>,
    api_key: Arc<str>,
    clock: Clock,
    control: Arc<crate::SimControl>,
}

impl Sim {
    /// The world's clock, moved on by what tests skipped ([`crate::SimControl::skip_ahead`]).
    fn now(&self) -> DateTime<FixedOffset> {
        (self.clock.now() + self.control.skipped()).fixed_offset()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock()
    }
}

pub fn router(
    world: &Arc<World>,
    credentials: &SimCredentials,
    control: Arc<crate::SimControl>,
) -> Router {
    let sim = Sim {
        store: Arc::new(Mutex::new(Store::new(world.clone()))),
        api_key: credentials.trackru_api_key.expose().into(),
        clock: world.clock,
        control,
    };
    Router::new()
        .route("/v1/trackings/post", post(create))
        .route("/v1/trackings/batch", post(batch))
        .route("/v1/trackings/get", get(list))
        .route("/v1/trackings/realtime", post(realtime))
        .route(
            "/v1/trackings/{carrier_code}/{tracking_number}",
            get(get_one).put(update).delete(delete),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            check_api_key,
        ))
        .method_not_allowed_fallback(|| async {
            vendor_error(
                StatusCode::METHOD_NOT_ALLOWED,
                405,
                "Method Not Allowed",
                "The specified resource does not support the request's method.",
            )
        })
        .fallback(|| async {
            vendor_error(
                StatusCode::NOT_FOUND,
                404,
                "Not Found",
                "The requested resource could not be found.",
            )
        })
        .with_state(sim)
}

async fn check_api_key(State(sim): State<Sim>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get("Api-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    if given != Some(&*sim.api_key) || sim.api_key.is_empty() {
        return vendor_error(
            StatusCode::UNAUTHORIZED,
            4001,
            "Unauthorized",
            "Invalid API key.",
        );
    }
    next.run(req).await
}

// ---- handlers ----------------------------------------------------------------------------

async fn create(State(sim): State<Sim>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<CreateTracking>(&body) else {
        return bad_json();
    };
    let mut store = sim.store();
    match add(&mut store, &request, sim.now()) {
        Ok(tracking) => success(201, "Created", CREATED_MESSAGE, tracking),
        Err((code, message)) => refusal(code, message),
    }
}

const CREATED_MESSAGE: &str = "The request was successful and a resource was created.";

async fn batch(State(sim): State<Sim>, body: Bytes) -> Response {
    let Ok(requests) = serde_json::from_slice::<Vec<CreateTracking>>(&body) else {
        return bad_json();
    };
    if requests.is_empty() {
        return refusal(4012, "The request was missing required parameters.");
    }
    if requests.len() > BATCH_LIMIT {
        return refusal(OVER_BATCH_LIMIT, &format!("Up to {BATCH_LIMIT} at a time."));
    }
    let now = sim.now();
    let mut store = sim.store();
    let mut result = BatchResult {
        submitted: Some(requests.len() as u64),
        ..BatchResult::default()
    };
    for request in &requests {
        match add(&mut store, request, now) {
            Ok(tracking) => result.trackings.push(tracking),
            Err((code, message)) => result.errors.push(BatchError {
                tracking_number: request.tracking_number.clone(),
                carrier_code: request.carrier_code.clone(),
                code,
                message: message.to_owned(),
            }),
        }
    }
    result.added = Some(result.trackings.len() as u64);
    if result.trackings.is_empty() {
        success(200, "Success", "Success", result)
    } else {
        success(201, "Created", CREATED_MESSAGE, result)
    }
}

async fn get_one(
    State(sim): State<Sim>,
    Path((carrier_code, tracking_number)): Path<(String, String)>,
) -> Response {
    let store = sim.store();
    match store.get(&key_of(&carrier_code, &tracking_number)) {
        Some(stored) => success(200, "Success", "Success", stored.tracking(&store.world)),
        None => not_found(),
    }
}

async fn update(
    State(sim): State<Sim>,
    Path((carrier_code, tracking_number)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Ok(update) = serde_json::from_slice::<UpdateTracking>(&body) else {
        return bad_json();
    };
    let mut store = sim.store();
    let world = store.world.clone();
    let Some(stored) = store.get_mut(&key_of(&carrier_code, &tracking_number)) else {
        return not_found();
    };
    let status = match update.status {
        None => None,
        Some(status_command::DELIVERED) => Some("4".to_owned()),
        Some(status_command::EXCEPTION) => Some("7".to_owned()),
        Some(status_command::CARRIER_STATUS) => Some(stored.carrier_status.to_owned()),
        Some(_) => return refusal(4033, "The value of `status` is invalid."),
    };
    let now = sim.now();
    stored.updated_unix = now.timestamp();
    let t = stored.kept(&world);
    let fields = [
        (&mut t.title, update.title),
        (&mut t.logistics_channel, update.logistics_channel),
        (&mut t.customer_name, update.customer_name),
        (&mut t.customer_email, update.customer_email),
        (&mut t.customer_phone, update.customer_phone),
        (&mut t.order_id, update.order_id),
        (&mut t.destination_code, update.destination_code),
        (&mut t.archived, update.archived),
        (&mut t.status, status),
    ];
    for (field, value) in fields {
        if value.is_some() {
            *field = value;
        }
    }
    t.updated_at = Some(rfc3339(now));
    success(200, "Success", "Success", t.clone())
}

async fn delete(
    State(sim): State<Sim>,
    Path((carrier_code, tracking_number)): Path<(String, String)>,
) -> Response {
    let mut store = sim.store();
    match store.remove(&key_of(&carrier_code, &tracking_number)) {
        Some(_) => success(200, "Success", "Success", [(); 0]),
        None => not_found(),
    }
}

async fn list(State(sim): State<Sim>, query: Result<Query<ListQuery>, QueryRejection>) -> Response {
    let Ok(Query(q)) = query else {
        return refusal(4012, "The request could not be understood.");
    };
    let page = q.page.unwrap_or(1);
    if page == 0 {
        return refusal(4012, "`page` starts at 1.");
    }
    let limit = q.limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let numbers = comma_list(q.numbers.as_deref());
    let orders = comma_list(q.orders.as_deref());
    let store = sim.store();
    let world = &store.world;
    let matches = |s: &Stored| {
        q.status.as_deref().is_none_or(|want| {
            s.status()
                .is_some_and(|have| have.eq_ignore_ascii_case(want.trim()))
        }) && q.created_at_min.is_none_or(|min| s.created_unix >= min)
            && q.created_at_max.is_none_or(|max| s.created_unix <= max)
            && q.update_time_min.is_none_or(|min| s.updated_unix >= min)
            && q.update_time_max.is_none_or(|max| s.updated_unix <= max)
            && (orders.is_empty() || s.order_id(world).is_some_and(|o| orders.contains(&o)))
    };
    // Newest first, as TrackingMore lists; ties by creation order so pages never overlap.
    // With `numbers`, only their trackings are read; else the creation dates asked for.
    let newest_first: Box<dyn Iterator<Item = usize>> = if numbers.is_empty() {
        let from = q.created_at_min.unwrap_or(i64::MIN);
        let to = q.created_at_max.unwrap_or(i64::MAX);
        if from > to {
            Box::new(std::iter::empty())
        } else {
            Box::new(
                store
                    .by_created
                    .range((from, 0)..=(to, usize::MAX))
                    .rev()
                    .map(|&(_, p)| p),
            )
        }
    } else {
        let mut found: Vec<(i64, usize)> = numbers
            .iter()
            .flat_map(|n| store.of_number(n))
            .filter_map(|p| Some((store.trackings[p].as_ref()?.created_unix, p)))
            .collect();
        found.sort_unstable_by(|a, b| b.cmp(a));
        found.dedup();
        Box::new(found.into_iter().map(|(_, p)| p))
    };
    let mut total = 0u64;
    let start = (u64::from(page) - 1) * u64::from(limit);
    let mut items = Vec::new();
    for stored in newest_first
        .filter_map(|p| store.trackings[p].as_ref())
        .filter(|s| matches(s))
    {
        if total >= start && items.len() < limit as usize {
            items.push(stored.tracking(world));
        }
        total += 1;
    }
    success(
        200,
        "Success",
        "Success",
        ListPage {
            page: Some(u64::from(page)),
            limit: Some(u64::from(limit)),
            total: Some(total),
            items,
        },
    )
}

async fn realtime(State(sim): State<Sim>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<RealtimeRequest>(&body) else {
        return bad_json();
    };
    let number = request.tracking_number.trim();
    let carrier = request.carrier_code.trim();
    if number.is_empty() {
        return refusal(4013, "Tracking_number is required.");
    }
    if carrier.is_empty() {
        return refusal(4032, "Cannot detect courier.");
    }
    if !valid_carrier(carrier) {
        return refusal(4015, "The value of `carrier_code` is invalid.");
    }
    let key = key_of(carrier, number);
    let mut store = sim.store();
    let now = sim.now();
    if let Some(asked) = store.realtime_asked.get(&key) {
        let since = (now - *asked).to_std().unwrap_or_default();
        let wait = REALTIME_INTERVAL.saturating_sub(since);
        if !wait.is_zero() {
            let mut response = vendor_error(
                StatusCode::TOO_MANY_REQUESTS,
                429,
                "Too Many Requests",
                "This tracking was fetched in realtime less than two hours ago.",
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            return response;
        }
    }
    store.realtime_asked.insert(key.clone(), now);
    let tracking = match store.get(&key) {
        Some(stored) => stored.tracking(&store.world),
        // Not in the account: the carrier is asked live and knows nothing of it.
        None => Tracking {
            tracking_number: number.to_owned(),
            carrier_code: carrier.to_ascii_lowercase(),
            status: Some("notfound".into()),
            destination_code: request.destination_code.clone(),
            ..Tracking::default()
        },
    };
    success(
        200,
        "Success",
        "Success",
        RealtimeResult {
            items: vec![tracking],
        },
    )
}

// ---- behaviour shared by post and batch --------------------------------------------------

/// Validates and stores one new tracking created `at`, or says why not (TrackingMore code and
/// message).
fn add(
    store: &mut Store,
    request: &CreateTracking,
    at: DateTime<FixedOffset>,
) -> Result<Tracking, (i64, &'static str)> {
    let number = request.tracking_number.trim();
    if number.is_empty() {
        return Err((4013, "Tracking_number is required."));
    }
    if !(5..=50).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err((4014, "The value of `tracking_number` is invalid."));
    }
    let Some(carrier) = request
        .carrier_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    else {
        return Err((4032, "Cannot detect courier."));
    };
    if !valid_carrier(carrier) {
        return Err((4015, "The value of `carrier_code` is invalid."));
    }
    let key = key_of(carrier, number);
    if store.by_key.contains_key(&key) {
        return Err((4016, "Tracking already exists."));
    }
    let now = rfc3339(at);
    let tracking = Tracking {
        id: Some(tracking_id(carrier, number)),
        tracking_number: number.to_owned(),
        carrier_code: carrier.to_ascii_lowercase(),
        created_at: Some(now.clone()),
        updated_at: Some(now),
        title: request.title.clone(),
        logistics_channel: request.logistics_channel.clone(),
        customer_name: request.customer_name.clone(),
        customer_email: request.customer_email.clone(),
        customer_phone: request.customer_phone.clone(),
        order_id: request.order_id.clone(),
        destination_code: request.destination_code.clone(),
        archived: Some("false".into()),
        status: Some("pending".into()),
        ..Tracking::default()
    };
    store.insert(
        key,
        Stored {
            source: Source::Kept(Box::new(tracking.clone())),
            carrier_status: "pending",
            created_unix: unix_of(tracking.created_at.as_deref()),
            updated_unix: unix_of(tracking.updated_at.as_deref()),
        },
    );
    Ok(tracking)
}

fn valid_carrier(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 40
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

// ---- the world as TrackRU trackings ------------------------------------------------------

/// A world milestone as a TrackingMore checkpoint status and description.
fn checkpoint_of(milestone: Milestone) -> (&'static str, &'static str) {
    match milestone {
        Milestone::Registered => ("pending", "Shipment information received"),
        Milestone::PickedUp => ("transit", "Picked up by the carrier"),
        Milestone::Hub => ("transit", "Arrived at the sorting hub"),
        Milestone::FinalHub => ("transit", "Arrived at the destination hub"),
        Milestone::OutForDelivery => ("pickup", "Out for delivery"),
        Milestone::Delivered => ("delivered", "Delivered"),
        Milestone::AttemptFailed => ("undelivered", "Delivery attempt failed"),
        Milestone::Delayed => ("exception", "Shipment delayed"),
        Milestone::Lost => ("exception", "Shipment lost"),
        Milestone::ReturnedToSender => ("exception", "Returned to sender"),
        Milestone::CancelRequested => ("exception", "Cancellation requested"),
        Milestone::Cancelled => ("exception", "Shipment cancelled"),
    }
}

/// When a world parcel's tracking was created (an hour before its first event, else with its
/// order) and last updated (its last event).
fn world_times(world: &World, parcel: &Parcel) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    let created = parcel
        .events
        .first()
        .map_or(world.orders[parcel.order].created_at, |e| {
            e.at - Duration::hours(1)
        });
    (created, parcel.events.last().map_or(created, |e| e.at))
}

/// A world parcel's status: its last event's.
fn world_status(parcel: &Parcel) -> &'static str {
    parcel
        .events
        .last()
        .map_or("notfound", |e| checkpoint_of(e.milestone).0)
}

/// One world parcel as a tracking of the account.
fn world_tracking(world: &World, parcel: &Parcel) -> Tracking {
    let order = &world.orders[parcel.order];
    let person = world.person_of(order);
    let last = parcel.events.last();
    let (created, updated) = world_times(world, parcel);
    let status = world_status(parcel);
    let trackinfo: Vec<Checkpoint> = parcel
        .events
        .iter()
        .rev()
        .map(|e| {
            let (checkpoint_status, description) = checkpoint_of(e.milestone);
            Checkpoint {
                date: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                status_description: Some(description.into()),
                details: Some(format!("{}, {}", e.city, e.country)),
                checkpoint_status: Some(checkpoint_status.into()),
                substatus: None,
            }
        })
        .collect();
    Tracking {
        id: Some(tracking_id(parcel.carrier_code, &parcel.tracking_number)),
        tracking_number: parcel.tracking_number.clone(),
        carrier_code: parcel.carrier_code.into(),
        created_at: Some(rfc3339(created)),
        updated_at: Some(rfc3339(updated)),
        title: order.lines.first().map(|l| l.product.name.to_owned()),
        logistics_channel: Some(parcel.carrier_name.into()),
        customer_name: Some(person.full_name()),
        customer_email: Some(person.email.clone()),
        customer_phone: Some(person.phone.clone()),
        order_id: Some(order.reference.clone()),
        destination_code: Some(person.country.into()),
        archived: Some("false".into()),
        status: Some(status.into()),
        substatus: None,
        original_country: Some("GR".into()),
        destination_country: Some(person.country.into()),
        last_event: parcel
            .events
            .last()
            .map(|e| checkpoint_of(e.milestone).1.to_owned()),
        last_update_time: last.map(|e| e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
        origin_info: (!trackinfo.is_empty()).then(|| CarrierInfo {
            weblink: None,
            phone: None,
            carrier_code: Some(parcel.carrier_code.into()),
            trackinfo,
        }),
        destination_info: None,
    }
}

/// 32 hex digits, stable for a parcel (the vendor's ids look like MD5 sums).
pub fn tracking_id(carrier_code: &str, tracking_number: &str) -> String {
    let fnv = |salt: u64| {
        let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ salt;
        for byte in carrier_code
            .to_ascii_lowercase()
            .bytes()
            .chain([b'/'])
            .chain(tracking_number.bytes())
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    };
    format!("{:016x}{:016x}", fnv(0), fnv(0x9e37_79b9_7f4a_7c15))
}

// ---- envelopes ----------------------------------------------------------------------------

fn success<T: Serialize>(code: i64, kind: &str, message: &str, data: T) -> Response {
    Json(Envelope {
        meta: Meta {
            code,
            kind: kind.into(),
            message: message.into(),
        },
        data,
    })
    .into_response()
}

fn vendor_error(status: StatusCode, code: i64, kind: &str, message: &str) -> Response {
    let envelope = Envelope {
        meta: Meta {
            code,
            kind: kind.into(),
            message: message.into(),
        },
        // TrackingMore answers errors with an empty list for `data`.
        data: [(); 0],
    };
    (status, Json(envelope)).into_response()
}

/// A refusal of the request, with TrackingMore's `type` for its code.
fn refusal(code: i64, message: &str) -> Response {
    let kind = match code {
        4031..=4039 => "No Content",
        _ => "Bad Request",
    };
    vendor_error(StatusCode::BAD_REQUEST, code, kind, message)
}

fn not_found() -> Response {
    refusal(4017, "Tracking does not exist.")
}

fn bad_json() -> Response {
    refusal(
        4012,
        "The request could not be understood or was missing required parameters.",
    )
}

// ---- small helpers -------------------------------------------------------------------------

fn key_of(carrier_code: &str, tracking_number: &str) -> Key {
    (
        tracking_number.trim().to_owned(),
        carrier_code.trim().to_ascii_lowercase(),
    )
}

fn comma_list(raw: Option<&str>) -> Vec<&str> {
    raw.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

fn rfc3339(at: DateTime<FixedOffset>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn unix_of(raw: Option<&str>) -> i64 {
    raw.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map_or(0, |at| at.timestamp())
}

//! Simulator of the MerchantPro Orders API v2, under `/api/v2`.
//!
//! HTTP Basic auth on every documented route (401 otherwise); lists with the documented
//! filters, `fields=`, `include=line_items`, `sort=`, and `start`/`limit` pages (a `limit` above
//! 100 is served as 100: the doc says only that a page cannot exceed 100 records); writes that
//! change the shop's state; delivery-status transitions that refuse what a shop would (shipping
//! a cancelled order, invoicing twice).
//!
//! The shop's orders come from the [`World`]: each world order as MerchantPro writes it (e-mail as
//! given, phones spaced, `customer_ip_country` sometimes lower-case, `customer_notification`
//! `""` or `null`), plus a return (RMA) order for every customer return that reached the shop,
//! linked both ways (`return_source_id`, `rma_orders`).
//!
//! Errors come in one of the two shapes MerchantPro servers answer with (the doc shows none),
//! chosen at start-up by [`ErrorShape`] (`[sim.merchantpro] error_shape`): one setting rather
//! than a per-route mix, since nothing tells which server answers which way, and a client must
//! read both on every route.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate, SubsecRound};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::settings::SimCredentials;
use crate::world::{Clock, Milestone, Return, ReturnChannel, Stage, World};
use vendors::merchantpro::client::PAGE_LIMIT;
use vendors::merchantpro::wire::{
    Ack, Amount, ErrorBody, Id, Invoice, LineItem, ListCount, ListLinks, ListMeta, ListQuery,
    NestedError, NestedErrorBody, NewOrder, Order, OrderUpdate, PaymentStatus, RmaOrder,
    ShippingStatus, Sort, Tag, Transition,
};

/// How the simulator writes its error answers.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ErrorShape {
    /// `{"message": ..., "errors": {field: [messages]}}`.
    #[default]
    Flat,
    /// `{"error": {"code": ..., "message": ...}}`, with a code of the shop's own per status and
    /// no per-field details.
    Nested,
}

const PREFIX: &str = "/api/v2";
const SHOP: &str = "https://shop.example.com";
/// Ids of return (RMA) orders generated from the world's returns.
const FIRST_RMA_ID: u64 = 70_000_001;
/// Ids of orders created through the API.
const FIRST_NEW_ID: u64 = 80_000_001;
/// VAT included in the world's prices, percent.
const VAT_PERCENT: i64 = 24;

const TAG_VIP: (u64, &str) = (1, "VIP");
const TAG_RETURN: (u64, &str) = (2, "Retur solicitat");
const TAG_RMA: (u64, &str) = (3, "RMA");

fn payment_text(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Temporary => "Plata temporara",
        PaymentStatus::Awaiting => "Plata in asteptare",
        PaymentStatus::Paid => "Plata confirmata",
        PaymentStatus::Failed => "Plata esuata",
        PaymentStatus::Cancelled => "Plata anulata",
        PaymentStatus::Refunded => "Plata returnata",
        PaymentStatus::Rejected => "Plata respinsa",
    }
}

fn shipping_text(s: ShippingStatus) -> &'static str {
    match s {
        ShippingStatus::Awaiting => "Comanda in asteptare",
        ShippingStatus::Confirmed => "Comanda confirmata",
        ShippingStatus::InProcess => "Comanda in procesare",
        ShippingStatus::Shipped => "Comanda expediata",
        ShippingStatus::Delivered => "Comanda livrata",
        ShippingStatus::Returned => "Comanda returnata",
        ShippingStatus::Cancelled => "Comanda anulata",
    }
}

/// Where an order's fields come from.
enum Source {
    /// A world order ([`World::orders`] index), written out when read.
    World(usize),
    /// The return (RMA) order of a world return ([`World::returns`] index), written out when
    /// read.
    Return(usize),
    /// Created through the API, or one of the world's since changed.
    Kept(Box<Order>),
}

struct Entry {
    /// `date_created`, to the second, for the date filters and `sort`. Every order has one,
    /// written in the shop's one offset, so its text sorts as this does.
    created: DateTime<FixedOffset>,
    source: Source,
}

struct Shop {
    orders: BTreeMap<u64, Entry>,
    /// (created, id) of every order: date windows and `sort` read it instead of every order.
    by_created: BTreeSet<(DateTime<FixedOffset>, u64)>,
    next_id: u64,
    /// Tag name (lower-case) → tag.
    tags: BTreeMap<String, Tag>,
    next_tag_id: u64,
    next_invoice: u64,
}

impl Shop {
    fn insert(&mut self, id: u64, source: Source, created: DateTime<FixedOffset>) {
        let created = created.trunc_subsecs(0);
        self.by_created.insert((created, id));
        self.orders.insert(id, Entry { created, source });
    }

    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.orders.remove(&id)?;
        self.by_created.remove(&(entry.created, id));
        Some(entry)
    }

    /// Order `id`, kept whole from now on so that it can be changed.
    fn kept(&mut self, writer: Writer, id: u64) -> Option<&mut Order> {
        let entry = self.orders.get_mut(&id)?;
        if !matches!(entry.source, Source::Kept(_)) {
            entry.source = Source::Kept(Box::new(writer.render(id, &entry.source).into_owned()));
        }
        match &mut entry.source {
            Source::Kept(order) => Some(order),
            Source::World(_) | Source::Return(_) => unreachable!("kept just above"),
        }
    }
}

struct Sim {
    shop: Mutex<Shop>,
    world: Arc<World>,
    seed: Seed,
    /// The `Basic` token the credentials give.
    token: String,
    clock: Clock,
}

impl Sim {
    /// Now, in the shop's time zone (Bucharest summer time, as the doc's examples).
    fn now(&self) -> DateTime<FixedOffset> {
        let bucharest = FixedOffset::east_opt(3 * 3600).expect("valid offset");
        self.clock.now().with_timezone(&bucharest)
    }

    fn writer(&self) -> Writer<'_> {
        Writer {
            world: &self.world,
            seed: &self.seed,
        }
    }

    fn shop(&self) -> MutexGuard<'_, Shop> {
        // A panicking handler must not take the simulator down with it.
        self.shop.lock()
    }
}

pub fn router(world: &Arc<World>, credentials: &SimCredentials, errors: ErrorShape) -> Router {
    let seed = Seed::new(world);
    let writer = Writer { world, seed: &seed };
    let mut shop = Shop {
        orders: BTreeMap::new(),
        by_created: BTreeSet::new(),
        next_id: FIRST_NEW_ID,
        tags: BTreeMap::new(),
        next_tag_id: 100,
        next_invoice: seed.invoice_of.iter().flatten().count() as u64 + 1,
    };
    for (id, source, created) in writer.orders() {
        shop.insert(id, source, created);
    }
    let tags = &mut shop.tags;
    for (id, name) in [TAG_VIP, TAG_RETURN, TAG_RMA] {
        tags.insert(
            name.to_lowercase(),
            Tag {
                id: Some(Id(id)),
                name: Some(name.into()),
            },
        );
    }
    let sim = Arc::new(Sim {
        shop: Mutex::new(shop),
        world: world.clone(),
        seed,
        token: base64(&format!(
            "{}:{}",
            credentials.merchantpro_username,
            credentials.merchantpro_password.expose()
        )),
        clock: world.clock,
    });
    Router::new()
        .route("/api/v2/orders", get(list).post(create))
        .route(
            "/api/v2/orders/{id}",
            get(get_one).patch(update).delete(delete),
        )
        .route("/api/v2/orders/{id}/{handler}", patch(transition))
        .route_layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            basic_auth,
        ))
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed for this resource",
                None,
            )
        })
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Resource not found", None) })
        .with_state(sim)
        .layer(axum::middleware::map_response(move |response: Response| {
            std::future::ready(match errors {
                ErrorShape::Flat => response,
                ErrorShape::Nested => nested(response),
            })
        }))
}

/// An error answer in the flat shape. The body also travels as a response extension, so the
/// nested shape can be written from it without parsing the body again.
fn error(status: StatusCode, message: impl Into<String>, errors: Option<Value>) -> Response {
    let body = ErrorBody {
        message: message.into(),
        errors,
    };
    let mut response = (status, Json(body.clone())).into_response();
    response.extensions_mut().insert(body);
    response
}

/// The shop's own code for an error status, in the nested shape.
fn nested_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "invalid_parameter",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        _ => "error",
    }
}

/// Rewrites an error answer of [`error`] into the nested shape, status and headers kept (the
/// 401's challenge); any other response passes unchanged.
fn nested(mut response: Response) -> Response {
    let Some(ErrorBody { message, .. }) = response.extensions_mut().remove::<ErrorBody>() else {
        return response;
    };
    let body = NestedErrorBody {
        error: NestedError {
            code: Some(nested_code(response.status()).to_owned()),
            message,
        },
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let rewritten = Json(body).into_response();
    Response::from_parts(parts, rewritten.into_body())
}

fn invalid(field: &str, problem: impl Into<String>) -> Response {
    let problem = problem.into();
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "The given data was invalid",
        Some(json!({ field: [problem] })),
    )
}

fn bad_parameter(field: &str, problem: impl Into<String>) -> Response {
    let problem = problem.into();
    error(
        StatusCode::BAD_REQUEST,
        format!("Invalid parameter {field}"),
        Some(json!({ field: [problem] })),
    )
}

fn not_found(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("Order {id} not found"), None)
}

async fn basic_auth(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, token)| token.trim());
    if given == Some(sim.token.as_str()) {
        return next.run(req).await;
    }
    let mut resp = error(
        StatusCode::UNAUTHORIZED,
        if given.is_some() {
            "Invalid API credentials"
        } else {
            "Authentication required"
        },
        None,
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"MerchantPro API\""),
    );
    resp
}

fn stamp(d: DateTime<FixedOffset>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A comma list of integers; `None` when an item is not one.
fn id_list(raw: &str) -> Option<BTreeSet<u64>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

/// ISO 8601 date (`2019-01-01`, the shop's midnight) or date-time. A `+` a caller forgot to
/// encode arrives as a space.
fn date_bound(raw: &str) -> Option<DateTime<FixedOffset>> {
    let raw = raw.trim().replace(' ', "+");
    if let Ok(d) = DateTime::parse_from_rfc3339(&raw) {
        return Some(d);
    }
    let day = NaiveDate::parse_from_str(&raw, "%Y-%m-%d").ok()?;
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(FixedOffset::east_opt(3 * 3600)?)
        .single()
}

/// The list filters, parsed.
#[derive(Default)]
struct Filter {
    id: Option<u64>,
    ids: Option<BTreeSet<u64>>,
    payment_status: Option<PaymentStatus>,
    payment_substatus_id: Option<u64>,
    payment_method_code: Option<String>,
    payment_transaction_id: Option<String>,
    shipping_status: Option<ShippingStatus>,
    shipping_substatus_id: Option<u64>,
    shipping_method_id: Option<u64>,
    shipping_awb: Option<String>,
    customer_id: Option<u64>,
    customer_email: Option<String>,
    created_after: Option<DateTime<FixedOffset>>,
    created_before: Option<DateTime<FixedOffset>>,
    tag_name: Option<String>,
    tag_ids: Option<BTreeSet<u64>>,
}

/// A query parameter the shop cannot read: answered 400 with the parameter named.
struct BadParameter {
    field: &'static str,
    problem: String,
}

impl BadParameter {
    fn new(field: &'static str, problem: String) -> Self {
        BadParameter { field, problem }
    }
}

impl IntoResponse for BadParameter {
    fn into_response(self) -> Response {
        bad_parameter(self.field, self.problem)
    }
}

fn parse_filter(q: &ListQuery) -> Result<Filter, BadParameter> {
    fn num(field: &'static str, v: &Option<String>) -> Result<Option<u64>, BadParameter> {
        v.as_deref()
            .map(|s| {
                s.trim()
                    .parse()
                    .map_err(|_| BadParameter::new(field, format!("{s:?} is not an integer")))
            })
            .transpose()
    }
    fn list(
        field: &'static str,
        v: &Option<String>,
    ) -> Result<Option<BTreeSet<u64>>, BadParameter> {
        v.as_deref()
            .map(|s| {
                id_list(s).ok_or_else(|| {
                    BadParameter::new(field, format!("{s:?} is not a comma-separated id list"))
                })
            })
            .transpose()
    }
    fn date(
        field: &'static str,
        v: &Option<String>,
    ) -> Result<Option<DateTime<FixedOffset>>, BadParameter> {
        v.as_deref()
            .map(|s| {
                date_bound(s).ok_or_else(|| {
                    BadParameter::new(field, format!("{s:?} is not an ISO 8601 date"))
                })
            })
            .transpose()
    }
    let text = |v: &Option<String>| v.as_deref().map(str::trim).map(str::to_owned);
    Ok(Filter {
        id: num("id", &q.id)?,
        ids: list("ids", &q.ids)?,
        payment_status: q
            .payment_status
            .as_deref()
            .map(|s| {
                PaymentStatus::parse(s.trim()).ok_or_else(|| {
                    BadParameter::new("payment_status", format!("unknown value {s:?}"))
                })
            })
            .transpose()?,
        payment_substatus_id: num("payment_substatus_id", &q.payment_substatus_id)?,
        payment_method_code: text(&q.payment_method_code),
        payment_transaction_id: text(&q.payment_transaction_id),
        shipping_status: q
            .shipping_status
            .as_deref()
            .map(|s| {
                ShippingStatus::parse(s.trim()).ok_or_else(|| {
                    BadParameter::new("shipping_status", format!("unknown value {s:?}"))
                })
            })
            .transpose()?,
        shipping_substatus_id: num("shipping_substatus_id", &q.shipping_substatus_id)?,
        shipping_method_id: num("shipping_method_id", &q.shipping_method_id)?,
        shipping_awb: text(&q.shipping_awb),
        customer_id: num("customer_id", &q.customer_id)?,
        customer_email: text(&q.customer_email),
        created_after: date("created_after", &q.created_after)?,
        created_before: date("created_before", &q.created_before)?,
        tag_name: text(&q.tag_name),
        tag_ids: list("tag_ids", &q.tag_ids)?,
    })
}

impl Filter {
    /// The conditions on an order's id and creation date, which the shop's indexes answer.
    fn matches_key(&self, id: u64, created: DateTime<FixedOffset>) -> bool {
        self.id.is_none_or(|v| id == v)
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&id))
            && self.created_after.is_none_or(|after| created >= after)
            && self.created_before.is_none_or(|before| created < before)
    }

    /// Whether any condition needs more of an order than its id and creation date.
    fn reads_orders(&self) -> bool {
        self.payment_status.is_some()
            || self.payment_substatus_id.is_some()
            || self.payment_method_code.is_some()
            || self.payment_transaction_id.is_some()
            || self.shipping_status.is_some()
            || self.shipping_substatus_id.is_some()
            || self.shipping_method_id.is_some()
            || self.shipping_awb.is_some()
            || self.customer_id.is_some()
            || self.customer_email.is_some()
            || self.tag_name.is_some()
            || self.tag_ids.is_some()
    }

    /// The conditions beyond [`Filter::matches_key`]'s.
    fn matches_order(&self, o: &Order) -> bool {
        let id = |v: Option<Id>| v.map(|i| i.0);
        let eq = |want: &Option<String>, have: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| have.as_deref().is_some_and(|h| h == w))
        };
        let tags = o.tags.as_deref().unwrap_or_default();
        self.payment_status
            .is_none_or(|s| o.payment_status.as_deref() == Some(s.as_str()))
            && self
                .payment_substatus_id
                .is_none_or(|v| id(o.payment_substatus_id) == Some(v))
            && eq(&self.payment_method_code, &o.payment_method_code)
            && eq(&self.payment_transaction_id, &o.payment_transaction_id)
            && self
                .shipping_status
                .is_none_or(|s| o.shipping_status.as_deref() == Some(s.as_str()))
            && self
                .shipping_substatus_id
                .is_none_or(|v| id(o.shipping_substatus_id) == Some(v))
            && self
                .shipping_method_id
                .is_none_or(|v| id(o.shipping_method_id) == Some(v))
            && eq(&self.shipping_awb, &o.shipping_awb)
            && self
                .customer_id
                .is_none_or(|v| id(o.customer_id) == Some(v))
            && self.customer_email.as_ref().is_none_or(|w| {
                o.customer_email
                    .as_deref()
                    .is_some_and(|h| h.trim().eq_ignore_ascii_case(w))
            })
            && self.tag_name.as_ref().is_none_or(|name| {
                tags.iter().any(|t| {
                    t.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            })
            && self.tag_ids.as_ref().is_none_or(|ids| {
                tags.iter()
                    .any(|t| t.id.is_some_and(|id| ids.contains(&id.0)))
            })
    }
}

/// Which fields of an order to answer: `fields=` (plus `id`), and whether lines come.
struct Projection {
    fields: Option<BTreeSet<String>>,
    line_items: bool,
}

impl Projection {
    fn new(fields: Option<&str>, include: Option<&str>, lines_by_default: bool) -> Self {
        let split = |s: &str| -> BTreeSet<String> {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let fields = fields.map(split).filter(|f| !f.is_empty());
        let included = include.map(split).unwrap_or_default();
        let line_items = lines_by_default
            || included.contains("line_items")
            || fields.as_ref().is_some_and(|f| f.contains("line_items"));
        Projection { fields, line_items }
    }

    fn apply(&self, mut order: Order) -> Projected {
        let Some(fields) = &self.fields else {
            // Whole orders go out as the struct, so fields keep the vendor's order.
            if !self.line_items {
                order.line_items = None;
            }
            return Projected::Whole(Box::new(order));
        };
        let mut value = serde_json::to_value(&order).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            if !self.line_items {
                map.remove("line_items");
            }
            map.retain(|k, _| k == "id" || fields.contains(k));
        }
        Projected::Some(value)
    }
}

/// A list resource as answered ([`vendors::merchantpro::wire::OrderList`] with projected
/// orders), keys in the vendor's order.
#[derive(serde::Serialize)]
struct ListAnswer {
    data: Vec<Projected>,
    meta: ListMeta,
}

/// An order as answered: whole, or only the fields asked for.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Projected {
    Whole(Box<Order>),
    Some(Value),
}

/// `path?query` with `start`/`limit` set, for the `links` of a page.
fn page_link(raw_query: Option<&str>, start: u64, limit: u64) -> String {
    let mut pairs: Vec<&str> = raw_query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("start=") && !p.starts_with("limit="))
        .collect();
    let paging = format!("start={start}&limit={limit}");
    pairs.push(&paging);
    format!("{PREFIX}/orders?{}", pairs.join("&"))
}

type Key = (DateTime<FixedOffset>, u64);

/// The orders the filter's `ids`, `id` and date conditions may let through, in the answer's
/// order: by creation date (ties by id) with `sort`, else by id. Listed ids are looked up and a
/// date window is read from the creation-date index, so a page costs its window, not the shop.
fn candidates<'a>(
    shop: &'a Shop,
    filter: &Filter,
    sort: Option<Sort>,
) -> Box<dyn Iterator<Item = (u64, &'a Entry)> + 'a> {
    let entry = |&(_, id): &Key| Some((id, shop.orders.get(&id)?));
    let listed = match (&filter.ids, filter.id) {
        (Some(ids), _) => Some(ids.iter().copied().collect::<Vec<u64>>()),
        (None, Some(id)) => Some(vec![id]),
        (None, None) => None,
    };
    let dated = filter.created_after.is_some() || filter.created_before.is_some();
    let mut keys: Vec<Key> = match listed {
        Some(ids) => ids
            .into_iter()
            .filter_map(|id| Some((shop.orders.get(&id)?.created, id)))
            .collect(),
        None if dated || sort.is_some() => {
            let window = created_window(&shop.by_created, filter);
            match sort {
                Some(Sort::DateCreated) => return Box::new(window.filter_map(entry)),
                Some(Sort::DateCreatedDesc) => return Box::new(window.rev().filter_map(entry)),
                None => window.copied().collect(),
            }
        }
        None => return Box::new(shop.orders.iter().map(|(id, e)| (*id, e))),
    };
    match sort {
        Some(_) => keys.sort_unstable(),
        None => keys.sort_unstable_by_key(|&(_, id)| id),
    }
    if sort == Some(Sort::DateCreatedDesc) {
        keys.reverse();
    }
    Box::new(keys.into_iter().filter_map(move |k| entry(&k)))
}

/// The part of the creation-date index within `created_after` (inclusive) and
/// `created_before` (exclusive).
fn created_window<'a>(
    by_created: &'a BTreeSet<Key>,
    filter: &Filter,
) -> std::collections::btree_set::Range<'a, Key> {
    let from = filter
        .created_after
        .map_or(Unbounded, |after| Included((after, 0)));
    let to = filter
        .created_before
        .map_or(Unbounded, |before| Excluded((before, 0)));
    match (filter.created_after, filter.created_before) {
        // Nothing is both after and before: an empty range (`range` refuses a reversed one).
        (Some(after), Some(before)) if after > before => {
            by_created.range((Included((before, 0)), Excluded((before, 0))))
        }
        _ => by_created.range((from, to)),
    }
}

async fn list(
    State(sim): State<Arc<Sim>>,
    RawQuery(raw): RawQuery,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return error(StatusCode::BAD_REQUEST, "Invalid query string", None);
    };
    let filter = match parse_filter(&q) {
        Ok(f) => f,
        Err(bad) => return bad.into_response(),
    };
    let start: u64 = match q.start.as_deref().map(|s| s.trim().parse::<u64>()) {
        None => 0,
        Some(Ok(s)) => s,
        Some(Err(_)) => return bad_parameter("start", "must be a non-negative integer"),
    };
    let limit: u64 = match q.limit.as_deref().map(|s| s.trim().parse::<u64>()) {
        None => u64::from(PAGE_LIMIT),
        Some(Ok(0)) | Some(Err(_)) => {
            return bad_parameter("limit", "must be an integer from 1 to 100")
        }
        // A page cannot exceed 100 records: more is served as 100.
        Some(Ok(l)) => l.min(u64::from(PAGE_LIMIT)),
    };
    let sort = match q.sort.as_deref().map(|s| Sort::parse(s.trim())) {
        None => None,
        Some(Some(s)) => Some(s),
        Some(None) => return bad_parameter("sort", "must be date_created or date_created.desc"),
    };
    let projection = Projection::new(q.fields.as_deref(), q.include.as_deref(), false);
    let mut data: Vec<Projected> = Vec::new();

    let shop = sim.shop();
    let mut total = 0u64;
    for (id, entry) in candidates(&shop, &filter, sort) {
        if !filter.matches_key(id, entry.created) {
            continue;
        }
        // Only what the filter reads is written out, and the page whole.
        if filter.reads_orders() && !filter.matches_order(&sim.writer().head(&entry.source)) {
            continue;
        }
        if total >= start && (data.len() as u64) < limit {
            let order = sim.writer().render(id, &entry.source).into_owned();
            data.push(projection.apply(order));
        }
        total += 1;
    }
    drop(shop);
    let current = data.len() as u64;
    let meta = ListMeta {
        count: ListCount {
            total: Id(total),
            current: Id(current),
            start: Id(start),
            limit: Id(limit),
        },
        links: ListLinks {
            prev: (start > 0)
                .then(|| page_link(raw.as_deref(), start.saturating_sub(limit), limit)),
            current: Some(match raw.as_deref() {
                Some(q) if !q.is_empty() => format!("{PREFIX}/orders?{q}"),
                _ => format!("{PREFIX}/orders"),
            }),
            next: (start + current < total)
                .then(|| page_link(raw.as_deref(), start + limit, limit)),
        },
    };
    Json(ListAnswer { data, meta }).into_response()
}

async fn get_one(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return error(StatusCode::BAD_REQUEST, "Invalid query string", None);
    };
    let shop = sim.shop();
    let Some((n, entry)) = id
        .parse::<u64>()
        .ok()
        .and_then(|n| Some((n, shop.orders.get(&n)?)))
    else {
        return not_found(&id);
    };
    let order = sim.writer().render(n, &entry.source).into_owned();
    drop(shop);
    Json(Projection::new(q.fields.as_deref(), None, true).apply(order)).into_response()
}

/// Gross (VAT-included) cents → (net, tax) cents.
fn split_vat(gross_cents: i64) -> (i64, i64) {
    let net = (gross_cents * 100 + (100 + VAT_PERCENT) / 2) / (100 + VAT_PERCENT);
    (net, gross_cents - net)
}

fn resolve_tags(shop: &mut Shop, wanted: &[Tag]) -> Vec<Tag> {
    let mut out: Vec<Tag> = Vec::new();
    for tag in wanted {
        let Some(name) = tag.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            continue;
        };
        let key = name.to_lowercase();
        let known = match shop.tags.get(&key) {
            Some(t) => t.clone(),
            None => {
                let t = Tag {
                    id: Some(Id(shop.next_tag_id)),
                    name: Some(name.to_owned()),
                };
                shop.next_tag_id += 1;
                shop.tags.insert(key, t.clone());
                t
            }
        };
        if !out.contains(&known) {
            out.push(known);
        }
    }
    out
}

fn lines_total(lines: &[LineItem]) -> Amount {
    Amount(
        lines
            .iter()
            .filter_map(|l| l.line_subtotal_gross.map(|a| a.0))
            .sum(),
    )
}

fn plus(a: Amount, b: Option<Amount>) -> Amount {
    Amount(a.0 + b.map(|b| b.0).unwrap_or_default())
}

fn urls(order: &mut Order) {
    let id = order.id.0;
    let hash = format!(
        "{:016x}{:016x}",
        id.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        id.wrapping_mul(0xBF58_476D_1CE4_E5B9)
    );
    order.info_url = Some(format!("{SHOP}/comanda/info/{hash}/{id}"));
    order.proforma_url = Some(format!("{SHOP}/comanda/proforma/{hash}/{id}"));
}

async fn create(
    State(sim): State<Arc<Sim>>,
    body: Result<Json<NewOrder>, JsonRejection>,
) -> Response {
    let new = match body {
        Ok(Json(new)) => new,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Invalid JSON body",
                Some(json!([e.body_text()])),
            )
        }
    };
    let payment = match new.payment_status.as_deref() {
        None => PaymentStatus::Awaiting,
        Some(s) => match PaymentStatus::parse(s) {
            Some(p) => p,
            None => return invalid("payment_status", format!("unknown value {s:?}")),
        },
    };
    let shipping = match new.shipping_status.as_deref() {
        None => ShippingStatus::Awaiting,
        Some(s) => match ShippingStatus::parse(s) {
            Some(p) => p,
            None => return invalid("shipping_status", format!("unknown value {s:?}")),
        },
    };
    if new
        .customer_email
        .as_deref()
        .is_none_or(|e| e.trim().is_empty())
        && new.customer_id.is_none()
    {
        return invalid(
            "customer_email",
            "customer_email or customer_id is required",
        );
    }
    if new.line_items.is_empty() {
        return invalid("line_items", "at least one product is required");
    }
    let mut lines = Vec::with_capacity(new.line_items.len());
    for (i, item) in new.line_items.iter().enumerate() {
        let (Some(quantity), Some(unit)) = (item.quantity, item.unit_price_gross) else {
            return invalid(
                &format!("line_items.{i}"),
                "quantity and unit_price_gross are required",
            );
        };
        if quantity.0 <= rust_decimal::Decimal::ZERO {
            return invalid(&format!("line_items.{i}.quantity"), "must be above zero");
        }
        let mut line = item.clone();
        line.item_type.get_or_insert_with(|| "product".to_owned());
        line.line_subtotal_gross
            .get_or_insert(Amount(unit.0 * quantity.0));
        lines.push(line);
    }

    let mut shop = sim.shop();
    // A return (RMA) order names the order it returns, which must exist; the shop links the
    // two both ways (`rma_orders` on the original), as its own return orders are.
    if let Some(source) = new.return_source_id {
        if !shop.orders.contains_key(&source.0) {
            return invalid(
                "return_source_id",
                format!("order {} does not exist", source.0),
            );
        }
    }
    let id = shop.next_id;
    shop.next_id += 1;
    if let Some(source) = new.return_source_id {
        if let Some(original) = shop.kept(sim.writer(), source.0) {
            original
                .rma_orders
                .get_or_insert_with(Vec::new)
                .push(RmaOrder {
                    id: Id(id),
                    kind: Some("return".into()),
                });
        }
    }
    let tags = new.tags.as_deref().map(|t| resolve_tags(&mut shop, t));
    let now = sim.now();
    let at = stamp(now);
    let mut order = Order::with_id(id);
    order.return_source_id = new.return_source_id;
    order.channel_name = new.channel_name;
    order.channel_ref_id = new.channel_ref_id;
    order.payment_status = Some(payment.as_str().into());
    order.payment_status_text = Some(payment_text(payment).into());
    order.payment_method_code = new.payment_method_code;
    order.shipping_status = Some(shipping.as_str().into());
    order.shipping_status_text = Some(shipping_text(shipping).into());
    order.shipping_method_id = new.shipping_method_id;
    order.shipping_amount = new.shipping_amount;
    order.shipping_awb = new.shipping_awb;
    order.total_amount = Some(plus(lines_total(&lines), new.shipping_amount));
    order.currency = Some(new.currency.unwrap_or_else(|| "EUR".into()));
    order.customer_id = new.customer_id;
    order.customer_email = new.customer_email;
    order.customer_ip_address = Some(String::new());
    order.customer_ip_country = Some(String::new());
    order.customer_device = Some("desktop".into());
    order.customer_note = new.customer_note;
    order.date_created = Some(at.clone());
    order.date_modified = Some(at);
    order.created_by = Some("customer".into());
    order.tags = tags.filter(|t| !t.is_empty());
    order.billing_type = Some(new.billing_type.unwrap_or_else(|| "individual".into()));
    order.billing_name = new.billing_name;
    order.billing_country_code = new.billing_country_code;
    order.billing_country_name = new.billing_country_name;
    order.billing_state = new.billing_state;
    order.billing_city = new.billing_city;
    order.billing_address = new.billing_address;
    order.billing_postal_code = new.billing_postal_code;
    order.billing_phone = new.billing_phone;
    order.shipping_name = new.shipping_name;
    order.shipping_country_code = new.shipping_country_code;
    order.shipping_country_name = new.shipping_country_name;
    order.shipping_state = new.shipping_state;
    order.shipping_city = new.shipping_city;
    order.shipping_address = new.shipping_address;
    order.shipping_postal_code = new.shipping_postal_code;
    order.shipping_phone = new.shipping_phone;
    order.line_items = Some(lines);
    urls(&mut order);
    shop.insert(id, Source::Kept(Box::new(order.clone())), now);
    drop(shop);

    // As the doc's example: the create answer's lines lack item_type and the variant details.
    for line in order.line_items.iter_mut().flatten() {
        line.item_type = None;
        line.variant_name = None;
        line.variant_options = None;
    }
    Json(order).into_response()
}

async fn update(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Result<Json<OrderUpdate>, JsonRejection>,
) -> Response {
    let change = match body {
        Ok(Json(change)) => change,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Invalid JSON body",
                Some(json!([e.body_text()])),
            )
        }
    };
    let payment = match change.payment_status.as_deref() {
        None => None,
        Some(s) => match PaymentStatus::parse(s) {
            Some(p) => Some(p),
            None => return invalid("payment_status", format!("unknown value {s:?}")),
        },
    };
    let mut shop = sim.shop();
    let Some(key) = id
        .parse::<u64>()
        .ok()
        .filter(|n| shop.orders.contains_key(n))
    else {
        return not_found(&id);
    };
    let tags = change.tags.as_deref().map(|t| resolve_tags(&mut shop, t));
    let Some(order) = shop.kept(sim.writer(), key) else {
        return not_found(&id);
    };
    if let Some(p) = payment {
        order.payment_status = Some(p.as_str().into());
        order.payment_status_text = Some(payment_text(p).into());
    }
    let set = |field: &mut Option<String>, value: Option<String>| {
        if value.is_some() {
            *field = value;
        }
    };
    set(&mut order.channel_ref_id, change.channel_ref_id);
    set(&mut order.payment_method_code, change.payment_method_code);
    set(
        &mut order.payment_transaction_id,
        change.payment_transaction_id,
    );
    set(&mut order.shipping_awb, change.shipping_awb);
    set(&mut order.customer_note, change.customer_note);
    set(
        &mut order.customer_notification,
        change.customer_notification,
    );
    set(&mut order.shipping_name, change.shipping_name);
    set(&mut order.shipping_address, change.shipping_address);
    set(&mut order.shipping_city, change.shipping_city);
    set(&mut order.shipping_postal_code, change.shipping_postal_code);
    set(&mut order.shipping_phone, change.shipping_phone);
    if let Some(method) = change.shipping_method_id {
        order.shipping_method_id = Some(method);
    }
    if let Some(amount) = change.shipping_amount {
        order.shipping_amount = Some(amount);
        let lines = lines_total(order.line_items.as_deref().unwrap_or_default());
        order.total_amount = Some(plus(lines, Some(amount)));
    }
    if let Some(tags) = tags {
        order.tags = Some(tags);
    }
    if let Some(meta) = change.meta_fields {
        order.meta_fields = Some(meta);
    }
    order.date_modified = Some(stamp(sim.now()));
    Json(order.clone()).into_response()
}

async fn delete(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let mut shop = sim.shop();
    let Some((key, entry)) = id
        .parse::<u64>()
        .ok()
        .and_then(|n| Some((n, shop.remove(n)?)))
    else {
        return not_found(&id);
    };
    // "Together with all the data related to it": the links to it go too. Links are only
    // ever both ways (an order's return orders, each linked back to it), so the deleted
    // order's own links name every order linked to it.
    let deleted = sim.writer().render(key, &entry.source);
    for rma in deleted.rma_orders.iter().flatten() {
        if let Some(order) = shop.kept(sim.writer(), rma.id.0) {
            if order.return_source_id == Some(Id(key)) {
                order.return_source_id = None;
            }
        }
    }
    if let Some(source) = deleted.return_source_id {
        if let Some(rma) = shop
            .kept(sim.writer(), source.0)
            .and_then(|order| order.rma_orders.as_mut())
        {
            rma.retain(|r| r.id.0 != key);
        }
    }
    Json(Ack { ok: true }).into_response()
}

async fn transition(
    State(sim): State<Arc<Sim>>,
    Path((id, handler)): Path<(String, String)>,
) -> Response {
    let Some(t) = Transition::parse(&handler) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("Unknown request handler {handler:?}"),
            None,
        );
    };
    let mut shop = sim.shop();
    let invoice_number = shop.next_invoice;
    let Some(order) = id
        .parse::<u64>()
        .ok()
        .and_then(|n| shop.kept(sim.writer(), n))
    else {
        return not_found(&id);
    };
    let current = order
        .shipping_status
        .as_deref()
        .and_then(ShippingStatus::parse)
        .unwrap_or(ShippingStatus::Awaiting);
    let (from, to) = (t.allowed_from(), t.leads_to());
    if !from.contains(&current) {
        return invalid(
            "shipping_status",
            format!(
                "order {id} is {} and cannot be changed by {}",
                current.as_str(),
                t.as_str()
            ),
        );
    }
    let at = sim.now();
    match to {
        Some(to) => {
            order.shipping_status = Some(to.as_str().into());
            order.shipping_status_text = Some(shipping_text(to).into());
            match to {
                ShippingStatus::Shipped => order.date_shipped = Some(stamp(at)),
                ShippingStatus::Delivered => order.date_delivered = Some(stamp(at)),
                ShippingStatus::Cancelled => {
                    let unpaid = matches!(
                        order
                            .payment_status
                            .as_deref()
                            .and_then(PaymentStatus::parse),
                        None | Some(PaymentStatus::Awaiting | PaymentStatus::Temporary)
                    );
                    if unpaid {
                        order.payment_status = Some(PaymentStatus::Cancelled.as_str().into());
                        order.payment_status_text =
                            Some(payment_text(PaymentStatus::Cancelled).into());
                    }
                }
                _ => {}
            }
        }
        None => {
            if order.invoice.as_ref().is_some_and(|i| !i.cancelled) {
                return error(
                    StatusCode::CONFLICT,
                    format!("Order {id} already has an invoice"),
                    None,
                );
            }
            order.invoice = Some(invoice(order.id.0, invoice_number));
        }
    }
    order.date_modified = Some(stamp(at));
    if to.is_none() {
        shop.next_invoice += 1;
    }
    Json(Ack { ok: true }).into_response()
}

fn invoice(order_id: u64, number: u64) -> Invoice {
    Invoice {
        prefix: Some("SIM".into()),
        number: Some(format!("{number:07}")),
        app: Some("billing".into()),
        cancelled: false,
        url: Some(format!("{SHOP}/comanda/invoice/{order_id:016x}/{order_id}")),
    }
}

/// Calling code of the world's countries, to write phones the shop's way.
fn calling_code(country: &str) -> &'static str {
    match country {
        "GR" => "30",
        "LT" => "370",
        "IT" => "39",
        "NL" => "31",
        "PL" => "48",
        _ => "",
    }
}

/// The shop keeps phones as the customer typed them: spaced, and for Greek and Italian
/// customers every other one without the country code.
fn shop_phone(e164: &str, country: &str, national: bool) -> String {
    let code = calling_code(country);
    let rest = e164
        .strip_prefix('+')
        .and_then(|d| d.strip_prefix(code))
        .filter(|_| !code.is_empty())
        .unwrap_or(e164);
    let grouped = rest
        .as_bytes()
        .chunks(3)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>();
    // The last group takes a lone trailing digit: `691 234 5678`, not `691 234 567 8`.
    let mut groups = grouped;
    if groups.len() > 1 && groups.last().is_some_and(|g| g.len() == 1) {
        let last = groups.pop().unwrap_or_default();
        if let Some(prev) = groups.last_mut() {
            prev.push_str(&last);
        }
    }
    let spaced = groups.join(" ");
    if national && matches!(country, "GR" | "IT") {
        spaced
    } else {
        format!("+{code} {spaced}")
    }
}

fn country_name(country: &str) -> &'static str {
    match country {
        "GR" => "Grecia",
        "LT" => "Lituania",
        "IT" => "Italia",
        "NL" => "Olanda",
        "PL" => "Polonia",
        _ => "",
    }
}

fn language(country: &str) -> &'static str {
    match country {
        "GR" => "el_GR",
        "LT" => "lt_LT",
        "IT" => "it_IT",
        "NL" => "nl_NL",
        "PL" => "pl_PL",
        _ => "en_US",
    }
}

fn shipping_method(carrier: &str) -> u64 {
    match carrier {
        "ACS" => 1,
        "ELTA" => 2,
        "DHL" => 3,
        _ => 9,
    }
}

fn line_item(product: &crate::world::Product, quantity: u32) -> LineItem {
    let product_id: u64 = product
        .sku
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_default();
    let q = i64::from(quantity);
    let (net, tax) = split_vat(product.price_cents);
    LineItem {
        item_type: Some("product".into()),
        product_id: Some(Id(product_id)),
        product_sku: Some(product.sku.clone()),
        product_name: Some(product.name.into()),
        product_url: Some(format!("{SHOP}/cumpara?id={product_id}")),
        product_tax_name: Some("TVA".into()),
        product_tax_percent: Some(Amount(VAT_PERCENT.into())),
        manufacturer_id: Some(Id(0)),
        quantity: Some(Amount(q.into())),
        unit_price_net: Some(Amount::from_cents(net)),
        unit_tax_amount: Some(Amount::from_cents(tax)),
        unit_price_gross: Some(Amount::from_cents(product.price_cents)),
        line_subtotal_net: Some(Amount::from_cents(net * q)),
        line_tax_amount: Some(Amount::from_cents(tax * q)),
        line_subtotal_gross: Some(Amount::from_cents(product.price_cents * q)),
        ..LineItem::default()
    }
}

fn tag((id, name): (u64, &str)) -> Tag {
    Tag {
        id: Some(Id(id)),
        name: Some(name.into()),
    }
}

/// What writing the world's orders out needs beyond the world, worked out once: which order
/// has which return, the invoice numbers and the return (RMA) orders' ids.
struct Seed {
    /// Per world order: its return ([`World::returns`] index); an order returns at most once.
    return_of: Vec<Option<usize>>,
    /// Per world order: its invoice's number, when paid (numbered in order).
    invoice_of: Vec<Option<u64>>,
    /// Per world return: the id of its return (RMA) order, when it reached the shop.
    rma_of: Vec<Option<u64>>,
    /// The world returns of the return (RMA) orders, by id from [`FIRST_RMA_ID`].
    rma_returns: Vec<usize>,
}

impl Seed {
    fn new(world: &World) -> Seed {
        let mut return_of = vec![None; world.orders.len()];
        let mut rma_of = vec![None; world.returns.len()];
        let mut rma_returns = Vec::new();
        for (index, r) in world.returns.iter().enumerate() {
            return_of[r.order] = Some(index);
            let reached_shop = matches!(r.stage, Stage::Received | Stage::Refunded);
            if r.channel != ReturnChannel::VTrack && reached_shop {
                rma_of[index] = Some(FIRST_RMA_ID + rma_returns.len() as u64);
                rma_returns.push(index);
            }
        }
        let mut invoices = 0u64;
        let invoice_of = world
            .orders
            .iter()
            .map(|o| {
                (PaymentStatus::parse(o.payment_status) == Some(PaymentStatus::Paid)).then(|| {
                    invoices += 1;
                    invoices
                })
            })
            .collect();
        Seed {
            return_of,
            invoice_of,
            rma_of,
            rma_returns,
        }
    }
}

/// Writes the shop's orders from the world.
#[derive(Clone, Copy)]
struct Writer<'a> {
    world: &'a World,
    seed: &'a Seed,
}

impl<'a> Writer<'a> {
    /// Ids and creation dates of every order written from the world, world orders first.
    fn orders(self) -> impl Iterator<Item = (u64, Source, DateTime<FixedOffset>)> + 'a {
        let world = self.world;
        let orders = world
            .orders
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id, Source::World(i), o.created_at));
        let rmas = self
            .seed
            .rma_returns
            .iter()
            .zip(FIRST_RMA_ID..)
            .map(|(&r, id)| (id, Source::Return(r), world.returns[r].created_at));
        orders.chain(rmas)
    }

    /// A world order's shipping status: parcels V-Track saw come back were returned to the
    /// shop.
    fn world_shipping(self, i: usize) -> ShippingStatus {
        let world = self.world;
        let returned_to_sender = self.seed.return_of[i]
            .is_some_and(|r| world.returns[r].channel == ReturnChannel::VTrack);
        if returned_to_sender {
            ShippingStatus::Returned
        } else {
            ShippingStatus::parse(world.orders[i].shipping_status)
                .unwrap_or(ShippingStatus::Awaiting)
        }
    }

    /// The world order `i` ([`World::orders`] index) with only what the list filters read
    /// (statuses, payment method and transaction, shipping method and AWB, customer, tags):
    /// the whole order starts from it, so a filter reads the same on both.
    fn world_order_head(self, i: usize) -> Order {
        let world = self.world;
        let o = &world.orders[i];
        let person = world.person_of(o);
        let parcel = &world.parcels[o.parcel];
        let mut order = Order::with_id(o.id);
        let payment = PaymentStatus::parse(o.payment_status).unwrap_or(PaymentStatus::Awaiting);
        let shipping = self.world_shipping(i);
        order.payment_status = Some(payment.as_str().into());
        order.payment_status_text = Some(payment_text(payment).into());
        let (method, method_name) = match o.id % 3 {
            0 => ("cash_delivery", "Plata in sistem ramburs"),
            1 => ("paypal", "PayPal"),
            _ => ("wire", "Transfer bancar"),
        };
        order.payment_method_code = Some(method.into());
        order.payment_method_name = Some(method_name.into());
        if method == "paypal" && payment == PaymentStatus::Paid {
            order.payment_transaction_id = Some(format!("PAYID-{:010X}", o.id * 7919));
        }
        order.shipping_status = Some(shipping.as_str().into());
        order.shipping_status_text = Some(shipping_text(shipping).into());
        order.shipping_method_id = Some(Id(shipping_method(parcel.carrier_name)));
        order.shipping_method_name = Some(parcel.carrier_name.into());
        order.shipping_carrier_id = Some(parcel.carrier_code.into());
        order.shipping_awb = Some(parcel.tracking_number.clone());
        order.customer_id = Some(Id(o.customer as u64 + 1));
        order.customer_email = Some(person.email.clone());
        let mut tags = Vec::new();
        if o.customer % 7 == 0 {
            tags.push(tag(TAG_VIP));
        }
        if self.seed.return_of[i].is_some() {
            tags.push(tag(TAG_RETURN));
        }
        order.tags = (!tags.is_empty()).then_some(tags);
        order
    }

    /// The world order `i` ([`World::orders`] index) as the shop writes it.
    fn world_order(self, i: usize) -> Order {
        let world = self.world;
        let o = &world.orders[i];
        let ret = self.seed.return_of[i];
        let person = world.person_of(o);
        let parcel = &world.parcels[o.parcel];
        let mut order = self.world_order_head(i);
        let shipping = self.world_shipping(i);
        let event_at = |m: Milestone| {
            parcel
                .events
                .iter()
                .find(|e| e.milestone == m)
                .map(|e| stamp(e.at))
        };
        order.channel_name = Some("Website".into());
        order.channel_ref_id = Some(o.reference.clone());
        order.shipping_amount = Some(Amount::from_cents(o.shipping_cents));
        order.shipping_tax_amount = Some(Amount::from_cents(split_vat(o.shipping_cents).1));
        order.total_amount = Some(Amount::from_cents(o.total_cents()));
        order.currency = Some(o.currency.into());
        order.customer_ip_address = Some(format!(
            "85.{}.{}.{}",
            (o.id >> 16) & 0xff,
            (o.id >> 8) & 0xff,
            o.id & 0xff
        ));
        order.customer_ip_country = Some(if o.id % 2 == 0 {
            person.country.to_lowercase()
        } else {
            person.country.to_owned()
        });
        order.customer_device = Some(if o.id % 4 == 0 { "mobile" } else { "desktop" }.into());
        order.customer_lang = Some(language(person.country).into());
        order.customer_notification = (o.id % 2 == 1).then(String::new);
        order.date_created = Some(stamp(o.created_at));
        order.date_modified = Some(stamp(
            parcel
                .events
                .iter()
                .map(|e| e.at)
                .max()
                .unwrap_or(o.created_at),
        ));
        if matches!(
            shipping,
            ShippingStatus::Shipped | ShippingStatus::Delivered | ShippingStatus::Returned
        ) {
            order.date_shipped = event_at(Milestone::PickedUp);
        }
        if shipping == ShippingStatus::Delivered {
            order.date_delivered = event_at(Milestone::Delivered);
        }
        order.created_by = Some("customer".into());
        order.billing_type = Some("individual".into());
        order.billing_name = Some(person.full_name());
        let phone = shop_phone(&person.phone, person.country, o.customer % 2 == 0);
        for (field, value) in [
            (&mut order.billing_country_code, person.country.to_owned()),
            (
                &mut order.billing_country_name,
                country_name(person.country).into(),
            ),
            (&mut order.billing_state, person.region.into()),
            (&mut order.billing_city, person.city.into()),
            (&mut order.billing_address, person.street.clone()),
            (&mut order.billing_postal_code, person.postal_code.clone()),
            (&mut order.billing_phone, phone.clone()),
            (&mut order.shipping_name, person.full_name()),
            (&mut order.shipping_country_code, person.country.to_owned()),
            (
                &mut order.shipping_country_name,
                country_name(person.country).into(),
            ),
            (&mut order.shipping_state, person.region.into()),
            (&mut order.shipping_city, person.city.into()),
            (&mut order.shipping_address, person.street.clone()),
            (&mut order.shipping_postal_code, person.postal_code.clone()),
            (&mut order.shipping_phone, phone),
        ] {
            *field = Some(value);
        }
        order.line_items = Some(
            o.lines
                .iter()
                .map(|l| line_item(&l.product, l.quantity))
                .collect(),
        );
        if let Some(number) = self.seed.invoice_of[i] {
            order.invoice = Some(invoice(o.id, number));
        }
        if let Some(rma) = ret.and_then(|r| self.seed.rma_of[r]) {
            order.rma_orders = Some(vec![RmaOrder {
                id: Id(rma),
                kind: Some("return".into()),
            }]);
        }
        urls(&mut order);
        order
    }

    /// What the return (RMA) order of world return `r` changes of its order's filtered fields
    /// ([`Writer::world_order_head`]'s): the return's statuses, parcel and tag.
    fn return_head(self, mut rma: Order, r: &Return) -> Order {
        let payment = if r.stage == Stage::Refunded {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::Awaiting
        };
        rma.payment_status = Some(payment.as_str().into());
        rma.payment_status_text = Some(payment_text(payment).into());
        rma.payment_transaction_id = None;
        rma.shipping_status = Some(ShippingStatus::Returned.as_str().into());
        rma.shipping_status_text = Some(shipping_text(ShippingStatus::Returned).into());
        let parcel = &self.world.parcels[r.parcel];
        rma.shipping_awb = Some(parcel.tracking_number.clone());
        rma.shipping_method_name = Some(parcel.carrier_name.into());
        rma.shipping_method_id = Some(Id(shipping_method(parcel.carrier_name)));
        rma.shipping_carrier_id = Some(parcel.carrier_code.into());
        rma.tags = Some(vec![tag(TAG_RMA)]);
        rma
    }

    /// The return (RMA) order `id` of the world return `r` ([`World::returns`] index): a copy
    /// of its order with the return's lines, parcel and dates, linked back to it.
    fn return_order(self, id: u64, r: usize) -> Order {
        let world = self.world;
        let r = &world.returns[r];
        let world_order = world.order_of(r);
        let mut rma = self.return_head(self.world_order(r.order), r);
        rma.return_source_id = Some(rma.id);
        rma.id = Id(id);
        rma.parent_id = None;
        rma.rma_orders = None;
        // The channel reference stays the original's alone, so it keeps naming one order.
        rma.channel_ref_id = None;
        let parcel = &world.parcels[r.parcel];
        let lines: Vec<LineItem> = r
            .lines
            .iter()
            .map(|l| line_item(&world_order.lines[l.line].product, l.quantity))
            .collect();
        rma.shipping_amount = Some(Amount::from_cents(0));
        rma.shipping_tax_amount = Some(Amount::from_cents(0));
        rma.total_amount = Some(lines_total(&lines));
        rma.line_items = Some(lines);
        rma.date_created = Some(stamp(r.created_at));
        rma.date_modified = Some(stamp(
            parcel
                .events
                .iter()
                .map(|e| e.at)
                .max()
                .unwrap_or(r.created_at),
        ));
        rma.date_shipped = parcel
            .events
            .iter()
            .find(|e| e.milestone == Milestone::PickedUp)
            .map(|e| stamp(e.at));
        rma.date_delivered = None;
        rma.created_by = Some("account".into());
        rma.invoice = None;
        urls(&mut rma);
        rma
    }

    /// What the list filters read of an order: for one of the world's, only its head.
    fn head<'s>(self, source: &'s Source) -> Cow<'s, Order> {
        match source {
            Source::World(i) => Cow::Owned(self.world_order_head(*i)),
            Source::Return(r) => {
                let r = &self.world.returns[*r];
                Cow::Owned(self.return_head(self.world_order_head(r.order), r))
            }
            Source::Kept(order) => Cow::Borrowed(order),
        }
    }

    fn render<'s>(self, id: u64, source: &'s Source) -> Cow<'s, Order> {
        match source {
            Source::World(i) => Cow::Owned(self.world_order(*i)),
            Source::Return(r) => Cow::Owned(self.return_order(id, *r)),
            Source::Kept(order) => Cow::Borrowed(order),
        }
    }
}

/// The shop's orders for `world`: every world order, then a return (RMA) order for each
/// customer return (ProCarrier, RRR) that reached the shop, in id order.
pub fn seed_orders(world: &World) -> Vec<Order> {
    let seed = Seed::new(world);
    let writer = Writer { world, seed: &seed };
    writer
        .orders()
        .map(|(id, source, _)| writer.render(id, &source).into_owned())
        .collect()
}

/// Standard base64 with padding, for the expected `Basic` token.
fn base64(input: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(""), "");
        assert_eq!(base64("f"), "Zg==");
        assert_eq!(base64("fo"), "Zm8=");
        assert_eq!(base64("foo"), "Zm9v");
        assert_eq!(
            base64("demo:merchantpro-demo-password"),
            "ZGVtbzptZXJjaGFudHByby1kZW1vLXBhc3N3b3Jk"
        );
    }

    #[test]
    fn phones_are_spaced_the_shops_way() {
        assert_eq!(shop_phone("+306912345678", "GR", false), "+30 691 234 5678");
        assert_eq!(shop_phone("+306912345678", "GR", true), "691 234 5678");
        assert_eq!(shop_phone("+37061234567", "LT", true), "+370 612 345 67");
    }

    #[test]
    fn an_orders_head_holds_what_the_filters_read_as_the_whole_order_does() {
        let world = World::generate(42, 200, crate::world::test_clock());
        let seed = Seed::new(&world);
        let writer = Writer {
            world: &world,
            seed: &seed,
        };
        let filtered = |o: &Order| {
            (
                (o.payment_status.clone(), o.payment_substatus_id),
                (
                    o.payment_method_code.clone(),
                    o.payment_transaction_id.clone(),
                ),
                (o.shipping_status.clone(), o.shipping_substatus_id),
                (o.shipping_method_id, o.shipping_awb.clone()),
                (o.customer_id, o.customer_email.clone()),
                o.tags.clone(),
            )
        };
        let mut returns = 0;
        for (id, source, _) in writer.orders() {
            returns += usize::from(matches!(source, Source::Return(_)));
            assert_eq!(
                filtered(&writer.head(&source)),
                filtered(&writer.render(id, &source)),
                "order {id}"
            );
        }
        assert!(returns > 10, "return orders too: {returns}");
    }

    #[test]
    fn every_world_order_is_in_the_shop_with_its_returns_linked() {
        let world = World::generate(42, 60, crate::world::test_clock());
        let orders = seed_orders(&world);
        assert!(orders.len() > world.orders.len(), "RMA orders are added");
        for (o, w) in orders.iter().zip(&world.orders) {
            assert_eq!(o.id.0, w.id);
            assert_eq!(o.channel_ref_id.as_deref(), Some(w.reference.as_str()));
            assert_eq!(
                o.shipping_awb.as_deref(),
                Some(world.parcels[w.parcel].tracking_number.as_str())
            );
        }
        for rma in orders.iter().filter(|o| o.return_source_id.is_some()) {
            let source = orders
                .iter()
                .find(|o| Some(o.id) == rma.return_source_id)
                .unwrap();
            assert!(source
                .rma_orders
                .as_ref()
                .unwrap()
                .iter()
                .any(|r| r.id == rma.id));
        }
    }
}

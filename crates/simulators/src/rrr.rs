//! RRR simulator: `POST /get/order_returns` and `POST /get/order_return/{id}` over the World's
//! RRR returns.
//!
//! As the vendor: credentials as form fields (`multipart/form-data` like the doc's PHP example,
//! or `application/x-www-form-urlencoded`), every answer in the `{"list", "msg", "status_code"}`
//! envelope, pages of [`PAGE_SIZE`] from 1 with no page count (past the end: an empty `list`).
//! The error codes are ours (the doc documents only `R200`); they match the client's table in
//! `vendors::rrr::client::ERROR_CODES`, each with the HTTP status of the same number, except
//! `R405` for an unknown path, which comes with 404 (and with 405 for a known path not POSTed).
//!
//! RRR's API only reads, so the state is the converted returns, shared read-only (no mutex).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::settings::SimCredentials;
use crate::world::{self, ReturnChannel, Stage, World};
use vendors::rrr::wire::{
    Credentials, Envelope, Invoice, OrderReturn, OrderReturnItem, OrderReturnsQuery, Refund,
    RefundItem, ReturnCustomer,
};

/// Returns per page. The doc does not say; 20 is the simulator's choice, and the client does
/// not rely on it (it reads until an empty page).
pub const PAGE_SIZE: usize = 20;

/// The seller's currency and a fixed EUR → PLN rate (×100) used only here, to generate the
/// seller-currency amounts RRR sends beside the buyer's (4.25, the rate of the doc's sample).
/// The client and the mapping never convert.
const SELLER_CURRENCY: &str = "PLN";
const SELLER_RATE_X100: i64 = 425;
const VAT_RATE: f64 = 23.0;

struct SimState {
    credentials: Credentials,
    /// Sorted by id.
    returns: Vec<OrderReturn>,
    /// (local creation date, position in `returns`), sorted: a date window is a slice of it.
    by_day: Vec<(NaiveDate, usize)>,
}

impl SimState {
    /// Page `page` (from 1) of the returns created from `from` to `to` (either end open),
    /// by id: costs the window, not every return.
    fn page(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        page: usize,
    ) -> Vec<OrderReturn> {
        let skip = (page - 1).saturating_mul(PAGE_SIZE);
        let lo = from.map_or(0, |f| self.by_day.partition_point(|(day, _)| *day < f));
        let hi = to.map_or(self.by_day.len(), |t| {
            self.by_day.partition_point(|(day, _)| *day <= t)
        });
        let mut window: Vec<usize> = self.by_day[lo..hi.max(lo)]
            .iter()
            .map(|&(_, position)| position)
            .collect();
        window.sort_unstable();
        window
            .into_iter()
            .skip(skip)
            .take(PAGE_SIZE)
            .map(|position| self.returns[position].clone())
            .collect()
    }
}

pub fn router(world: &World, credentials: &SimCredentials) -> Router {
    let mut returns: Vec<(NaiveDate, OrderReturn)> = world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::Rrr)
        .map(|r| (r.created_at.date_naive(), order_return(world, r)))
        .collect();
    returns.sort_by_key(|(_, r)| r.id);
    let mut by_day: Vec<(NaiveDate, usize)> = returns
        .iter()
        .enumerate()
        .map(|(position, (day, _))| (*day, position))
        .collect();
    by_day.sort_unstable();
    let state = Arc::new(SimState {
        credentials: Credentials {
            username: credentials.rrr_username.clone(),
            password: credentials.rrr_password.expose().to_owned(),
            user_token: credentials.rrr_user_token.expose().to_owned(),
        },
        returns: returns.into_iter().map(|(_, r)| r).collect(),
        by_day,
    });
    Router::new()
        .route("/get/order_returns", post(list))
        .route("/get/order_return/{id}", post(get_one))
        .fallback(|| async { refuse(StatusCode::NOT_FOUND, "R405", "Unknown method") })
        .method_not_allowed_fallback(|| async {
            refuse(StatusCode::METHOD_NOT_ALLOWED, "R405", "Use POST")
        })
        .with_state(state)
}

fn answer(list: Vec<OrderReturn>) -> Response {
    Json(Envelope {
        list,
        msg: "OK".to_owned(),
        status_code: "R200".to_owned(),
    })
    .into_response()
}

fn refuse(http: StatusCode, code: &str, msg: &str) -> Response {
    let body: Envelope<Vec<OrderReturn>> = Envelope {
        list: Vec::new(),
        msg: msg.to_owned(),
        status_code: code.to_owned(),
    };
    (http, Json(body)).into_response()
}

fn bad_request(msg: &str) -> Response {
    refuse(StatusCode::BAD_REQUEST, "R400", msg)
}

/// The credentials of the form body, multipart or url-encoded; empty when absent or unreadable
/// (then refused as wrong credentials, as RRR would).
async fn form_credentials(request: Request) -> Credentials {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut found = Credentials::default();
        let Ok(mut multipart) = Multipart::from_request(request, &()).await else {
            return found;
        };
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            let Ok(value) = field.text().await else {
                return Credentials::default();
            };
            match name.as_str() {
                "username" => found.username = value,
                "password" => found.password = value,
                "user_token" => found.user_token = value,
                _ => {}
            }
        }
        found
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        Form::<Credentials>::from_request(request, &())
            .await
            .map(|Form(c)| c)
            .unwrap_or_default()
    } else {
        Credentials::default()
    }
}

async fn authorised(state: &SimState, request: Request) -> bool {
    let given = form_credentials(request).await;
    let want = &state.credentials;
    !given.username.is_empty()
        && given.username == want.username
        && given.password == want.password
        && given.user_token == want.user_token
}

fn unauthorised() -> Response {
    refuse(StatusCode::UNAUTHORIZED, "R401", "Wrong credentials")
}

/// A `Y-m-d` query date; the refusal message when it is not one.
fn ymd(field: &str, raw: &Option<String>) -> Result<Option<NaiveDate>, String> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("{field} must be a date Y-m-d")),
    }
}

async fn list(
    State(state): State<Arc<SimState>>,
    query: Result<Query<OrderReturnsQuery>, QueryRejection>,
    request: Request,
) -> Response {
    if !authorised(&state, request).await {
        return unauthorised();
    }
    let Ok(Query(query)) = query else {
        return bad_request("Invalid query parameters");
    };
    let (from, to) = match (
        ymd("date_from", &query.date_from),
        ymd("date_to", &query.date_to),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(refusal), _) | (_, Err(refusal)) => return bad_request(&refusal),
    };
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return bad_request("date_from is after date_to");
        }
    }
    let page = query.page.unwrap_or(1);
    if page == 0 {
        return bad_request("page must be 1 or more");
    }
    answer(state.page(from, to, page as usize))
}

async fn get_one(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    if !authorised(&state, request).await {
        return unauthorised();
    }
    let Ok(id) = id.trim().parse::<u64>() else {
        return bad_request("Invalid order return id");
    };
    match state.returns.binary_search_by_key(&id, |r| r.id) {
        Ok(position) => answer(vec![state.returns[position].clone()]),
        Err(_) => refuse(StatusCode::NOT_FOUND, "R404", "Order return not found"),
    }
}

fn status(r: &world::Return) -> &'static str {
    match r.stage {
        // Half the fresh requests already accepted by the seller.
        Stage::Requested if r.id % 2 == 1 => "Accepted",
        // A quarter come as `Approved`, a status outside our table that the marketplace's
        // servers send: the gateway must show it as unknown, raw code kept, not guess.
        Stage::Requested if r.id % 4 == 0 => "Approved",
        Stage::Requested => "New",
        Stage::InTransit => "Shipped",
        Stage::Received => "Returned",
        Stage::Refunded => "Refunded",
        Stage::Rejected => "Rejected",
        Stage::Cancelled => "Cancelled",
        Stage::Exception => "Disputed",
    }
}

fn amount(cents: i64) -> f64 {
    cents as f64 / 100.0
}

fn seller_cents(cents: i64) -> i64 {
    (cents * SELLER_RATE_X100 + 50).div_euclid(100)
}

fn iso(at: DateTime<FixedOffset>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Refund times come in UTC with `Z`, as in the doc's sample.
fn iso_utc(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A World return in RRR's shape: `order_id` the marketplace's order number, one item per part
/// (RRR has no quantity), each order line being a part (`part_id` = the line's id); shipping is
/// returnable only when everything is.
fn order_return(world: &World, r: &world::Return) -> OrderReturn {
    let order = world.order_of(r);
    let person = world.person_of(order);
    let currency = order.currency.to_owned();
    let mut items = Vec::new();
    let mut parts: Vec<(u64, &'static str, i64)> = Vec::new();
    for line in &r.lines {
        let order_line = &order.lines[line.line];
        let cents = order_line.product.price_cents;
        for unit in 0..u64::from(line.quantity) {
            items.push(OrderReturnItem {
                id: order_line.id * 10 + unit,
                part_id: Some(order_line.id),
                name: Some(order_line.product.name.to_owned()),
                return_reason: Some(line.reason.to_owned()),
                price: Some(amount(cents)),
                returnable_amount: Some(amount(cents)),
                returnable_amount_in_seller_currency: Some(amount(seller_cents(cents))),
                currency: Some(currency.clone()),
                price_in_seller_currency: Some(amount(seller_cents(cents))),
                vat_rate: Some(VAT_RATE),
            });
            parts.push((order_line.id, order_line.product.name, cents));
        }
    }
    let everything_returned = r.lines.len() == order.lines.len()
        && r.lines
            .iter()
            .all(|l| l.quantity >= order.lines[l.line].quantity);
    let shipping = order.shipping_cents;
    let returnable_shipping = if everything_returned { shipping } else { 0 };
    let items_cents: i64 = parts.iter().map(|(_, _, c)| c).sum();
    let items_seller: i64 = parts.iter().map(|(_, _, c)| seller_cents(*c)).sum();
    let refunds = r
        .refunds
        .iter()
        .map(|f| {
            refund(
                f,
                r.marketplace_order,
                &currency,
                &parts,
                returnable_shipping,
            )
        })
        .collect();
    OrderReturn {
        id: r.id,
        order_id: r.marketplace_order,
        order_return_items: items,
        status: status(r).to_owned(),
        shipping_price: Some(amount(shipping)),
        returnable_shipping_amount: Some(amount(returnable_shipping)),
        total_paid_price: Some(amount(items_cents + shipping)),
        total_returnable_amount: Some(amount(items_cents + returnable_shipping)),
        currency: currency.clone(),
        seller_currency: SELLER_CURRENCY.to_owned(),
        total_returnable_amount_in_seller_currency: Some(amount(
            items_seller + seller_cents(returnable_shipping),
        )),
        returnable_shipping_amount_in_seller_currency: Some(amount(seller_cents(
            returnable_shipping,
        ))),
        shipping_price_in_seller_currency: Some(amount(seller_cents(shipping))),
        total_paid_price_in_seller_currency: Some(amount(items_seller + seller_cents(shipping))),
        created_at: Some(iso(r.created_at)),
        customer: Some(ReturnCustomer {
            first_name: Some(person.first_name.clone()),
            last_name: Some(person.last_name.clone()),
            postal_code: Some(person.postal_code.clone()),
            telephone: Some(person.phone.clone()),
            country: Some(person.country.to_owned()),
            address: Some(person.street.clone()),
            region: Some(person.region.to_owned()),
        }),
        refunds,
    }
}

/// A World refund: one line per returned part, plus `Delivery` when shipping is refunded.
fn refund(
    f: &world::Refund,
    order_id: Option<u64>,
    currency: &str,
    parts: &[(u64, &'static str, i64)],
    shipping_cents: i64,
) -> Refund {
    let mut lines: Vec<(Option<u64>, &str, i64)> = parts
        .iter()
        .map(|(part, name, cents)| (Some(*part), *name, *cents))
        .collect();
    if shipping_cents > 0 {
        lines.push((None, "Delivery", shipping_cents));
    }
    let refund_items: Vec<RefundItem> = lines
        .iter()
        .zip(1..)
        .map(|((part_id, name, cents), n)| RefundItem {
            id: f.id * 100 + n,
            order_id,
            part_id: *part_id,
            name: Some((*name).to_owned()),
            currency: Some(currency.to_owned()),
            refund_amount: Some(amount(*cents)),
            refund_amount_in_seller_currency: Some(amount(seller_cents(*cents))),
            price_in_seller_currency: Some(amount(seller_cents(*cents))),
            vat_rate: Some(VAT_RATE),
        })
        .collect();
    let total: i64 = lines.iter().map(|(_, _, c)| c).sum();
    let total_seller: i64 = lines.iter().map(|(_, _, c)| seller_cents(*c)).sum();
    Refund {
        id: f.id,
        status: f.status.to_owned(),
        currency: currency.to_owned(),
        seller_currency: SELLER_CURRENCY.to_owned(),
        total_amount: Some(amount(total)),
        total_amount_in_seller_currency: Some(amount(total_seller)),
        created_at: Some(iso_utc(f.created_at)),
        paid_at: f.paid_at.map(iso_utc),
        refund_items,
        invoice: Some(Invoice {
            number: Some(f.invoice_number.clone()),
            download_url: Some(format!(
                "https://document.cdnrrr.com/invoice/sim/credited_invoice_{}.pdf",
                f.invoice_number
            )),
        }),
    }
}

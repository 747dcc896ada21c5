//! V-Track simulator: the returns report, `POST|GET /statistics/returns/json.php?f=returns`.
//!
//! The doc's own example sets no POST fields, so curl really sends a GET: both are answered.
//! Data is the World's, one row per person with V-Track parcels: `return[]` from the returns on
//! the V-Track channel (the outbound parcel that came back), `delivered[]` from the person's
//! delivered orders. Names, e-mails, phones and `web_order_id`s are written as dirty as the real
//! vendor writes them, deterministically. Nothing changes the report (the API has no writes), so
//! it is built and serialised once; its slowness comes from the shared latency knobs.
//!
//! Errors: the doc shows none; the simulator answers `{"error": "..."}` with 401 for wrong or
//! missing credentials, 404 for an unknown `f` or path (see `vendors::vtrack::client`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;

use crate::settings::SimCredentials;
use crate::world::{Order, Person, ReturnChannel, Rng, World};
use vendors::vtrack::mapping::format_athens;
use vendors::vtrack::wire::{
    DeliveredEntry, ErrorBody, Refusal, ReturnEntry, ReturnsResponse, Row, RowCustomer, Scalar,
    HEADER_PUBLIC, RETURNS_FUNCTION, RETURNS_PATH,
};

struct SimState {
    username: String,
    api_key: String,
    /// The report, serialised once.
    report: Bytes,
}

pub fn router(world: &World, credentials: &SimCredentials) -> Router {
    let report = serde_json::to_vec(&report(world)).unwrap_or_else(|e| {
        // Our own types always serialise; should that ever break, say so in the answer.
        tracing::error!(error = %e, "vtrack simulator: report does not serialise");
        Vec::new()
    });
    let state = Arc::new(SimState {
        username: credentials.vtrack_username.clone(),
        api_key: credentials.vtrack_api_key.expose().to_owned(),
        report: Bytes::from(report),
    });
    Router::new()
        .route(RETURNS_PATH, get(returns).post(returns))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not found") })
        .with_state(state)
}

#[derive(Deserialize)]
struct ReturnsQuery {
    f: Option<String>,
}

async fn returns(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    Query(query): Query<ReturnsQuery>,
) -> Response {
    if let Err(reason) = authorise(&state, &headers) {
        return error(StatusCode::UNAUTHORIZED, reason);
    }
    match query.f.as_deref() {
        Some(RETURNS_FUNCTION) => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            state.report.clone(),
        )
            .into_response(),
        _ => error(StatusCode::NOT_FOUND, "Unknown function"),
    }
}

/// `X-Public: <username>` and `Authorization: Bearer <api_key>`, both required.
fn authorise(state: &SimState, headers: &HeaderMap) -> Result<(), &'static str> {
    let public = headers
        .get(HEADER_PUBLIC)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or("Missing X-Public header")?;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("Missing Authorization header")?;
    let key = authorization
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty())
        .ok_or("Authorization must be Bearer <api key>")?;
    if public == state.username && key == state.api_key {
        Ok(())
    } else {
        Err("Invalid credentials")
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message.to_owned(),
        }),
    )
        .into_response()
}

/// The World as V-Track reports it.
pub fn report(world: &World) -> ReturnsResponse {
    // Orders whose outbound parcel came back through V-Track: not delivered.
    let returned_orders: BTreeSet<usize> = world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::VTrack)
        .map(|r| r.order)
        .collect();
    let mut rows: BTreeMap<usize, Row> = BTreeMap::new();
    for r in world
        .returns
        .iter()
        .filter(|r| r.channel == ReturnChannel::VTrack)
    {
        let order = world.order_of(r);
        let parcel = &world.parcels[r.parcel];
        rows.entry(order.customer).or_default().returns.push(
            ReturnEntry {
                voucher: voucher(&parcel.tracking_number, r.order),
                finalization_dates: parcel.events.first().map(|e| date(&e.at)),
                return_delivery_date: parcel.events.last().map(|e| date(&e.at)),
                with_refusal: Refusal(r.refused),
                invoice_id: Some(Scalar::Text(invoice_id(order))),
                web_order_id: Some(web_order_id(order, r.order)),
            }
            .into(),
        );
    }
    for (index, order) in world.orders.iter().enumerate() {
        if order.shipping_status != "delivered" || returned_orders.contains(&index) {
            continue;
        }
        let parcel = &world.parcels[order.parcel];
        rows.entry(order.customer).or_default().delivered.push(
            DeliveredEntry {
                voucher: voucher(&parcel.tracking_number, index),
                finalization_dates: parcel.events.first().map(|e| date(&e.at)),
                delivered_date: parcel.events.last().map(|e| date(&e.at)),
                invoice_id: Some(Scalar::Text(invoice_id(order))),
                web_order_id: Some(web_order_id(order, index)),
            }
            .into(),
        );
    }
    ReturnsResponse {
        rows: rows
            .into_iter()
            .map(|(person, mut row)| {
                row.customer = Some(customer(&world.people[person], person));
                row.into()
            })
            .collect(),
    }
}

fn date(at: &chrono::DateTime<chrono::FixedOffset>) -> Scalar {
    Scalar::Text(format_athens(at))
}

/// Vouchers are digits; PHP sends some as JSON numbers.
fn voucher(tracking_number: &str, order: usize) -> Scalar {
    match tracking_number.parse::<u64>() {
        Ok(n) if order % 4 == 0 => Scalar::Number(n.into()),
        _ => Scalar::text(tracking_number),
    }
}

/// Every seventh order's reference went missing at the courier.
fn web_order_id(order: &Order, index: usize) -> Scalar {
    if index % 7 == 3 {
        Scalar::text("")
    } else {
        Scalar::text(order.reference.as_str())
    }
}

/// A stable UUID-shaped id per order, like the sample's `46fcb79e-4542-78bc-f8eb-01974500b35d`.
fn invoice_id(order: &Order) -> String {
    let mut rng = Rng::new(order.id);
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// The person as the courier writes them: surname first, some names with a leading or double
/// space, some e-mails upper-case, Greek mobiles without `+30` (some with spaces).
fn customer(p: &Person, index: usize) -> RowCustomer {
    let name = match index % 4 {
        0 => format!(" {} {}", p.last_name, p.first_name),
        1 => format!("{}  {}", p.last_name, p.first_name),
        _ => format!("{} {}", p.last_name, p.first_name),
    };
    let email = match index % 3 {
        0 => p.email.to_uppercase(),
        1 => match p.email.split_once('@') {
            Some((local, domain)) => format!("{local}@{}", domain.to_uppercase()),
            None => p.email.clone(),
        },
        _ => p.email.clone(),
    };
    let mobile = match p.phone.strip_prefix("+30") {
        Some(national) if index % 5 == 2 => Scalar::text(format!(
            "{} {} {}",
            &national[..3.min(national.len())],
            national.get(3..6).unwrap_or(""),
            national.get(6..).unwrap_or("")
        )),
        Some(national) if index % 5 == 4 => match national.parse::<u64>() {
            Ok(n) => Scalar::Number(n.into()),
            Err(_) => Scalar::text(national),
        },
        Some(national) => Scalar::text(national),
        None => Scalar::text(p.phone.as_str()),
    };
    RowCustomer {
        customer: Some(Scalar::Text(name)),
        email: Some(Scalar::Text(email)),
        mobile: Some(mobile),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vendors::vtrack::mapping::map_report;

    #[test]
    fn the_report_holds_every_vtrack_return_once_and_maps_cleanly() {
        let world = World::generate(42, 120, crate::world::test_clock());
        let wire = report(&world);
        let mapped = map_report(wire);
        assert_eq!(mapped.skipped(), 0);
        let want: BTreeSet<String> = world
            .returns
            .iter()
            .filter(|r| r.channel == ReturnChannel::VTrack)
            .map(|r| world.parcels[r.parcel].tracking_number.clone())
            .collect();
        let got: Vec<String> = mapped.returns.iter().map(|r| r.id.clone()).collect();
        assert_eq!(got.len(), want.len());
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);
        // Every customer's keys normalise back to the World's.
        for r in &mapped.returns {
            let c = r.customer.as_ref().expect("customer");
            let person = world
                .people
                .iter()
                .find(|p| Some(&p.email) == c.email.as_ref())
                .expect("a known e-mail");
            assert_eq!(c.phone.as_ref(), Some(&person.phone));
            assert_eq!(
                c.name.as_deref(),
                Some(format!("{} {}", person.last_name, person.first_name).as_str())
            );
        }
        assert!(mapped.returns.iter().any(|r| r.refused));
        assert!(mapped.returns.iter().any(|r| !r.refused));
        assert!(!mapped.deliveries.is_empty());
    }

    #[test]
    fn the_report_is_dirty_like_the_vendor() {
        let world = World::generate(42, 120, crate::world::test_clock());
        let json = serde_json::to_value(report(&world)).expect("json");
        let rows = json["rows"].as_array().expect("rows");
        let names: Vec<&str> = rows
            .iter()
            .filter_map(|r| r["customer"]["customer"].as_str())
            .collect();
        assert!(names.iter().any(|n| n.starts_with(' ')));
        assert!(names.iter().any(|n| n.contains("  ")));
        let emails: Vec<&str> = rows
            .iter()
            .filter_map(|r| r["customer"]["email"].as_str())
            .collect();
        assert!(emails
            .iter()
            .any(|e| e.contains("GMAIL") || e.contains(".GR")));
        assert!(rows.iter().any(|r| r["customer"]["mobile"]
            .as_str()
            .is_some_and(|m| m.starts_with("69") && m.len() == 10)));
        assert!(rows.iter().any(|r| r["delivered"]
            .as_array()
            .is_some_and(|d| d.iter().any(|e| e["web_order_id"] == ""))));
    }

    #[test]
    fn invoice_ids_are_uuid_shaped() {
        let world = World::generate(42, 20, crate::world::test_clock());
        let id = invoice_id(&world.orders[0]);
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
    }
}

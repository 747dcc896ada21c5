//! The ProCarrier simulator's moving world: it advances returns one tracking status at a time
//! and sends each change as a signed `return_updated` webhook, shaped as the docs' sample
//! (snake_case, numbers as strings, the phone as a number). Once every return has reached a
//! final status, a customer books a new one on each turn, so the webhooks never stop.
//!
//! Admin endpoints (not counted, never faulted): `GET`/`PUT /__sim/webhooks` (where to send and
//! how often: `{"url", "interval_ms", "per_tick"}`), `POST /__sim/webhooks/advance?count=N`
//! (move N returns now; answers what was sent and how the receiver answered).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Data, Sim, SimEvent, SimReturn};
use crate::settings::SimWebhooks;
use chrono::{DateTime, FixedOffset};
use vendors::procarrier::mapping::{format_date_added, status_description};
use vendors::procarrier::{signature, wire};

/// Statuses a return does not move on from: delivered to or refunded by the retailer, lost,
/// cancelled.
const FINAL: [i64; 4] = [60, 70, 110, 310];

/// The status a return moves to next: along the carrier's chain towards the retailer, a
/// requested cancellation to cancelled.
fn next_status(code: i64) -> i64 {
    match code {
        10 | 11 => 20,
        20 => 26,
        24 | 26 | 28 | 29 | 35 | 45 | 90 | 95 | 400 | 200 | 201 | 202 => 40,
        30 | 40 | 43 | 100 => 50,
        120 => 50,
        300 => 310,
        _ => 60,
    }
}

/// One webhook the simulator sent (or could not send).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub return_id: i64,
    pub tracking_number: String,
    pub tracking_status: i64,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<u16>,
    pub error: Option<String>,
}

/// Where the moving world sends its webhooks; `watch`ed by the ticker.
#[derive(Debug)]
pub(super) struct Webhooks {
    settings: tokio::sync::watch::Sender<SimWebhooks>,
    client: reqwest::Client,
}

impl Webhooks {
    pub(super) fn new(settings: &SimWebhooks) -> Webhooks {
        Webhooks {
            settings: tokio::sync::watch::Sender::new(settings.clone()),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a plain HTTP client builds"),
        }
    }
}

fn webhook_body(r: &SimReturn, currency: Option<&str>, now: i64) -> Value {
    let rec = &r.record;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // The docs' sample sends the phone as a number; ours are E.164 (`+30…`).
    let phone = rec
        .phone
        .as_deref()
        .map(|p| p.trim_start_matches('+'))
        .and_then(|p| p.parse::<u64>().ok())
        .map_or(Value::Null, Value::from);
    let items: Vec<Value> = rec
        .products
        .iter()
        .map(|p| {
            let reason = p.reason.as_ref();
            json!({
                "sku_code": text(&p.sku),
                "sku_desc": text(&p.description),
                "quantity": p.quantity.unwrap_or(1).to_string(),
                "price": format!("{:.2}", p.price.unwrap_or(0.0)),
                "weight": p.weight.map(|w| w.to_string()).unwrap_or_default(),
                "weight_uom": text(&p.weight_uom),
                "dangerous_goods": text(&p.dangerous_goods),
                "export_date": p.export_date.map(|d| d.to_string()).unwrap_or_default(),
                "export_awb": text(&p.export_awb),
                "export_carrier_name": text(&p.export_carrier_name),
                "final_disposition": text(&p.final_disposition),
                "custom_fields": {},
                "reason": [{
                    "action": reason.map(|r| text(&r.action)).unwrap_or_default(),
                    "reason": reason.map(|r| text(&r.reason)).unwrap_or_default(),
                    "wish": reason.map(|r| text(&r.wish)).unwrap_or_default(),
                }],
            })
        })
        .collect();
    let events: Vec<Value> = r
        .events
        .iter()
        .map(|e| {
            let loc = e.event.location.clone().unwrap_or_default();
            json!({
                "dt": e.event.dt,
                "status": e.event.status.to_string(),
                "location": {"country": loc.country, "state": loc.state, "city": loc.city},
            })
        })
        .collect();
    let a = &rec.address;
    json!({
        "name": text(&rec.name),
        "company_name": text(&rec.company),
        "email": text(&rec.email),
        "phone": phone,
        "zip": text(&a.zip),
        "addr1": text(&a.address_line1),
        "addr2": text(&a.address_line2),
        "addr3": text(&a.address_line3),
        "city": text(&a.city),
        "state": text(&a.state),
        "country": text(&a.country),
        "id": rec.id,
        "tracking": text(&rec.tracking_number),
        "tracking_last_update": rec.tracking_last_update.unwrap_or(now).to_string(),
        "current_tracking_status": rec.current_tracking_status.unwrap_or(10).to_string(),
        "barcode_number": format!("{}001", text(&rec.tracking_number)),
        "order_reference": text(&rec.order_reference),
        "date_added": r.created_at.timestamp().to_string(),
        "display_id": text(&rec.display_id),
        "service_id": r.service_id,
        "carrier": text(&rec.carrier),
        "item": items,
        "custom_fields": {},
        "event_type": "return_updated",
        "events": events,
        "order": {
            "contact_name": text(&rec.name),
            "email": text(&rec.email),
            "order_reference": text(&rec.order_reference),
            "currency_code": currency.unwrap_or_default(),
        },
        "current_timestamp": now.to_string(),
    })
}

/// The webhook telling where return `r` now stands, and its body.
fn delivery(data: &Data, r: &SimReturn, now: i64) -> (Delivery, Vec<u8>) {
    let currency = r
        .record
        .order_reference
        .as_ref()
        .and_then(|o| data.orders.get(o))
        .and_then(|o| o.order.currency.as_deref());
    let body = webhook_body(r, currency, now);
    (
        Delivery {
            return_id: r.record.id,
            tracking_number: r.tracking_number().to_owned(),
            tracking_status: r.record.current_tracking_status.unwrap_or(10),
            http_status: None,
            error: None,
        },
        serde_json::to_vec(&body).expect("JSON values serialise"),
    )
}

impl Data {
    /// A customer books another return of the order of a return (each in turn): a new id and
    /// tracking number, registered now. Where the moving world goes on once every return has
    /// reached a final status, as a small world's do in half an hour of the demo.
    fn book_return(&mut self, at: DateTime<FixedOffset>) -> Option<i64> {
        let cursor = self.booking_cursor;
        let template = self
            .returns
            .range(cursor..)
            .chain(self.returns.range(..cursor))
            .map(|(_, r)| r)
            .next()?;
        let (id, event_id, now) = (self.next_return_id, self.next_event_id, at.timestamp());
        let event = SimEvent {
            event: wire::TrackingEvent {
                id: Some(event_id),
                dt: now,
                status: 10,
                description: status_description(10).map(str::to_owned),
                location: template
                    .events
                    .first()
                    .and_then(|e| e.event.location.clone()),
                date_added: None,
            },
            date_added: now,
        };
        let booked = SimReturn {
            record: wire::ReturnRecord {
                id,
                date_added: Some(format_date_added(at)),
                tracking_number: Some(format!("PCR{id:010}")),
                tracking_last_update: Some(now),
                current_tracking_status: Some(10),
                ..template.record.clone()
            },
            created_at: at,
            service_id: template.service_id,
            external_id: None,
            events: vec![event],
        };
        self.booking_cursor = template.record.id + 1;
        self.next_return_id += 1;
        self.next_event_id += 1;
        self.insert_return(booked);
        Some(id)
    }
}

impl Sim {
    /// Moves up to `count` returns one status on (taking turns over all open returns), or
    /// books a new one when none is open, and returns their webhook bodies; the world is
    /// changed before anything is sent.
    fn move_returns(&self, count: usize) -> Vec<(Delivery, Vec<u8>)> {
        let at = self.clock.now().fixed_offset();
        let now = at.timestamp();
        let mut data = self.data.lock();
        let cursor = data.webhook_cursor;
        let chosen: Vec<i64> = data
            .returns
            .range(cursor..)
            .chain(data.returns.range(..cursor))
            .filter(|(_, r)| {
                r.record
                    .current_tracking_status
                    .is_none_or(|s| !FINAL.contains(&s))
            })
            .map(|(id, _)| *id)
            .take(count)
            .collect();
        if let Some(last) = chosen.last() {
            data.webhook_cursor = last + 1;
        }
        let mut out = Vec::with_capacity(chosen.len().max(1));
        if chosen.is_empty() && count > 0 {
            if let Some(id) = data.book_return(at) {
                out.push(delivery(&data, &data.returns[&id], now));
            }
        }
        for id in chosen {
            let event_id = data.next_event_id;
            data.next_event_id += 1;
            let r = &data.returns[&id];
            let status = next_status(r.record.current_tracking_status.unwrap_or(10));
            // Strictly later than the last update: the receiver treats the same
            // (return, tracking_last_update) as a repeated delivery.
            let at = now.max(r.record.tracking_last_update.unwrap_or(0) + 1);
            let location = r.events.last().and_then(|e| e.event.location.clone());
            let event = SimEvent {
                event: wire::TrackingEvent {
                    id: Some(event_id),
                    dt: at,
                    status,
                    description: status_description(status).map(str::to_owned),
                    location,
                    date_added: None,
                },
                date_added: at,
            };
            let r = data.add_event(id, event).expect("chosen from the map");
            r.record.current_tracking_status = Some(status);
            r.record.tracking_last_update = Some(at);
            let r = &data.returns[&id];
            out.push(delivery(&data, r, now));
        }
        out
    }

    /// One tick: moves `count` returns and sends their webhooks, one after another.
    pub(super) async fn advance(&self, count: usize) -> Vec<Delivery> {
        let url = self.webhooks.settings.borrow().url.clone();
        let mut sent = Vec::new();
        for (mut delivery, body) in self.move_returns(count) {
            if url.is_empty() {
                delivery.error = Some("no webhook url is set".into());
            } else {
                let answer = self
                    .webhooks
                    .client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(
                        signature::HEADER,
                        signature::sign(self.api_key.as_bytes(), &body),
                    )
                    .body(body)
                    .send()
                    .await;
                match answer {
                    Ok(response) => delivery.http_status = Some(response.status().as_u16()),
                    Err(e) => delivery.error = Some(e.to_string()),
                }
            }
            if delivery.error.is_some() || delivery.http_status.is_some_and(|s| s >= 300) {
                tracing::warn!(?delivery, "simulated ProCarrier webhook not accepted");
            }
            sent.push(delivery);
        }
        sent
    }
}

/// Every `interval_ms` (while a URL is set), one tick of `per_tick` returns.
pub(super) async fn run_ticker(sim: Arc<Sim>) {
    let mut settings = sim.webhooks.settings.subscribe();
    loop {
        let current = settings.borrow_and_update().clone();
        if current.url.is_empty() || current.interval_ms == 0 {
            if settings.changed().await.is_err() {
                return;
            }
            continue;
        }
        tokio::select! {
            changed = settings.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep(Duration::from_millis(current.interval_ms)) => {
                sim.advance(current.per_tick).await;
            }
        }
    }
}

#[derive(Deserialize)]
struct AdvanceQuery {
    count: Option<usize>,
}

pub(super) fn admin(sim: Arc<Sim>) -> Router {
    Router::new()
        .route(
            "/__sim/webhooks",
            get(|State(sim): State<Arc<Sim>>| async move {
                Json(sim.webhooks.settings.borrow().clone())
            })
            .put(
                |State(sim): State<Arc<Sim>>, Json(new): Json<SimWebhooks>| async move {
                    if !new.url.is_empty() && reqwest::Url::parse(&new.url).is_err() {
                        return (
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!("url: {:?} is not a URL", new.url),
                        )
                            .into_response();
                    }
                    sim.webhooks.settings.send_replace(new.clone());
                    Json(new).into_response()
                },
            ),
        )
        .route(
            "/__sim/webhooks/advance",
            post(
                |State(sim): State<Arc<Sim>>, Query(q): Query<AdvanceQuery>| async move {
                    let count = q
                        .count
                        .unwrap_or_else(|| sim.webhooks.settings.borrow().per_tick);
                    let deliveries = sim.advance(count.min(1000)).await;
                    Json(json!({ "deliveries": deliveries })).into_response()
                },
            ),
        )
        .with_state(sim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;

    fn sim(returns: usize) -> Sim {
        let world = World::generate(42, returns, crate::world::test_clock());
        Sim {
            api_key: "key".into(),
            clock: world.clock,
            data: parking_lot::Mutex::new(Data::from_world(&world)),
            guard: parking_lot::Mutex::new(crate::procarrier::Guard::default()),
            webhooks: Webhooks::new(&SimWebhooks::default()),
        }
    }

    #[test]
    fn the_moving_world_books_new_returns_once_every_one_is_final() {
        let sim = sim(40);
        let open = |sim: &Sim| {
            let data = sim.data.lock();
            data.returns
                .values()
                .filter(|r| {
                    r.record
                        .current_tracking_status
                        .is_none_or(|s| !FINAL.contains(&s))
                })
                .count()
        };
        assert!(open(&sim) > 0);
        let mut booked = Vec::new();
        for _ in 0..300 {
            let moved = sim.move_returns(2);
            assert!(!moved.is_empty(), "every turn moves the world");
            booked.extend(
                moved
                    .into_iter()
                    .filter(|(d, _)| d.tracking_status == 10)
                    .map(|(d, _)| d.return_id),
            );
        }
        assert!(booked.len() > 10, "booked {}", booked.len());
        let data = sim.data.lock();
        for id in booked {
            let r = &data.returns[&id];
            assert!(r.tracking_number().starts_with("PCR"));
            assert_eq!(data.id_of_tracking(r.tracking_number()), Some(id));
            assert!(r
                .events
                .iter()
                .all(|e| e.date_added >= r.created_at.timestamp()));
        }
    }

    #[test]
    fn statuses_move_towards_the_retailer_and_stop_there() {
        let mut code = 10;
        let mut path = vec![code];
        while !FINAL.contains(&code) {
            code = next_status(code);
            path.push(code);
        }
        assert_eq!(path, [10, 20, 26, 40, 50, 60]);
        assert_eq!(next_status(300), 310);
    }
}

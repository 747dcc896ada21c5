//! `GET /readyz`: whether the gateway can serve. Ready when every tenant's ProCarrier
//! `check/available` answers, no vendor breaker is open and no vendor holds calls after refusing
//! our credentials (503 otherwise). While ProCarrier's refusal is latched the probe is held like
//! every other call (it needs no key, but a vendor we may not call is not ready):
//! `procarrierError` is then the refusal's code and the vendor's `refusal` says until when.
//!
//! The check asks every tenant's ProCarrier, so it is made at most once per
//! `server.readiness_cache_ms` however often `/readyz` is hit: one hit refreshes it while the
//! others answer from the last check (or, before the first one, wait for it). A flood of probes
//! makes no more vendor calls than one probe.
//!
//! The public listener's answer sums the tenants up and names none of them (the webhook
//! endpoint hides which tenants exist, and so does this); the admin listener's adds each
//! tenant's own figures.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::time::Instant;
use vendors::model::Vendor;
use vendors::{BreakerState, ErrorCode, Refusal};

use super::AppState;
use crate::service::health::{Readiness, VendorHealth};
use crate::tenants::Tenants;

/// Every tenant's readiness, as last checked.
struct Check {
    at: Instant,
    tenants: Vec<(String, Readiness)>,
}

/// The last check, and the lock a refresh holds so that only one runs at a time.
pub struct ReadinessCache {
    max_age: Duration,
    last: parking_lot::Mutex<Option<Arc<Check>>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ReadinessCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadinessCache")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl ReadinessCache {
    pub fn new(max_age: Duration) -> ReadinessCache {
        ReadinessCache {
            max_age,
            last: parking_lot::Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    fn last(&self) -> Option<Arc<Check>> {
        self.last.lock().clone()
    }

    fn fresh(&self) -> Option<Arc<Check>> {
        self.last().filter(|c| c.at.elapsed() < self.max_age)
    }

    /// The last check if it is recent enough; else a new one, made by one caller at a time.
    async fn current(&self, tenants: &Tenants) -> Arc<Check> {
        if let Some(fresh) = self.fresh() {
            return fresh;
        }
        let _refreshing = match (self.refreshing.try_lock(), self.last()) {
            (Ok(guard), _) => guard,
            // Another hit is asking the vendors: answer from the check before.
            (Err(_), Some(stale)) => return stale,
            (Err(_), None) => self.refreshing.lock().await,
        };
        // A refresh that ran while this one waited for the lock is as good as a new one.
        if let Some(fresh) = self.fresh() {
            return fresh;
        }
        let checks = tenants
            .iter()
            .map(|tenant| async move { (tenant.id.clone(), tenant.service.readiness().await) });
        let check = Arc::new(Check {
            tenants: futures_util::future::join_all(checks).await,
            at: Instant::now(),
        });
        *self.last.lock() = Some(check.clone());
        check
    }
}

/// `/readyz` on the public listener: the tenants summed up, none named.
pub async fn public(State(state): State<Arc<AppState>>) -> Response {
    let check = state.readiness.current(&state.tenants).await;
    answer(&check, summary(&check))
}

/// `/readyz` on the admin listener: the summary, and each tenant's figures.
pub async fn detailed(State(state): State<Arc<AppState>>) -> Response {
    let check = state.readiness.current(&state.tenants).await;
    let mut body = summary(&check);
    body["tenants"] = check
        .tenants
        .iter()
        .map(|(id, readiness)| {
            json!({
                "tenant": id,
                "ready": readiness.ready,
                "procarrierAvailable": readiness.procarrier_error.is_none(),
                "procarrierError": readiness.procarrier_error.map(ErrorCode::as_str),
                "vendors": readiness.vendors.iter().map(vendor).collect::<Vec<_>>(),
            })
        })
        .collect();
    answer(&check, body)
}

fn answer(check: &Check, body: Value) -> Response {
    let status = if ready(check) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

fn ready(check: &Check) -> bool {
    check.tenants.iter().all(|(_, r)| r.ready)
}

/// Over all tenants: ready when every one is; ProCarrier's error if any tenant's probe failed;
/// each vendor's worst breaker, most consecutive failures and a latched refusal (its code and
/// until when, not the vendor's message).
fn summary(check: &Check) -> Value {
    let procarrier_error = check.tenants.iter().find_map(|(_, r)| r.procarrier_error);
    let vendors: Vec<Value> = Vendor::ALL
        .into_iter()
        .map(|v| {
            let health: Vec<&VendorHealth> = check
                .tenants
                .iter()
                .flat_map(|(_, r)| r.vendors.iter().filter(move |h| h.vendor == v))
                .collect();
            let breaker = health
                .iter()
                .map(|h| h.breaker)
                .max_by_key(|b| match b {
                    BreakerState::Closed => 0,
                    BreakerState::HalfOpen => 1,
                    BreakerState::Open => 2,
                })
                .unwrap_or(BreakerState::Closed);
            let failures = health.iter().map(|h| h.consecutive_failures).max();
            let refusal = health.iter().find_map(|h| h.refusal.as_ref());
            json!({
                "vendor": v.as_str(),
                "breaker": breaker_name(breaker),
                "consecutiveFailures": failures.unwrap_or(0),
                "refusal": refusal.map(|r| json!({"code": r.code.as_str(), "until": until(r)})),
            })
        })
        .collect();
    json!({
        "ready": ready(check),
        "procarrierAvailable": procarrier_error.is_none(),
        "procarrierError": procarrier_error.map(ErrorCode::as_str),
        "vendors": vendors,
    })
}

/// One tenant's vendor, in full.
fn vendor(v: &VendorHealth) -> Value {
    let refusal = v.refusal.as_ref().map(|r| {
        json!({
            "code": r.code.as_str(),
            "message": r.message,
            "until": until(r),
        })
    });
    json!({
        "vendor": v.vendor.as_str(),
        "breaker": breaker_name(v.breaker),
        "consecutiveFailures": v.consecutive_failures,
        "refusal": refusal,
    })
}

fn breaker_name(breaker: BreakerState) -> String {
    format!("{breaker:?}").to_lowercase()
}

fn until(refusal: &Refusal) -> String {
    let until = std::time::SystemTime::now() + refusal.remaining();
    chrono::DateTime::<chrono::Utc>::from(until).to_rfc3339()
}

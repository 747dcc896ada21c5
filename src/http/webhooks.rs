//! `POST /webhooks/procarrier/{tenant}`: ProCarrier's `return_updated` deliveries.
//!
//! The `X-Hmac-Sha256-Signature` header is HMAC-SHA256 of the raw body keyed with the tenant's
//! ProCarrier API key, checked over the bytes received, before anything is parsed, in constant
//! time; the encodings accepted are listed in [`signature`].
//!
//! Answers: missing signature 400; a signature that does not verify (or a tenant this gateway
//! does not serve, or one without a ProCarrier key: indistinguishable on purpose) 401; body over
//! `webhooks.max_body_bytes` 413; malformed JSON 400; otherwise 200 — also for a repeated
//! delivery (same return id and `tracking_last_update`), which is acknowledged but not
//! processed twice, so the vendor stops retrying it.
//!
//! Anyone can send refused deliveries, as many as they like: each is counted by its code in
//! `gateway_webhook_refusals_total`, but logged sampled (`webhooks.refusal_log_every_s`), its
//! access line at debug. Accepted ones are logged at debug, access line included: a vendor
//! sends one every few seconds (the demo's simulator, every 3 s), and a line each would bury the
//! rest of the log. The tenant path segment is the sender's text: it is logged escaped.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::AppState;
use crate::events::ReturnUpdate;
use crate::request_id::SampledAccessLog;
use vendors::escaped::Escaped;
use vendors::model::Vendor;
use vendors::procarrier::{signature, wire};
use vendors::ErrorCode;

/// The webhook's refusal: `{"error": {"code", "message"}}`, counted, and logged sampled.
fn refuse(
    state: &AppState,
    tenant_segment: &str,
    status: StatusCode,
    code: ErrorCode,
    message: impl Into<String>,
) -> Response {
    state.metrics.record_webhook_refusal(code);
    if let Some(unlogged) = state.webhook_refusals.sample(code) {
        tracing::warn!(
            tenant = %Escaped(tenant_segment),
            code = code.as_str(),
            unlogged_since_last_line = unlogged,
            "ProCarrier webhook refused"
        );
    }
    let body = serde_json::json!({"error": {"code": code.as_str(), "message": message.into()}});
    quiet((status, Json(body)).into_response())
}

/// `response` with its access line at debug: the handler has logged its outcome itself.
fn quiet(mut response: Response) -> Response {
    response.extensions_mut().insert(SampledAccessLog);
    response
}

/// A delivery acknowledged with 200 and `{"status": status}`.
fn acknowledged(status: &str) -> Response {
    quiet(
        (
            StatusCode::OK,
            Json(serde_json::json!({ "status": status })),
        )
            .into_response(),
    )
}

pub async fn procarrier_return_updated(
    State(state): State<Arc<AppState>>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let limit = state.webhooks.max_body_bytes;
    let Some(signature) = headers
        .get(signature::HEADER)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
    else {
        return refuse(
            &state,
            &tenant_id,
            StatusCode::BAD_REQUEST,
            ErrorCode::SignatureMissing,
            "the X-Hmac-Sha256-Signature header is required",
        );
    };
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(e) => {
            let unreadable = super::intake::unreadable_body(&e, limit);
            return refuse(
                &state,
                &tenant_id,
                unreadable.status,
                unreadable.code,
                unreadable.message,
            );
        }
    };
    // An unknown tenant and a tenant without a key answer like a bad signature: an unsigned
    // caller learns nothing about which tenants exist.
    let tenant = state
        .tenants
        .get(&tenant_id)
        .filter(|t| !t.procarrier_webhook_key.is_empty());
    let verified = tenant.is_some_and(|t| {
        signature::verify(
            t.procarrier_webhook_key.expose().as_bytes(),
            &body,
            &signature,
        )
    });
    let Some(tenant) = tenant.filter(|_| verified) else {
        return refuse(
            &state,
            &tenant_id,
            StatusCode::UNAUTHORIZED,
            ErrorCode::SignatureInvalid,
            "the signature does not match the body",
        );
    };
    let event: wire::ReturnUpdatedWebhook = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => {
            return refuse(
                &state,
                &tenant_id,
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                format!("not a return_updated event: {e}"),
            )
        }
    };
    match event.event_type.as_deref() {
        Some("return_updated") | None => {}
        Some(other) => {
            // Acknowledged so the vendor does not retry an event we have no use for.
            tracing::debug!(
                tenant = %tenant.id,
                event_type = %Escaped(other),
                "ProCarrier webhook ignored"
            );
            return acknowledged("ignored");
        }
    }
    let delivery = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        tenant.id,
        Vendor::ProCarrier,
        event.id,
        event
            .tracking_last_update
            .map_or_else(|| super::intake::sha256_hex(&body), |t| t.to_string())
    );
    let now = state.clock.now().timestamp_millis();
    let keep_ms = i64::try_from(state.webhooks.dedupe_ttl_s)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let first = tenant
        .service
        .index()
        .first_delivery(&delivery, now.saturating_add(keep_ms), now)
        .await;
    let first = match first {
        Ok(first) => first,
        Err(e) => {
            // Not acknowledged: the vendor delivers it again once the index is back.
            tracing::error!(tenant = %tenant.id, error = %e, "ProCarrier webhook not recorded");
            return refuse(
                &state,
                &tenant_id,
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::IndexUnavailable,
                "the delivery cannot be recorded now; send it again later",
            );
        }
    };
    if !first {
        tracing::debug!(tenant = %tenant.id, return_id = event.id, "ProCarrier webhook repeated");
        return acknowledged("duplicate");
    }
    let record = tenant.service.procarrier_return_updated(&event).await;
    tracing::debug!(
        tenant = %tenant.id,
        return_id = event.id,
        status = ?record.status,
        "ProCarrier webhook accepted"
    );
    state.events.publish(ReturnUpdate {
        tenant: tenant.id.clone(),
        record,
        received_at: state.clock.now(),
    });
    acknowledged("processed")
}

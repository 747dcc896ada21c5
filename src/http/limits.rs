//! Inbound limits on every route but the probes (`/healthz`, `/readyz`, `/metrics`):
//!
//! - a rate limit per client — a token's subject, else the peer's address — answering 429 with
//!   `Retry-After` (`RATE_LIMITED`): governor's keyed GCRA limiter;
//! - at most `server.max_concurrent_requests` requests in flight, and a fast 503 beyond
//!   (`OVERLOADED`): tower's load shedding over its global concurrency limit;
//! - a deadline: the request's vendor calls end before it (a slow vendor's fields answer null
//!   with `VENDOR_TIMEOUT`, the rest of the answer comes back in time), they number at most
//!   `server.max_vendor_calls_per_request`, and tower's timeout answers 504 (`REQUEST_TIMEOUT`)
//!   for anything that still overruns.
//!
//! WebSocket upgrades are rate limited like any request, but neither counted in flight nor held
//! to the deadline: a session outlives any request, and `server.max_websockets` bounds them.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{BoxError, ServiceBuilder, ServiceExt};

use super::intake::Refusal;
use super::AppState;
use crate::auth::{AuthError, Caller};
use crate::config::ServerSettings;
use vendors::ErrorCode;

/// Who a rate limit counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Client {
    /// A token's subject (within its tenant).
    Subject { tenant: String, subject: String },
    /// Anyone else, by the peer's address; `None` when the server does not pass it on
    /// (`ConnectInfo`): such callers share one allowance.
    Address(Option<IpAddr>),
}

/// Every this many checks, clients whose allowance is full again are forgotten, so the table
/// holds recent clients only.
const FORGET_IDLE_CLIENTS_EVERY: u64 = 4096;

/// The time a request's answer is given after its vendor calls' deadline: a tenth of the
/// request timeout, at most this.
const MAX_ANSWER_TIME: Duration = Duration::from_secs(1);

/// The outcome of authenticating the request, once, for the rate limit and the handlers.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Result<Caller, AuthError>);

/// The gateway's inbound limits (one per gateway, shared by every request).
pub struct RequestLimits {
    clients: Option<governor::DefaultKeyedRateLimiter<Client>>,
    checks: AtomicU64,
    in_flight: GlobalConcurrencyLimitLayer,
    request_timeout: Duration,
    /// When, after a request starts, its vendor calls must have ended.
    vendor_time: Duration,
    max_vendor_calls: usize,
}

impl RequestLimits {
    pub fn new(settings: &ServerSettings) -> RequestLimits {
        let clients = NonZeroU32::new(settings.rate_limit_per_client_per_s).map(|rate| {
            // Validated: at least one while the rate limit is on.
            let burst = NonZeroU32::new(settings.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
            governor::RateLimiter::keyed(governor::Quota::per_second(rate).allow_burst(burst))
        });
        let request_timeout = Duration::from_millis(settings.request_timeout_ms);
        RequestLimits {
            clients,
            checks: AtomicU64::new(0),
            in_flight: GlobalConcurrencyLimitLayer::new(settings.max_concurrent_requests),
            request_timeout,
            vendor_time: request_timeout - (request_timeout / 10).min(MAX_ANSWER_TIME),
            max_vendor_calls: settings.max_vendor_calls_per_request,
        }
    }

    /// Counts a request of `client`: `Err` with how long to wait when its allowance is spent.
    fn check(&self, client: &Client) -> Result<(), Duration> {
        let Some(limiter) = &self.clients else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_IDLE_CLIENTS_EVERY == 0 {
            limiter.retain_recent();
        }
        limiter
            .check_key(client)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }
}

/// Authenticates the request (the handlers read the outcome, [`Authenticated`]) and counts it
/// against its client's allowance: 429 with `Retry-After` when that is spent.
pub async fn rate_limit(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = super::authenticate(&state, request.headers()).await;
    let client = match &caller {
        Ok(Caller {
            subject: Some(subject),
            tenant,
            ..
        }) => Client::Subject {
            tenant: tenant.clone(),
            subject: subject.clone(),
        },
        _ => Client::Address(
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip()),
        ),
    };
    if let Err(wait) = state.limits.check(&client) {
        // Whole seconds, rounded up: a client that waits that long is admitted.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return refused(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many requests from this client; try again after `Retry-After` seconds",
            seconds.max(1),
        );
    }
    request.extensions_mut().insert(Authenticated(caller));
    next.run(request).await
}

/// Admits the request if fewer than `server.max_concurrent_requests` are in flight (503 at
/// once otherwise) and runs it within its deadline and budget of vendor calls (504 when it
/// still overruns). WebSocket upgrades pass (see the module's doc).
pub async fn admit(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if super::websocket::is_upgrade(request.headers()) {
        return next.run(request).await;
    }
    let limits = &state.limits;
    let vendor_calls = vendors::request_id::Limits::new(
        Instant::now() + limits.vendor_time,
        limits.max_vendor_calls,
    );
    let guarded = ServiceBuilder::new()
        .load_shed()
        .layer(limits.in_flight.clone())
        .timeout(limits.request_timeout)
        .service(next);
    match vendors::request_id::limited(vendor_calls, guarded.oneshot(request)).await {
        Ok(response) => response,
        Err(error) => beyond_limits(&error),
    }
}

/// What a request turned away by [`admit`]'s layers gets: they fail only when shedding load or
/// on timeout (the handlers themselves cannot fail).
fn beyond_limits(error: &BoxError) -> Response {
    if error.is::<tower::load_shed::error::Overloaded>() {
        refused(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Overloaded,
            "the gateway has as many requests in flight as it takes; try again shortly",
            1,
        )
    } else {
        tracing::warn!(%error, "request overran its deadline");
        refusal(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::RequestTimeout,
            "no answer within the request deadline",
        )
        .into_response()
    }
}

fn refusal(status: StatusCode, code: ErrorCode, message: &str) -> Refusal {
    Refusal {
        status,
        code,
        message: message.to_owned(),
    }
}

/// A GraphQL-shaped refusal with `Retry-After: retry_after_s`.
fn refused(status: StatusCode, code: ErrorCode, message: &str, retry_after_s: u64) -> Response {
    let mut response = refusal(status, code, message).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
    response
}

#[cfg(test)]
mod tests {
    use std::future::IntoFuture;

    use super::*;
    use crate::config::Settings;

    #[tokio::test]
    async fn shed_load_gets_503_and_an_overrun_504_graphql_shaped() {
        for (error, status, code) in [
            (
                BoxError::from(tower::load_shed::error::Overloaded::new()),
                StatusCode::SERVICE_UNAVAILABLE,
                "OVERLOADED",
            ),
            (
                BoxError::from(tower::timeout::error::Elapsed::new()),
                StatusCode::GATEWAY_TIMEOUT,
                "REQUEST_TIMEOUT",
            ),
        ] {
            let response = beyond_limits(&error);
            assert_eq!(response.status(), status);
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["errors"][0]["extensions"]["code"], code);
            assert_eq!(body["errors"][0]["extensions"]["retryable"], true);
            assert_eq!(
                retry_after.is_some(),
                code == "OVERLOADED",
                "Retry-After on 503 only"
            );
        }
    }

    #[tokio::test]
    async fn callers_without_a_subject_are_limited_by_their_address() {
        // The demo's: anonymous callers allowed (no vendor is called below).
        let mut settings = Settings::demo();
        settings.server.rate_limit_per_client_per_s = 1;
        settings.server.rate_limit_burst = 1;
        let app = crate::App::new(&settings).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/graphql", listener.local_addr().unwrap());
        let router = app.router();
        let server = tokio::spawn(
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .into_future(),
        );
        let from = |ip: [u8; 4]| {
            reqwest::Client::builder()
                .local_address(IpAddr::from(ip))
                .build()
                .unwrap()
        };
        let ask = |client: &reqwest::Client| {
            let request = client
                .post(&url)
                .json(&serde_json::json!({"query": "{ __typename }"}));
            async move { request.send().await.unwrap().status() }
        };
        let first = from([127, 0, 0, 1]);
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(ask(&first).await);
        }
        assert_eq!(statuses[0], StatusCode::OK);
        assert!(
            statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
            "5 requests at a rate of 1/s: {statuses:?}"
        );
        let second = from([127, 0, 0, 2]);
        assert_eq!(ask(&second).await, StatusCode::OK, "another address");
        server.abort();
    }
}

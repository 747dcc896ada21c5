//! A request id per HTTP request: taken from the caller's `X-Request-Id` when it is a sane
//! token, generated otherwise; echoed in the response, attached to every log line of the
//! request (a tracing span) and sent on to the vendor calls the request makes, so one id follows
//! a request through our logs and the vendors'.
//!
//! tower-http sets the header when it is missing ([`SetRequestIdLayer`], with [`Generate`]) and
//! echoes it on the response ([`PropagateRequestIdLayer`]). Around them, two small pieces of
//! ours: before, an insane caller id is dropped (so one is generated); inside, the request runs
//! in its span and in the task-local scope the vendor transport reads the id (and the caller's
//! trace context, its `traceparent`) from.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{from_fn, map_request, Next};
use axum::response::Response;
use axum::Router;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tracing::Instrument;
use vendors::escaped::Escaped;
pub use vendors::request_id::{current, scope, spawn, HEADER};

/// Put in a response's extensions by a handler that logs its outcome itself, sampled (refused
/// webhooks: anyone can send floods of them). Its access line ("request served") is then debug,
/// not info, so a flood writes a handful of lines instead of one per request.
#[derive(Debug, Clone, Copy)]
pub struct SampledAccessLog;

/// A caller's id is kept when it is 1 to 64 of `A-Z a-z 0-9 - _ .`; anything else could forge
/// log lines or bloat them.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn generate() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // A process-random hasher over a counter: unique within the process, unguessable across.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

/// tower-http's [`MakeRequestId`]: ours, 16 hex digits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Generate;

impl MakeRequestId for Generate {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&generate()).ok().map(RequestId::new)
    }
}

/// Request ids around every route of `router`.
pub fn layers<S>(router: Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let header = HeaderName::from_static(HEADER);
    // The layer added last runs first.
    router
        .layer(from_fn(in_scope))
        .layer(PropagateRequestIdLayer::new(header.clone()))
        .layer(SetRequestIdLayer::new(header, Generate))
        .layer(map_request(drop_insane))
}

/// Drops a caller's `X-Request-Id` that is not [`acceptable`], so one is generated instead. The
/// value is never logged: it could forge log lines.
async fn drop_insane(mut request: Request) -> Request {
    let insane = request
        .headers()
        .get(HEADER)
        .is_some_and(|v| !v.to_str().is_ok_and(acceptable));
    if insane {
        request.headers_mut().remove(HEADER);
        tracing::debug!("unusable X-Request-Id replaced");
    }
    request
}

/// Runs the request in its span and in the request id's task-local scope (vendor calls send the
/// id on), and logs it served.
async fn in_scope(request: Request, next: Next) -> Response {
    // Set by `SetRequestIdLayer` before this runs.
    let id: Arc<str> = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .map_or_else(|| generate().into(), Into::into);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        // The caller's path: percent-decoded nowhere, but as long as the caller likes.
        path = %Escaped(request.uri().path()),
    );
    // The caller's trace (its `traceparent`): the request's spans, or else its vendor calls,
    // are its children.
    let caller_trace = crate::telemetry::caller_context(request.headers());
    let started = Instant::now();
    let response = vendors::request_id::traced(caller_trace, scope(id, next.run(request)))
        .instrument(span.clone())
        .await;
    let (status, elapsed_ms) = (
        response.status().as_u16(),
        started.elapsed().as_millis() as u64,
    );
    span.in_scope(|| {
        if response.extensions().get::<SampledAccessLog>().is_some() {
            tracing::debug!(status, elapsed_ms, "request served");
        } else {
            tracing::info!(status, elapsed_ms, "request served");
        }
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_ids_are_kept() {
        assert!(acceptable("req-1.a_B"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("x\ny"));
        assert!(!acceptable(&"a".repeat(65)));
        assert_ne!(generate(), generate());
    }

    #[tokio::test]
    async fn an_id_is_kept_or_generated_echoed_and_in_scope_for_the_handler() {
        let app = layers(Router::new().route(
            "/",
            axum::routing::get(|| async { current().as_deref().unwrap_or("-").to_owned() }),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let server = tokio::spawn(std::future::IntoFuture::into_future(axum::serve(
            listener, app,
        )));
        let http = reqwest::Client::new();
        let too_long = "a".repeat(65);
        for (sent, kept) in [
            (Some("req-1.a_B"), true),
            (Some("two words"), false),
            (Some(too_long.as_str()), false),
            (None, false),
        ] {
            let mut request = http.get(&url);
            if let Some(id) = sent {
                request = request.header(HEADER, id);
            }
            let response = request.send().await.unwrap();
            let echoed = response.headers()[HEADER].to_str().unwrap().to_owned();
            let seen = response.text().await.unwrap();
            assert_eq!(seen, echoed, "the handler ran in the echoed id's scope");
            if kept {
                assert_eq!(Some(echoed.as_str()), sent);
            } else {
                assert_eq!(echoed.len(), 16, "{echoed}");
                assert!(echoed.bytes().all(|b| b.is_ascii_hexdigit()), "{echoed}");
            }
        }
        server.abort();
    }

    #[tokio::test]
    async fn spawned_work_keeps_the_request_id() {
        let seen = scope("r1".into(), async {
            spawn(async { current() }).await.unwrap()
        })
        .await;
        assert_eq!(seen.as_deref(), Some("r1"));
        assert_eq!(current(), None);
    }
}

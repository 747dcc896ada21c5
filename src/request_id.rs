//! A request id per HTTP request: taken from the caller's `X-Request-Id` when it is a sane
//! token, generated otherwise; echoed in the response, attached to every log line of the
//! request (a tracing span) and sent on to the vendor calls the request makes, so one id follows
//! a request through our logs and the vendors'.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
pub use vendors::request_id::{current, scope, spawn, HEADER};

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

/// The axum middleware.
pub async fn layer(request: Request, next: Next) -> Response {
    let id: Arc<str> = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| generate().into(), Into::into);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = Instant::now();
    let mut response = scope(id.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
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
    async fn spawned_work_keeps_the_request_id() {
        let seen = scope("r1".into(), async {
            spawn(async { current() }).await.unwrap()
        })
        .await;
        assert_eq!(seen.as_deref(), Some("r1"));
        assert_eq!(current(), None);
    }
}

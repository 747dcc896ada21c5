//! The request a vendor call is made for: the gateway runs each request's work in a scope with
//! its request id and, for HTTP requests, its limits. The transport sends the id on as
//! `X-Request-Id`, so one id follows a request through the gateway's logs and the vendors', and
//! holds every call to the request's deadline and budget of vendor calls (see [`Limits`]). With
//! it travels the trace context the calls are children of (see [`traced`]), which the transport
//! sends on as `traceparent`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::SpanContext;

pub const HEADER: &str = "x-request-id";

/// What one request allows the vendor calls made for it, DataLoader tasks and every operation of
/// a batch included: they end by `deadline` (so the answer, partial if need be, is back in time),
/// and there are at most so many of them (so one request cannot fan out into thousands).
#[derive(Debug)]
pub struct Limits {
    deadline: Instant,
    calls_left: AtomicUsize,
}

impl Limits {
    pub fn new(deadline: Instant, max_calls: usize) -> Limits {
        Limits {
            deadline,
            calls_left: AtomicUsize::new(max_calls),
        }
    }

    /// Counts one vendor call; `false` when the budget is spent (the call must not be made).
    fn take_call(&self) -> bool {
        self.calls_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }
}

/// What the task works for.
#[derive(Debug, Clone, Default)]
struct Scope {
    id: Option<Arc<str>>,
    limits: Option<Arc<Limits>>,
    /// The span the vendor calls are children of: the GraphQL operation's, or the caller's
    /// (its `traceparent`) when the gateway records no traces.
    trace: Option<SpanContext>,
}

tokio::task_local! {
    static CURRENT: Scope;
}

fn with_current<T>(f: impl FnOnce(&Scope) -> T) -> Option<T> {
    CURRENT.try_with(f).ok()
}

/// The id of the request this task works for, if any.
pub fn current() -> Option<Arc<str>> {
    with_current(|s| s.id.clone()).flatten()
}

/// When the vendor calls of the request this task works for must have ended, if it has a
/// deadline.
pub fn deadline() -> Option<Instant> {
    with_current(|s| s.limits.as_ref().map(|l| l.deadline)).flatten()
}

/// Counts one vendor call against the request's budget: `false` when it is spent. Work outside
/// any request (background refreshes, readiness probes) has no budget.
pub fn take_vendor_call() -> bool {
    with_current(|s| s.limits.as_ref().is_none_or(|l| l.take_call())).unwrap_or(true)
}

/// The span the vendor calls of this task are children of, if any.
pub fn trace_parent() -> Option<SpanContext> {
    with_current(|s| s.trace.clone()).flatten()
}

/// The current scope, changed by `change`, around `work`.
async fn within<F: Future>(change: impl FnOnce(&mut Scope), work: F) -> F::Output {
    let mut scope = with_current(Scope::clone).unwrap_or_default();
    change(&mut scope);
    CURRENT.scope(scope, work).await
}

/// Runs `work` as part of request `id`.
pub async fn scope<F: Future>(id: Arc<str>, work: F) -> F::Output {
    within(|s| s.id = Some(id), work).await
}

/// Runs `work` within `limits`, as part of the current request.
pub async fn limited<F: Future>(limits: Limits, work: F) -> F::Output {
    within(|s| s.limits = Some(Arc::new(limits)), work).await
}

/// Runs `work` with its vendor calls as children of `parent` (an invalid context: of none).
pub async fn traced<F: Future>(parent: SpanContext, work: F) -> F::Output {
    let parent = parent.is_valid().then_some(parent);
    within(|s| s.trace = parent, work).await
}

/// `tokio::spawn` that keeps the spawning task's request id and limits (DataLoader batches run
/// in their own tasks).
pub fn spawn<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match with_current(Scope::clone) {
        Some(scope) => tokio::spawn(CURRENT.scope(scope, work)),
        None => tokio::spawn(work),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn spawned_work_shares_the_requests_budget_and_deadline() {
        let at = Instant::now() + Duration::from_secs(5);
        let (spent, seen, over) = scope("r1".into(), async move {
            limited(Limits::new(at, 3), async {
                let spawned = spawn(async { (take_vendor_call(), take_vendor_call(), deadline()) });
                let (a, b, seen) = spawned.await.unwrap();
                (a && b && take_vendor_call(), seen, take_vendor_call())
            })
            .await
        })
        .await;
        assert!(spent, "three calls fit a budget of three");
        assert_eq!(seen, Some(at));
        assert!(!over, "the fourth does not");
        assert!(take_vendor_call(), "outside a request there is no budget");
        assert_eq!(deadline(), None);
    }

    #[tokio::test]
    async fn the_trace_parent_follows_the_request_into_its_limits_and_tasks() {
        use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};
        let parent = SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        );
        let seen = traced(parent.clone(), async {
            scope("r3".into(), async {
                limited(Limits::new(Instant::now(), 1), async {
                    spawn(async { trace_parent() }).await.unwrap()
                })
                .await
            })
            .await
        })
        .await;
        assert_eq!(seen, Some(parent));
        let none = traced(SpanContext::empty_context(), async { trace_parent() }).await;
        assert_eq!(none, None, "an invalid context is no parent");
    }

    #[tokio::test]
    async fn the_limits_keep_the_request_id() {
        let id = scope("r2".into(), async {
            limited(Limits::new(Instant::now(), 1), async { current() }).await
        })
        .await;
        assert_eq!(id.as_deref(), Some("r2"));
    }
}

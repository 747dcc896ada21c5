//! The request a vendor call is made for: the gateway runs each request's work in a scope with
//! its request id, and the transport sends that id on as `X-Request-Id`, so one id follows a
//! request through the gateway's logs and the vendors'.

use std::future::Future;
use std::sync::Arc;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: Arc<str>;
}

/// The id of the request this task works for, if any.
pub fn current() -> Option<Arc<str>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Runs `work` as part of request `id`.
pub async fn scope<F: Future>(id: Arc<str>, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}

/// `tokio::spawn` that keeps the spawning task's request id (DataLoader batches run in their
/// own tasks).
pub fn spawn<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match current() {
        Some(id) => tokio::spawn(CURRENT.scope(id, work)),
        None => tokio::spawn(work),
    }
}

//! The server under the router: our own accept loop over hyper's HTTP/1 connections, so the
//! gateway decides how long a client may take and how many may be connected.
//!
//! - A request's headers must arrive within `server.header_read_timeout_ms` (hyper's header
//!   read timeout, which also ends a kept-alive connection left idle that long); a request body
//!   may stall at most `server.body_read_timeout_ms` (tower-http's `TimeoutBody`; 408).
//! - At most `server.max_connections` connections per listener: one more is closed as soon as
//!   it is accepted, before anything is read from it.
//! - On shutdown ([`Drain`]) the listeners close, each connection answers the request in flight
//!   and closes, and WebSockets close with 1001 (going away), within `server.shutdown_grace_s`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::serve::Listener;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::add_extension::AddExtension;
use tower_http::timeout::RequestBodyTimeout;

use crate::config::ServerSettings;

/// How the gateway stops: `draining` is cancelled when shutdown starts (connections answer the
/// request in flight and close, WebSockets close with 1001), and `open` holds every connection
/// and WebSocket session until it ends, so that shutdown can wait for them.
#[derive(Debug, Clone, Default)]
pub struct Drain {
    pub draining: CancellationToken,
    pub open: TaskTracker,
}

impl Drain {
    /// Starts draining and waits at most `grace` for every connection and WebSocket to end;
    /// how many were still open when it stopped waiting.
    pub async fn run(&self, grace: Duration) -> usize {
        self.draining.cancel();
        self.open.close();
        match tokio::time::timeout(grace, self.open.wait()).await {
            Ok(()) => 0,
            Err(_) => self.open.len(),
        }
    }
}

/// What a connection's requests go through before the router: the body's read timeout, and the
/// peer's address as axum's `ConnectInfo` (what `into_make_service_with_connect_info` gives).
type ConnectionService =
    TowerToHyperService<AddExtension<RequestBodyTimeout<Router>, ConnectInfo<SocketAddr>>>;

/// Accepts connections on `listener` and serves `router` on each, until this future is dropped
/// (which closes the listener).
pub async fn accept(
    mut listener: TcpListener,
    router: Router,
    settings: &ServerSettings,
    drain: Drain,
) -> Infallible {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(settings.header_read_timeout_ms))
        .keep_alive(true);
    let body_read_timeout = Duration::from_millis(settings.body_read_timeout_ms);
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let mut refused = Refused::default();
    loop {
        // axum's listener logs accept errors (a full file table too) and pauses before retrying.
        let (stream, peer) = Listener::accept(&mut listener).await;
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // No task, no buffer: the descriptor is released at once.
            drop(stream);
            refused.count(settings.max_connections);
            continue;
        };
        let service = TowerToHyperService::new(AddExtension::new(
            RequestBodyTimeout::new(router.clone(), body_read_timeout),
            ConnectInfo(peer),
        ));
        drain.open.spawn(serve_connection(
            http.clone(),
            stream,
            service,
            drain.draining.clone(),
            slot,
        ));
    }
}

/// One connection until the client closes it, a timeout ends it, or draining has let its
/// request in flight finish. `_slot` holds its place under `server.max_connections`.
async fn serve_connection(
    http: http1::Builder,
    stream: TcpStream,
    service: ConnectionService,
    draining: CancellationToken,
    _slot: OwnedSemaphorePermit,
) {
    // An upgraded connection (a WebSocket) ends here; the session goes on in its own task.
    let connection = http
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = draining.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = served {
        tracing::debug!(%error, "connection closed");
    }
}

/// Connections closed at accept for want of a slot: logged at most once a second, with how many.
#[derive(Default)]
struct Refused {
    since_logged: u64,
    logged_at: Option<Instant>,
}

impl Refused {
    fn count(&mut self, max_connections: usize) {
        self.since_logged += 1;
        if self
            .logged_at
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(
                refused = self.since_logged,
                max_connections,
                "connections closed at accept: server.max_connections are open"
            );
            self.since_logged = 0;
            self.logged_at = Some(Instant::now());
        }
    }
}

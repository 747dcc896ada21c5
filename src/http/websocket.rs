//! graphql-ws (and the legacy subscriptions-transport-ws) on `GET /graphql` with a WebSocket
//! upgrade. The token travels in the `connection_init` payload (`{"Authorization": "Bearer …"}`,
//! `{"authorization": …}` or `{"token": "…"}`) — browsers cannot set headers on a WebSocket —
//! or else in the upgrade request's `Authorization` header. A connection without a valid token
//! is closed before any operation runs, unless anonymous access is allowed. Every operation
//! passes the same intake as over HTTP (persisted queries and the safelist, alias limits)
//! before it runs.
//!
//! What an unauthenticated client can hold is bounded:
//! - a connection whose `connection_init` is not accepted within
//!   `server.websocket_init_timeout_ms` of the upgrade is closed (4408), whatever it sends
//!   meanwhile (pings, pongs, other messages);
//! - a message (or frame) above `server.max_websocket_message_bytes` is refused by the
//!   WebSocket layer when its frame header arrives, unread, and one above
//!   `server.max_websocket_init_bytes` before the connection is authenticated is refused
//!   before it is parsed: the connection is closed (1009) and nothing runs;
//! - at most `server.max_websockets` connections are open (503 beyond), and at most
//!   `server.max_websockets_per_ip` from one client address (429 beyond).
//!
//! When the gateway shuts down, each connection is closed with 1001 (going away).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, Executor};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, FromRequestParts, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use futures_util::SinkExt;
use parking_lot::Mutex;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use super::intake::{Operation, Refusal, Transport};
use super::AppState;
use crate::config::ServerSettings;
use vendors::ErrorCode;

/// The schema behind the HTTP intake checks, for operations arriving over the WebSocket.
#[derive(Clone)]
struct CheckedExecutor(Arc<AppState>);

impl CheckedExecutor {
    async fn admit(
        &self,
        mut request: async_graphql::Request,
    ) -> Result<(Operation, async_graphql::Request), async_graphql::Response> {
        let state = &self.0;
        state
            .persisted
            .resolve(&mut request)
            .await
            .map_err(Refusal::into_graphql)?;
        let operation = super::intake::check(&mut request, &state.settings, Transport::Stream)
            .map_err(Refusal::into_graphql)?;
        Ok((operation, request))
    }
}

impl Executor for CheckedExecutor {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        match self.admit(request).await {
            Ok((operation, request)) => self.0.run_operation(&operation, request).await,
            Err(refused) => refused,
        }
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let this = self.clone();
        futures_util::stream::once(async move { this.admit(request).await.map(|r| (this, r)) })
            .flat_map(move |admitted| match admitted {
                Ok((this, (operation, request))) => {
                    let mut results =
                        Executor::execute_stream(&this.0.schema, request, session_data.clone());
                    if operation.is_subscription() {
                        return results;
                    }
                    // A query or mutation: its one result, in its span, counted and timed.
                    futures_util::stream::once(async move {
                        let execution = async { results.next().await.unwrap_or_default() };
                        this.0.observe(&operation, execution).await
                    })
                    .boxed()
                }
                Err(refused) => futures_util::stream::once(async { refused }).boxed(),
            })
            .boxed()
    }
}

pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The bearer token of a `connection_init` payload, if it carries one.
fn payload_authorization(payload: &serde_json::Value) -> Option<String> {
    let field = |name: &str| payload.get(name).and_then(|v| v.as_str());
    if let Some(value) = field("Authorization").or_else(|| field("authorization")) {
        return Some(value.to_owned());
    }
    field("token").map(|t| format!("Bearer {t}"))
}

pub async fn upgrade(state: Arc<AppState>, parts: &mut Parts) -> Response {
    let protocol = match GraphQLProtocol::from_request_parts(parts, &()).await {
        Ok(protocol) => protocol,
        Err(status) => return (status, "unsupported WebSocket subprotocol").into_response(),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let place = match state.websockets.admit(client) {
        Ok(place) => place,
        Err(refusal) => return refusal.into_response(),
    };
    let header_authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // tungstenite refuses a longer frame from its header, before it reserves or reads the
    // payload, and a fragmented message as soon as its frames add up to more.
    let max_message = state.settings.max_websocket_message_bytes;
    upgrade
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            // Held while the connection is open.
            let _place = place;
            session(state, socket, protocol, header_authorization).await;
        })
}

/// A peer that does not read gets this long to take our close frame, then it is dropped.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// One graphql-ws session, until either side closes it, its `connection_init` is late (4408) or
/// the client sends a message too big to read (1009).
async fn session(
    state: Arc<AppState>,
    socket: WebSocket,
    protocol: GraphQLProtocol,
    header_authorization: Option<String>,
) {
    // Shutdown waits for the session too (it is no HTTP connection any more), and closes it
    // with 1001.
    let _open = state.drain.open.token();
    let draining = state.drain.draining.clone();
    let (mut sink, stream) = socket.split();
    let (authenticated_tx, mut authenticated) = watch::channel(false);
    let too_big = AtomicBool::new(false);
    let input = limited(
        stream,
        authenticated.clone(),
        state.settings.max_websocket_init_bytes,
        &too_big,
    );
    let init_timeout = Duration::from_millis(state.settings.websocket_init_timeout_ms);
    let executor = CheckedExecutor(state.clone());
    let served = GraphQLWebSocket::new_with_pair(&mut sink, input, executor, protocol)
        .on_connection_init(move |payload| async move {
            let authorization = payload_authorization(&payload).or(header_authorization);
            let caller = state
                .auth
                .authenticate(authorization.as_deref())
                .await
                .map_err(|e| async_graphql::Error::new(e.to_string()))?;
            let tenant = state.tenants.get(&caller.tenant).cloned().ok_or_else(|| {
                async_graphql::Error::new(format!("tenant {:?} is not served here", caller.tenant))
            })?;
            // The session lives long: its loaders keep nothing between operations, so
            // every event's links are read fresh (through the vendor cache).
            let loaders = tenant.service.loaders(true);
            let mut data = Data::default();
            data.insert(caller);
            data.insert(tenant.service.clone());
            data.insert(loaders);
            authenticated_tx.send_replace(true);
            Ok(data)
        })
        .serve();
    // Counted from the upgrade: no frame the client sends (a ping, a pong, another message)
    // moves it; only an accepted `connection_init` ends it.
    let init_deadline = async {
        let waited = tokio::time::timeout(init_timeout, authenticated.wait_for(|yes| *yes))
            .await
            .map(drop);
        if waited.is_ok() {
            // Authenticated, or refused (the session closes itself then): no deadline now.
            std::future::pending::<()>().await;
        }
    };
    let closing = tokio::select! {
        () = served => too_big
            .load(Ordering::Relaxed)
            .then(|| close_frame(1009, "message too big")),
        () = init_deadline => Some(close_frame(4408, "Connection initialisation timeout")),
        () = draining.cancelled() => Some(close_frame(1001, "server shutting down")),
    };
    if let Some(closing) = closing {
        let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, sink.send(closing)).await;
    }
}

fn close_frame(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The client's messages, ending at the first one that is too big (and `too_big` set): above
/// `server.max_websocket_message_bytes` (refused by tungstenite, see [`upgrade`]), or above
/// `init_limit` while the connection is not yet `authenticated` (read, but never parsed).
fn limited<'a>(
    stream: impl Stream<Item = Result<Message, axum::Error>> + 'a,
    authenticated: watch::Receiver<bool>,
    init_limit: usize,
    too_big: &'a AtomicBool,
) -> impl Stream<Item = Result<Message, axum::Error>> + 'a {
    stream.map(move |read| {
        let length = match &read {
            Ok(Message::Text(text)) => text.as_str().len(),
            Ok(Message::Binary(bytes)) => bytes.len(),
            Ok(_) => 0,
            Err(error) => {
                too_big.store(refused_as_too_big(error), Ordering::Relaxed);
                return read;
            }
        };
        if length > init_limit && !*authenticated.borrow() {
            too_big.store(true, Ordering::Relaxed);
            return Err(axum::Error::new("a message too big before connection_init"));
        }
        read
    })
}

/// The WebSocket layer refused a frame or message over its size limit. (The error's type is
/// tungstenite's, the version axum reads with.)
fn refused_as_too_big(error: &axum::Error) -> bool {
    use std::error::Error as _;
    matches!(
        error.source().and_then(|e| e.downcast_ref()),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// Open WebSockets: at most `server.max_websockets` in all and `server.max_websockets_per_ip`
/// from one client.
pub struct Connections {
    all: Arc<Semaphore>,
    max_all: usize,
    per_client: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
    max_per_client: usize,
}

/// A connection's place among the open WebSockets (and graphql-sse streams), given back when
/// dropped.
pub(super) struct Place {
    _all: OwnedSemaphorePermit,
    _client: ClientPlace,
}

struct ClientPlace {
    client: Option<IpAddr>,
    per_client: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
}

impl Drop for ClientPlace {
    fn drop(&mut self) {
        let mut open = self.per_client.lock();
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

impl Connections {
    pub fn new(settings: &ServerSettings) -> Connections {
        Connections {
            all: Arc::new(Semaphore::new(settings.max_websockets)),
            max_all: settings.max_websockets,
            per_client: Arc::default(),
            max_per_client: settings.max_websockets_per_ip,
        }
    }

    /// A place for one more connection from `peer` (`None`: a server that does not pass the
    /// peer's address; such connections share one client's allowance, failing closed).
    pub(super) fn admit(&self, peer: Option<IpAddr>) -> Result<Place, Refusal> {
        let client = peer.map(client_key);
        let client_place = {
            let mut open = self.per_client.lock();
            let count = open.entry(client).or_default();
            if *count >= self.max_per_client {
                return Err(Refusal {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    code: ErrorCode::TooManyConnections,
                    message: format!(
                        "at most {} WebSocket connections are open from one client at once",
                        self.max_per_client
                    ),
                });
            }
            *count += 1;
            ClientPlace {
                client,
                per_client: self.per_client.clone(),
            }
        };
        let all = self.all.clone().try_acquire_owned().map_err(|_| Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: ErrorCode::TooManyConnections,
            message: format!(
                "at most {} WebSocket connections are open at once",
                self.max_all
            ),
        })?;
        Ok(Place {
            _all: all,
            _client: client_place,
        })
    }
}

/// Whose allowance a connection counts against: its IPv4 address, or the /64 of its IPv6 one
/// (one host or network usually holds a whole /64, and picks addresses in it at will).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !(u64::MAX as u128)).into()),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_one_its_address() {
        let key = |ip: &str| client_key(ip.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
    }

    #[test]
    fn places_are_counted_per_client_and_given_back() {
        let connections = Connections::new(&ServerSettings {
            max_websockets: 3,
            max_websockets_per_ip: 2,
            ..ServerSettings::default()
        });
        let client = |ip: &str| Some(ip.parse::<IpAddr>().unwrap());
        let status = |admitted: Result<Place, Refusal>| admitted.err().map(|r| r.status);

        let first = connections.admit(client("2001:db8::1")).unwrap();
        let _second = connections.admit(client("2001:db8::2")).unwrap();
        assert_eq!(
            status(connections.admit(client("2001:db8::3"))),
            Some(StatusCode::TOO_MANY_REQUESTS),
            "the same /64"
        );
        let _third = connections.admit(client("192.0.2.1")).unwrap();
        assert_eq!(
            status(connections.admit(client("192.0.2.2"))),
            Some(StatusCode::SERVICE_UNAVAILABLE),
            "max_websockets"
        );
        assert!(
            !connections
                .per_client
                .lock()
                .contains_key(&client("192.0.2.2")),
            "a connection refused for max_websockets holds no place of its client's"
        );

        drop(first);
        connections.admit(client("2001:db8::3")).unwrap();
    }
}

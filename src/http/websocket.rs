//! graphql-ws (and the legacy subscriptions-transport-ws) on `GET /graphql` with a WebSocket
//! upgrade. The token travels in the `connection_init` payload (`{"Authorization": "Bearer …"}`,
//! `{"authorization": …}` or `{"token": "…"}`) — browsers cannot set headers on a WebSocket —
//! or else in the upgrade request's `Authorization` header. A connection without a valid token
//! is closed before any operation runs, unless anonymous access is allowed; one whose
//! `connection_init` is not accepted within `server.websocket_init_timeout_ms` of the upgrade is
//! closed (4408), whatever it sends meanwhile (pings, pongs, other messages), and at most
//! `server.max_websockets` are open at once (503 beyond). Every
//! operation passes the same intake as over HTTP (persisted queries and the safelist, alias
//! limits) before it runs.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, Executor};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{FromRequestParts, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{BoxStream, StreamExt};
use futures_util::SinkExt;
use tokio::sync::watch;

use super::AppState;
use vendors::ErrorCode;

/// The schema behind the HTTP intake checks, for operations arriving over the WebSocket.
#[derive(Clone)]
struct CheckedExecutor(Arc<AppState>);

impl CheckedExecutor {
    async fn admit(
        &self,
        mut request: async_graphql::Request,
    ) -> Result<async_graphql::Request, async_graphql::Response> {
        let state = &self.0;
        state
            .persisted
            .resolve(&mut request)
            .await
            .map_err(super::intake::Refusal::into_graphql)?;
        super::intake::check(&mut request, &state.settings, false)
            .map_err(super::intake::Refusal::into_graphql)?;
        Ok(request)
    }
}

impl Executor for CheckedExecutor {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        match self.admit(request).await {
            Ok(request) => self.0.schema.execute(request).await,
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
                Ok((this, request)) => {
                    Executor::execute_stream(&this.0.schema, request, session_data.clone())
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
    let Ok(permit) = state.websockets.clone().try_acquire_owned() else {
        return super::intake::Refusal {
            status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
            code: ErrorCode::TooManyConnections,
            message: format!(
                "at most {} WebSocket connections are open at once",
                state.settings.max_websockets
            ),
        }
        .into_response();
    };
    let header_authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            // Held while the connection is open.
            let _permit = permit;
            session(state, socket, protocol, header_authorization).await;
        })
}

/// A peer that does not read gets this long to take our close frame, then it is dropped.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// One graphql-ws session, until either side closes it or its `connection_init` is late (4408).
async fn session(
    state: Arc<AppState>,
    socket: WebSocket,
    protocol: GraphQLProtocol,
    header_authorization: Option<String>,
) {
    let (mut sink, stream) = socket.split();
    let (authenticated_tx, mut authenticated) = watch::channel(false);
    let init_timeout = Duration::from_millis(state.settings.websocket_init_timeout_ms);
    let executor = CheckedExecutor(state.clone());
    let served = GraphQLWebSocket::new_with_pair(&mut sink, stream, executor, protocol)
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
    tokio::select! {
        () = served => {}
        () = init_deadline => {
            let late = Message::Close(Some(CloseFrame {
                code: 4408,
                reason: "Connection initialisation timeout".into(),
            }));
            let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, sink.send(late)).await;
        }
    }
}

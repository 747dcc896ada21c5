//! graphql-ws (and the legacy subscriptions-transport-ws) on `GET /graphql` with a WebSocket
//! upgrade. The token travels in the `connection_init` payload (`{"Authorization": "Bearer …"}`,
//! `{"authorization": …}` or `{"token": "…"}`) — browsers cannot set headers on a WebSocket —
//! or else in the upgrade request's `Authorization` header. A connection without a valid token
//! is closed (4403) before any operation runs, unless anonymous access is allowed; one that sends
//! no `connection_init` within `server.websocket_init_timeout_ms` is closed (4408), and at most
//! `server.max_websockets` are open at once (503 beyond); when the gateway shuts down, each is
//! closed with 1001 (going away). Every operation passes the same intake as over HTTP
//! (persisted queries and the safelist, alias limits) before it runs.

use std::sync::Arc;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, Executor};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{FromRequestParts, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{BoxStream, StreamExt};
use futures_util::SinkExt;

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
            // Shutdown waits for the session too (it is no HTTP connection any more), and
            // closes it with 1001.
            let _open = state.drain.open.token();
            let draining = state.drain.draining.clone();
            let (mut sink, mut stream) = socket.split();
            // A connection that never says `connection_init` holds a socket for nothing.
            let init = Duration::from_millis(state.settings.websocket_init_timeout_ms);
            let first = tokio::select! {
                first = tokio::time::timeout(init, stream.next()) => first,
                () = draining.cancelled() => return going_away(&mut sink).await,
            };
            let first = match first {
                Ok(Some(first)) => first,
                Ok(None) => return,
                Err(_) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code: 4408,
                            reason: "Connection initialisation timeout".into(),
                        })))
                        .await;
                    return;
                }
            };
            let stream = futures_util::stream::once(async move { first }).chain(stream);
            let executor = CheckedExecutor(state.clone());
            let session = GraphQLWebSocket::new_with_pair(&mut sink, stream, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let authorization = payload_authorization(&payload).or(header_authorization);
                    let caller = state
                        .auth
                        .authenticate(authorization.as_deref())
                        .await
                        .map_err(|e| async_graphql::Error::new(e.to_string()))?;
                    let tenant = state.tenants.get(&caller.tenant).cloned().ok_or_else(|| {
                        async_graphql::Error::new(format!(
                            "tenant {:?} is not served here",
                            caller.tenant
                        ))
                    })?;
                    // The session lives long: its loaders keep nothing between operations, so
                    // every event's links are read fresh (through the vendor cache).
                    let loaders = tenant.service.loaders(true);
                    let mut data = Data::default();
                    data.insert(caller);
                    data.insert(tenant.service.clone());
                    data.insert(loaders);
                    Ok(data)
                })
                .serve();
            tokio::select! {
                () = session => {}
                () = draining.cancelled() => going_away(&mut sink).await,
            }
        })
}

/// The gateway is shutting down: close code 1001 (going away), so clients reconnect elsewhere.
async fn going_away<S>(sink: &mut S)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code: 1001,
            reason: "server shutting down".into(),
        })))
        .await;
}

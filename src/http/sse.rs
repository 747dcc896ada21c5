//! graphql-sse, "distinct connections" mode (the GraphQL over Server-Sent Events protocol): a
//! `POST /graphql` with `Accept: text/event-stream` and one GraphQL request as its JSON body
//! answers a stream of `next` events (`data: {"data": …}`), then a `complete` event. A query or
//! mutation sent so streams its one result; a subscription streams its events until it ends,
//! the client goes away, or the gateway shuts down.
//!
//! It is an HTTP request like any other: the token in its `Authorization` header (the caller
//! and tenant, before the rate limit) and the same intake checks (persisted queries and the
//! safelist, alias and complexity limits). What refuses the request itself (no token, rate
//! limit, a body that is no GraphQL request, no place left) answers GraphQL-shaped JSON with its
//! HTTP status; what refuses the operation is, as the protocol asks, a `next` event with the
//! errors, then `complete`. While open the stream holds what a WebSocket holds: a place
//! among `server.max_websockets` (and `server.max_websockets_per_ip` for its client), and a
//! subscription among `server.max_subscriptions`; like a WebSocket's, its operation's
//! loaders keep nothing between events.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::BatchRequest;
use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};

use super::intake::{self, Refusal, Transport};
use super::AppState;
use crate::auth::Caller;
use crate::tenants::Tenant;
use vendors::ErrorCode;

/// The content type a graphql-sse client accepts.
const EVENT_STREAM: &str = "text/event-stream";

/// Whether the client asks for a stream of events (graphql-sse).
pub fn is_requested(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            media
                .split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(EVENT_STREAM))
        })
}

/// Runs the request's operation as a stream of `next` events and a final `complete`.
pub async fn stream(
    state: Arc<AppState>,
    caller: Caller,
    tenant: Arc<Tenant>,
    headers: HeaderMap,
    extensions: &Extensions,
    body: axum::body::Body,
) -> Response {
    match start(state, caller, tenant, headers, extensions, body).await {
        Ok(events) => events,
        Err(refusal) => refusal.into_response(),
    }
}

async fn start(
    state: Arc<AppState>,
    caller: Caller,
    tenant: Arc<Tenant>,
    headers: HeaderMap,
    extensions: &Extensions,
    body: axum::body::Body,
) -> Result<Response, Refusal> {
    let mut request = match intake::read_post(body, &state.settings).await? {
        BatchRequest::Single(request) => request,
        BatchRequest::Batch(_) => {
            return Err(Refusal {
                status: StatusCode::BAD_REQUEST,
                code: ErrorCode::BadRequest,
                message: "one operation per event stream, not a batch".into(),
            })
        }
    };
    let client = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    // Held while the stream is open, as a WebSocket's is.
    let place = state.websockets.admit(client)?;
    // Shutdown waits for the stream too, and ends it.
    let open = state.drain.open.token();
    let draining = state.drain.draining.clone().cancelled_owned();
    // The protocol wants the checks before execution reported in the accepted stream, as a
    // `next` event with the errors (an HTTP 400 would only fail an `EventSource`).
    let checked = match state.persisted.resolve(&mut request).await {
        Ok(()) => intake::check(&mut request, &state.settings, Transport::Stream),
        Err(refusal) => Err(refusal),
    };
    let results = match checked {
        Err(refusal) => stream::once(async { refusal.into_graphql() }).boxed(),
        Ok(operation) if operation.is_subscription() => {
            let request = super::prepare_with_loaders(&headers, &caller, &tenant, request, true);
            state.schema.execute_stream(request).boxed()
        }
        Ok(operation) => {
            // A query or mutation runs now, within its request's deadline and budget of vendor
            // calls, as over plain HTTP; its one result is the stream.
            let request = super::prepare(&headers, &caller, &tenant, request);
            let result = state.run_operation(&operation, request).await;
            stream::once(async { result }).boxed()
        }
    };
    let events = results
        .map(|response| next_event(&response))
        .chain(stream::once(async {
            Ok::<_, Infallible>(Event::default().event("complete").data(""))
        }))
        .take_until(draining)
        .map(move |event| {
            let _held = (&place, &open);
            event
        });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// A `next` event: the execution result, as JSON on one `data` line.
fn next_event(response: &async_graphql::Response) -> Result<Event, Infallible> {
    let json = serde_json::to_string(response).unwrap_or_else(|_| "{}".to_owned());
    Ok(Event::default().event("next").data(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_stream_is_asked_for_among_other_types() {
        let accepts = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, value.parse().unwrap());
            is_requested(&headers)
        };
        assert!(accepts("text/event-stream"));
        assert!(accepts("application/json, Text/Event-Stream;q=0.9"));
        assert!(!accepts("application/json"));
        assert!(!accepts("application/graphql-response+json"));
        assert!(!is_requested(&HeaderMap::new()));
    }
}

//! Subscriptions over graphql-sse ("distinct connections": a POST with `Accept:
//! text/event-stream`) beside graphql-ws, and the coded refusal of a subscription sent as a
//! plain HTTP request.

use serde_json::{json, Value};
use vendors::procarrier::signature;

use crate::helpers::{self, TestGateway};
use crate::webhooks::{delivery, post};
use crate::ws::{self, PATIENCE};

/// The subscription of docs/webhooks-and-subscriptions.md.
const DOCS_SUBSCRIPTION: &str = r#"subscription {
  returnUpdated(filter: {statuses: [IN_TRANSIT, RECEIVED]}) {
    receivedAt
    return { vendorId status trackingStatus order { reference } customer { email } }
  }
}"#;

/// One graphql-sse stream read as it arrives, chunk by chunk.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// POSTs `query` asking for an event stream; `Err` with the status and body of a refusal.
    async fn open(g: &TestGateway, query: &str) -> Result<EventStream, (u16, Value)> {
        EventStream::open_as(g, None, query).await
    }

    /// [`EventStream::open`] with a bearer `token`.
    async fn open_as(
        g: &TestGateway,
        token: Option<&str>,
        query: &str,
    ) -> Result<EventStream, (u16, Value)> {
        let mut request = g
            .http
            .post(&g.url)
            .header("accept", "text/event-stream")
            .json(&json!({ "query": query }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let event_stream = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
        if status != 200 || !event_stream {
            return Err((status, response.json().await.unwrap_or(Value::Null)));
        }
        Ok(EventStream {
            response,
            buffer: String::new(),
        })
    }

    /// The next event's type and data (keep-alive comments skipped); `None` at the end.
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::new(), Vec::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue; // a comment (keep-alive)
                }
                return Some((event, data.join("\n")));
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("the gateway streams within the patience window")
                .expect("the stream reads");
            self.buffer.push_str(std::str::from_utf8(&chunk?).unwrap());
        }
    }

    /// The payload of the next `next` event.
    async fn next_payload(&mut self) -> Value {
        let (event, data) = self.next().await.expect("an event");
        assert_eq!(event, "next", "{data}");
        serde_json::from_str(&data).unwrap()
    }
}

async fn deliver(g: &TestGateway, id: i64, last_update: &str) {
    let body = delivery(id, last_update);
    let sig = signature::sign(b"procarrier-demo-key", &body);
    let (status, answer) = post(g, "default", body, Some(sig)).await;
    assert_eq!((status, &answer["status"]), (200, &json!("processed")));
}

#[tokio::test]
async fn the_docs_subscription_streams_over_sse_as_over_graphql_ws() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let mut sse = EventStream::open(&g, DOCS_SUBSCRIPTION).await.unwrap();
    let mut graphql_ws = ws::connect(&g, json!({})).await.unwrap();
    graphql_ws
        .subscribe("1", DOCS_SUBSCRIPTION, json!({}))
        .await;
    ws::wait_for_subscribers(&g, 2).await;

    deliver(&g, 77, "1700000001").await;
    let over_sse = sse.next_payload().await;
    let over_ws = graphql_ws.next_event().await;
    assert_eq!(
        over_sse["data"]["returnUpdated"]["return"]["vendorId"],
        "77"
    );
    assert_eq!(over_sse, over_ws, "the same event either way");
    assert!(over_sse.get("errors").is_none(), "{over_sse}");
}

#[tokio::test]
async fn a_query_over_sse_is_one_next_event_then_complete_and_timed_as_over_ws() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let query = "query Vendors { vendors { vendor } }";
    let mut sse = EventStream::open(&g, query).await.unwrap();
    let payload = sse.next_payload().await;
    assert_eq!(payload["data"]["vendors"].as_array().map(Vec::len), Some(5));
    let (event, _) = sse.next().await.expect("complete");
    assert_eq!(event, "complete");
    assert_eq!(sse.next().await, None, "the stream ends");

    let mut graphql_ws = ws::connect(&g, json!({})).await.unwrap();
    graphql_ws.subscribe("1", query, json!({})).await;
    assert_eq!(graphql_ws.next_event().await, payload);
    let metrics = g
        .http
        .get(g.url.replace("/graphql", "/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "gateway_graphql_operation_duration_seconds_count{operation=\"Vendors\"} 2",
        "gateway_graphql_operations_total{operation=\"Vendors\",outcome=\"ok\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
}

#[tokio::test]
async fn sse_streams_are_authenticated_and_scoped_as_any_request() {
    let t = helpers::start().await;
    let secret = "sse-secret";
    let g = helpers::gateway_with(&t, |s| {
        s.auth.allow_anonymous = false;
        s.auth.algorithms = vec!["HS256".into()];
        s.auth.hs256_secret = returns_gateway::config::Secret::new(secret);
        s.auth.issuer = "https://issuer.test".into();
        s.auth.audience = "returns-gateway".into();
    })
    .await;
    let (status, refusal) = EventStream::open(&g, DOCS_SUBSCRIPTION)
        .await
        .err()
        .unwrap();
    assert_eq!(status, 401, "{refusal}");
    assert_eq!(
        refusal["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );

    let token = |scope: &str| {
        let claims = json!({"sub": "agent-7", "tenant": "default", "scope": scope,
            "iss": "https://issuer.test", "aud": "returns-gateway",
            "exp": helpers::unix_now() + 600});
        helpers::hs256(&claims, secret.as_bytes())
    };
    let mut unscoped = EventStream::open_as(&g, Some(&token("orders:read")), DOCS_SUBSCRIPTION)
        .await
        .unwrap();
    let refused = unscoped.next_payload().await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let mut scoped = EventStream::open_as(&g, Some(&token("returns:read")), DOCS_SUBSCRIPTION)
        .await
        .unwrap();
    ws::wait_for_subscribers(&g, 1).await;
    deliver(&g, 78, "1700000001").await;
    let event = scoped.next_payload().await;
    assert_eq!(event["data"]["returnUpdated"]["return"]["vendorId"], "78");
}

#[tokio::test]
async fn sse_streams_count_against_the_connection_limits() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| {
        s.server.max_websockets = 1;
        s.server.max_websockets_per_ip = 1;
    })
    .await;
    let _held = EventStream::open(&g, DOCS_SUBSCRIPTION).await.unwrap();
    let (status, refusal) = EventStream::open(&g, DOCS_SUBSCRIPTION)
        .await
        .err()
        .unwrap();
    assert_eq!(status, 429, "{refusal}");
    assert_eq!(
        refusal["errors"][0]["extensions"]["code"],
        "TOO_MANY_CONNECTIONS"
    );
}

#[tokio::test]
async fn an_operation_refused_by_the_intake_checks_is_a_next_event_with_its_code() {
    let t = helpers::start().await;
    let g = helpers::gateway_with(&t, |s| s.server.max_aliases = 2).await;
    let query = "subscription { a: returnUpdated { receivedAt } b: returnUpdated { receivedAt }
        c: returnUpdated { receivedAt } }";
    let mut sse = EventStream::open(&g, query).await.unwrap();
    let refused = sse.next_payload().await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "TOO_MANY_ALIASES",
        "{refused}"
    );
    assert_eq!(
        sse.next().await.map(|(event, _)| event).as_deref(),
        Some("complete")
    );
    assert_eq!(sse.next().await, None);
}

#[tokio::test]
async fn a_subscription_over_plain_http_gets_a_coded_error() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let response = g
        .http
        .post(&g.url)
        .json(&json!({ "query": DOCS_SUBSCRIPTION }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "SUBSCRIPTION_NEEDS_STREAM",
        "{answer}"
    );
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("text/event-stream"), "{message}");
    // Over GET too.
    let response = g
        .http
        .get(&g.url)
        .query(&[("query", DOCS_SUBSCRIPTION)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "SUBSCRIPTION_NEEDS_STREAM"
    );
}

#[tokio::test]
async fn sse_streams_end_when_the_gateway_stops() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let mut sse = EventStream::open(&g, DOCS_SUBSCRIPTION).await.unwrap();
    ws::wait_for_subscribers(&g, 1).await;
    // Within the patience window, well before the 25 s grace would cut the connection.
    tokio::time::timeout(PATIENCE, g.shutdown())
        .await
        .expect("the stream does not hold the shutdown up");
    assert_eq!(sse.next().await, None, "the stream ended");
}

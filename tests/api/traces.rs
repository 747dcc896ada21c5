//! OpenTelemetry traces: a span per GraphQL operation and one per vendor call, exported over
//! OTLP/HTTP to a collector in the test (an axum server on a free port decoding protobuf), and
//! the W3C `traceparent` the simulators receive.

use std::sync::Arc;

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, Span};
use parking_lot::Mutex;
use prost::Message;

use vendors::model::Vendor;

use crate::helpers::{self, TestGateway, TestSims};

/// A query asked of ProCarrier (a parcel no index holds).
const TRACKING: &str = r#"query Parcel { tracking(trackingNumber: "NOT-INDEXED-1") { status } }"#;

/// Spans as a collector receives them, with their resource's `service.name`.
#[derive(Default, Clone)]
struct Collector(Arc<Mutex<Vec<(String, Span)>>>);

impl Collector {
    /// Listens on a free port; answers its base URL.
    async fn start(&self) -> String {
        let spans = self.0.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            post(move |body: Bytes| async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                for resource in request.resource_spans {
                    let service = resource
                        .resource
                        .iter()
                        .flat_map(|r| &r.attributes)
                        .find(|a| a.key == "service.name")
                        .and_then(|a| a.value.as_ref())
                        .map(|v| format!("{:?}", v.value))
                        .unwrap_or_default();
                    for scope in resource.scope_spans {
                        for span in scope.spans {
                            spans.lock().push((service.clone(), span));
                        }
                    }
                }
                // An empty ExportTraceServiceResponse.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn spans(&self) -> Vec<(String, Span)> {
        self.0.lock().clone()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Returns whose orders and trackings the loaders read from MerchantPro and TrackRU, in
/// DataLoader batches of their own tasks (only ProCarrier is indexed).
const LOADED: &str = "query Loaded { returns(first: 20, filter: {vendors: [PROCARRIER]}) {
    edges { node { order { reference } tracking { status } } } } }";

/// The simulators, and a gateway exporting its spans to a fresh collector, with only
/// ProCarrier indexed and the simulators' records starting after that.
async fn traced_gateway() -> (TestSims, TestGateway, Collector) {
    let t = helpers::start().await;
    let collector = Collector::default();
    let endpoint = collector.start().await;
    let g = TestGateway::builder(&t)
        .with(|s| {
            s.telemetry.otlp_endpoint = endpoint;
            s.telemetry.service_name = "gateway-under-test".into();
        })
        .unsynced()
        .start()
        .await;
    // The index's sync works for no request: neither traced nor carrying a traceparent.
    g.sync
        .as_ref()
        .unwrap()
        .tick("default", Vendor::ProCarrier)
        .await
        .unwrap();
    t.reset_calls();
    (t, g, collector)
}

/// `(trace id, span id)` of a `traceparent` header.
fn ids(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!((parts[0], parts[3]), ("00", "01"), "{traceparent}");
    (parts[1].to_owned(), parts[2].to_owned())
}

#[tokio::test]
async fn each_query_is_a_trace_with_a_child_span_per_vendor_call_and_its_traceparent() {
    let (t, g, collector) = traced_gateway().await;
    for query in [LOADED, TRACKING] {
        let answer = g.query(query).await;
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    let received = t.traceparents();
    for vendor in [Vendor::ProCarrier, Vendor::MerchantPro, Vendor::TrackRu] {
        assert!(
            received.iter().any(|(v, _)| *v == vendor),
            "{vendor} was asked: {received:?}"
        );
    }
    // The gateway exports what it holds when it stops.
    g.shutdown().await;
    let spans = collector.spans();
    assert!(spans
        .iter()
        .all(|(service, _)| service.contains("gateway-under-test")));

    let operations: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.kind == SpanKind::Server as i32)
        .collect();
    assert_eq!(operations.len(), 2, "one span per query");
    let traces: std::collections::BTreeSet<String> =
        operations.iter().map(|s| hex(&s.trace_id)).collect();
    assert_eq!(traces.len(), 2, "one trace per query");
    let mut names: Vec<&str> = operations.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["query Loaded", "query Parcel"]);
    for op in &operations {
        assert!(op.parent_span_id.is_empty(), "no caller: a root span");
    }

    let calls: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.kind == SpanKind::Client as i32)
        .collect();
    assert_eq!(calls.len(), received.len(), "a span per vendor call");
    for (vendor, request) in &received {
        let header = request
            .traceparent
            .as_deref()
            .unwrap_or_else(|| panic!("{vendor} {} without traceparent", request.route));
        let (trace_id, span_id) = ids(header);
        let call = calls
            .iter()
            .find(|s| hex(&s.span_id) == span_id)
            .unwrap_or_else(|| panic!("the span of {header}"));
        assert_eq!(hex(&call.trace_id), trace_id);
        let operation = operations
            .iter()
            .find(|op| op.span_id == call.parent_span_id)
            .expect("a vendor call is a child of its operation");
        assert_eq!(hex(&operation.trace_id), trace_id, "the query's trace id");
        assert!(call.name.contains(vendor.as_str()), "{}", call.name);
    }
}

#[tokio::test]
async fn a_callers_traceparent_makes_the_operation_its_child() {
    let (t, g, collector) = traced_gateway().await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let response = g
        .http
        .post(&g.url)
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .header("x-request-id", "trace-me-1")
        .json(&serde_json::json!({ "query": TRACKING }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let received = t.traceparents();
    assert!(!received.is_empty());
    g.shutdown().await;
    let spans = collector.spans();
    let operation = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.kind == SpanKind::Server as i32)
        .expect("the operation's span");
    assert_eq!(hex(&operation.trace_id), trace_id);
    assert_eq!(hex(&operation.parent_span_id), caller_span);
    let request_id = operation
        .attributes
        .iter()
        .find(|a| a.key == "request_id")
        .and_then(|a| a.value.as_ref())
        .map(|v| format!("{:?}", v.value));
    assert!(
        request_id.is_some_and(|id| id.contains("trace-me-1")),
        "the request id links the trace to its log lines"
    );
    for (_, request) in received {
        let (trace, span) = ids(request.traceparent.as_deref().expect("traceparent"));
        assert_eq!(trace, trace_id, "the caller's trace reaches the vendors");
        assert_ne!(span, caller_span, "as a child of the gateway's span");
    }
}

#[tokio::test]
async fn without_traces_a_callers_traceparent_is_passed_on_unchanged() {
    let t = helpers::start().await;
    let g = helpers::gateway(&t).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = g
        .http
        .post(&g.url)
        .header("traceparent", traceparent)
        .json(&serde_json::json!({ "query": TRACKING }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let received = t.traceparents();
    assert!(!received.is_empty());
    for (_, request) in received {
        assert_eq!(request.traceparent.as_deref(), Some(traceparent));
    }
    // And no caller, no header.
    t.reset_calls();
    let _ = g.query(TRACKING.replace("-1", "-2").as_str()).await;
    let received = t.traceparents();
    assert!(!received.is_empty());
    assert!(received.iter().all(|(_, r)| r.traceparent.is_none()));
}

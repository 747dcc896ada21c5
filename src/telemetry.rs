//! OpenTelemetry traces (`[telemetry]`): a server span per GraphQL operation, a client span per
//! vendor call made for it (see `vendors::traces`), exported in batches over OTLP/HTTP
//! (protobuf). The caller's W3C `traceparent` makes the operation span its child; the vendor
//! calls carry theirs as `traceparent`.
//!
//! Each gateway ([`crate::App`]) owns its tracer provider, as it owns its metrics recorder: no
//! process-global provider, so gateways sharing a process (the tests) each export only their
//! own spans. No `tracing` bridge either, for the same reason: a `tracing` layer belongs to the
//! process-wide subscriber.

use std::borrow::Cow;
use std::future::Future;
use std::time::Duration;

use axum::http::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use crate::config::{ConfigError, TelemetrySettings};
use crate::http::intake::Operation;
use crate::tenants::Tenants;

/// One gateway's traces: off (no endpoint), or its provider and the tracer of its operations.
pub struct Telemetry {
    on: Option<(SdkTracerProvider, SdkTracer)>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("on", &self.on.is_some())
            .finish()
    }
}

impl Telemetry {
    /// The traces of `settings`: off without `otlp_endpoint`.
    pub fn new(settings: &TelemetrySettings) -> Result<Telemetry, ConfigError> {
        let Some(url) = settings.traces_url() else {
            return Ok(Telemetry { on: None });
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(url)
            .with_timeout(Duration::from_millis(settings.export_timeout_ms))
            .build()
            .map_err(|e| ConfigError::Invalid {
                key: "telemetry.otlp_endpoint".into(),
                reason: e.to_string(),
            })?;
        let resource = Resource::builder_empty()
            .with_service_name(settings.service_name.clone())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        // The caller's sampling decision wins; without one, the ratio decides by trace id.
        let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            settings.sampling_ratio,
        )));
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler)
            .with_resource(resource)
            .build();
        let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "returns-gateway");
        Ok(Telemetry {
            on: Some((provider, tracer)),
        })
    }

    pub fn is_on(&self) -> bool {
        self.on.is_some()
    }

    /// Has every tenant's vendor transports record a span per call.
    pub fn watch(&self, tenants: &Tenants) {
        let Some((provider, _)) = &self.on else {
            return;
        };
        for tenant in tenants.iter() {
            for vendor in vendors::model::Vendor::ALL {
                tenant
                    .service
                    .upstreams()
                    .transport(vendor)
                    .report_traces_to(provider);
            }
        }
    }

    /// Runs one GraphQL operation in its span (child of the caller's `traceparent`, if any),
    /// its vendor calls as the span's children. Off: runs it as it is (the vendor calls carry
    /// the caller's `traceparent`, if any).
    pub async fn operation<F>(&self, operation: &Operation, work: F) -> async_graphql::Response
    where
        F: Future<Output = async_graphql::Response>,
    {
        let Some((_, tracer)) = &self.on else {
            return work.await;
        };
        let parent = match vendors::request_id::trace_parent() {
            Some(caller) => Context::new().with_remote_span_context(caller),
            None => Context::new(),
        };
        let kind = operation.kind_name();
        let name = match &operation.name {
            Some(name) => format!("{kind} {name}"),
            None => kind.to_owned(),
        };
        let mut attributes = vec![KeyValue::new("graphql.operation.type", kind)];
        if let Some(name) = &operation.name {
            attributes.push(KeyValue::new("graphql.operation.name", name.clone()));
        }
        // What the request's log lines carry: a trace finds its logs by it.
        if let Some(id) = vendors::request_id::current() {
            attributes.push(KeyValue::new("request_id", id.to_string()));
        }
        let mut span = tracer
            .span_builder(Cow::Owned(name))
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(tracer, &parent);
        let context = opentelemetry::trace::Span::span_context(&span).clone();
        let response = vendors::request_id::traced(context, work).await;
        if !response.errors.is_empty() {
            use opentelemetry::trace::Span as _;
            // The first error's stable code says what went wrong; the count how much.
            let code = response.errors[0]
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .and_then(|code| match code {
                    async_graphql::Value::String(code) => Some(code.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "GRAPHQL_ERROR".into());
            span.set_attribute(KeyValue::new(
                "graphql.errors",
                response.errors.len() as i64,
            ));
            span.set_attribute(KeyValue::new("error.type", code.clone()));
            span.set_status(Status::error(code));
        }
        opentelemetry::trace::Span::end(&mut span);
        response
    }

    /// Exports the spans not yet sent and stops the exporter (when the gateway stops).
    pub async fn shutdown(&self) {
        let Some((provider, _)) = &self.on else {
            return;
        };
        let provider = provider.clone();
        // The batch processor's thread does the export; joining it blocks.
        let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(e)) = flushed {
            tracing::warn!(error = %e, "traces: the last export failed");
        }
    }
}

/// The caller's trace context, from its `traceparent` (and `tracestate`) header; an invalid
/// context when it sent none or a malformed one.
pub fn caller_context(headers: &HeaderMap) -> SpanContext {
    struct Headers<'a>(&'a HeaderMap);
    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    let context = TraceContextPropagator::new().extract(&Headers(headers));
    context.span().span_context().clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callers_traceparent_is_read_and_a_bad_one_ignored() {
        let mut headers = HeaderMap::new();
        assert!(!caller_context(&headers).is_valid());
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        let context = caller_context(&headers);
        assert!(context.is_valid() && context.is_remote() && context.is_sampled());
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        headers.insert("traceparent", "00-not-a-trace-01".parse().unwrap());
        assert!(!caller_context(&headers).is_valid());
    }
}

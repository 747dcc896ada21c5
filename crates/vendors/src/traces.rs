//! Vendor calls in traces: each call made for a request gets a client span, child of the
//! request's (see [`crate::request_id::traced`]), and carries that span as a W3C `traceparent`
//! header, so a vendor that traces joins the gateway's trace. Without a tracer (the gateway
//! records no traces) the request's own parent — the caller's `traceparent` — is sent on
//! unchanged, as a proxy that does not trace should. Calls made for no request (the index's
//! background sync, readiness probes) are neither traced nor carry a header.

use std::borrow::Cow;
use std::sync::OnceLock;

use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::{
    SpanContext, SpanKind, Status, TraceContextExt, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};

use crate::model::Vendor;

/// The W3C trace-context header.
pub const TRACEPARENT: &str = "traceparent";
/// Its companion: vendor-specific trace state, passed on as it came.
pub const TRACESTATE: &str = "tracestate";

/// `traceparent` for `span`: version 00, trace id, span id, flags.
pub fn traceparent(span: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        span.trace_id(),
        span.span_id(),
        span.trace_flags().to_u8()
    )
}

/// The tracer a transport's calls are recorded with, set once by the gateway (see
/// [`crate::Transport::report_traces_to`]).
#[derive(Default)]
pub struct CallTraces {
    tracer: OnceLock<BoxedTracer>,
}

impl std::fmt::Debug for CallTraces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallTraces")
            .field("tracing", &self.tracer.get().is_some())
            .finish()
    }
}

/// One vendor call's span (when traced) and the trace context its request carries.
pub struct CallSpan {
    span: Option<opentelemetry::global::BoxedSpan>,
    /// What goes out as `traceparent` / `tracestate`.
    pub context: Option<SpanContext>,
}

impl CallTraces {
    /// Records calls with a tracer of `provider` from now on; `false` if already set.
    pub fn report_to<P>(&self, provider: &P) -> bool
    where
        P: TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        let tracer = provider.tracer("returns-gateway.vendors");
        self.tracer.set(BoxedTracer::new(Box::new(tracer))).is_ok()
    }

    /// Starts the span of a call to `vendor` (`method`, `endpoint`; `host` and `path` of its
    /// URL, never the query, which may hold credentials), child of the request's span.
    pub fn start(
        &self,
        vendor: Vendor,
        endpoint: &'static str,
        method: &str,
        url: &reqwest::Url,
    ) -> CallSpan {
        let Some(parent) = crate::request_id::trace_parent() else {
            return CallSpan {
                span: None,
                context: None,
            };
        };
        let Some(tracer) = self.tracer.get() else {
            return CallSpan {
                span: None,
                context: Some(parent),
            };
        };
        let parent = Context::new().with_remote_span_context(parent);
        let mut attributes = vec![
            KeyValue::new("vendor", vendor.as_str()),
            KeyValue::new("vendor.endpoint", endpoint),
            KeyValue::new("http.request.method", method.to_owned()),
            KeyValue::new("url.path", url.path().to_owned()),
        ];
        if let Some(host) = url.host_str() {
            attributes.push(KeyValue::new("server.address", host.to_owned()));
        }
        if let Some(port) = url.port_or_known_default() {
            attributes.push(KeyValue::new("server.port", i64::from(port)));
        }
        let span = tracer
            .span_builder(Cow::Owned(format!("{method} {vendor} {endpoint}")))
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(tracer, &parent);
        let context = opentelemetry::trace::Span::span_context(&span).clone();
        CallSpan {
            span: Some(span),
            context: Some(context),
        }
    }
}

impl CallSpan {
    /// Ends the span with the call's outcome: the HTTP status, or the error code.
    pub fn end(self, status: Option<u16>, error: Option<&'static str>) {
        use opentelemetry::trace::Span as _;
        let Some(mut span) = self.span else { return };
        if let Some(status) = status {
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
        }
        if let Some(code) = error {
            span.set_attribute(KeyValue::new("error.type", code));
            span.set_status(Status::error(code));
        }
        span.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    #[test]
    fn traceparent_is_version_trace_span_flags() {
        let span = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        assert_eq!(
            traceparent(&span),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
    }
}

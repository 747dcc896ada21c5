//! `GET /metrics`: Prometheus text format (version 0.0.4), written by hand: per vendor and
//! endpoint the calls by outcome and a latency histogram, the cache's hits, misses and size,
//! each breaker's state and refusal latch, and GraphQL operations by name and outcome.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;

use crate::events::ReturnEvents;
use crate::tenants::Tenants;
use crate::upstream::Upstreams;
use vendors::metrics::BUCKETS;
use vendors::model::Vendor;
use vendors::BreakerState;

/// GraphQL operations served, by operation name and outcome (`ok`, `partial`, `error`).
#[derive(Debug, Default)]
pub struct OperationCounters(Mutex<BTreeMap<(String, &'static str), u64>>);

impl OperationCounters {
    pub fn record(&self, name: Option<&str>, response: &async_graphql::Response) {
        // Client-chosen names: bounded so they cannot blow up the label space.
        let name: String = name
            .unwrap_or("anonymous")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        let outcome = match (response.errors.is_empty(), &response.data) {
            (true, _) => "ok",
            (false, async_graphql::Value::Null) => "error",
            (false, _) => "partial",
        };
        *self.0.lock().entry((name, outcome)).or_default() += 1;
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Every tenant's vendor metrics (labelled `tenant`), the GraphQL operations and the open
/// subscriptions.
pub fn render(tenants: &Tenants, operations: &OperationCounters, events: &ReturnEvents) -> String {
    let mut out = String::new();
    let transports: Vec<_> = tenants
        .iter()
        .flat_map(|t| {
            Vendor::ALL
                .into_iter()
                .map(|v| (t.id.as_str(), v, t.service.upstreams().transport(v)))
        })
        .collect();
    out.push_str(
        "# HELP gateway_vendor_requests_total Vendor calls (attempts) by endpoint and outcome.\n",
    );
    out.push_str("# TYPE gateway_vendor_requests_total counter\n");
    for (tenant, vendor, t) in &transports {
        for ((endpoint, outcome), n) in t.metrics().calls() {
            let _ = writeln!(
                out,
                "gateway_vendor_requests_total{{tenant=\"{tenant}\",vendor=\"{vendor}\",endpoint=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(endpoint)
            );
        }
    }
    out.push_str("# HELP gateway_vendor_request_duration_seconds Vendor call latency.\n");
    out.push_str("# TYPE gateway_vendor_request_duration_seconds histogram\n");
    for (tenant, vendor, t) in &transports {
        for (endpoint, h) in t.metrics().latency() {
            let labels = format!(
                "tenant=\"{tenant}\",vendor=\"{vendor}\",endpoint=\"{}\"",
                escape(endpoint)
            );
            for (le, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "gateway_vendor_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "gateway_vendor_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "gateway_vendor_request_duration_seconds_sum{{{labels}}} {}",
                h.sum_seconds
            );
            let _ = writeln!(
                out,
                "gateway_vendor_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
    }
    let per_vendor = |out: &mut String,
                      name: &str,
                      kind: &str,
                      help: &str,
                      value: &dyn Fn(&Upstreams, Vendor) -> f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for tenant in tenants.iter() {
            for vendor in Vendor::ALL {
                let _ = writeln!(
                    out,
                    "{name}{{tenant=\"{}\",vendor=\"{vendor}\"}} {}",
                    tenant.id,
                    value(tenant.service.upstreams(), vendor)
                );
            }
        }
    };
    per_vendor(
        &mut out,
        "gateway_cache_hits_total",
        "counter",
        "Reads served from the cache.",
        &|up, v| up.cache.hits_and_misses(v).0 as f64,
    );
    per_vendor(
        &mut out,
        "gateway_cache_misses_total",
        "counter",
        "Reads that went to the vendor.",
        &|up, v| up.cache.hits_and_misses(v).1 as f64,
    );
    per_vendor(
        &mut out,
        "gateway_cache_entries",
        "gauge",
        "Entries held in the cache.",
        &|up, v| up.cache.entry_count(v) as f64,
    );
    per_vendor(
        &mut out,
        "gateway_breaker_state",
        "gauge",
        "Circuit breaker: 0 closed, 1 half-open, 2 open.",
        &|up, v| match up.breaker_state(v) {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        },
    );
    per_vendor(
        &mut out,
        "gateway_vendor_refusal_latched",
        "gauge",
        "1 while a refusal of our credentials holds every call to the vendor (auth_refusal_cooldown_s).",
        &|up, v| if up.refusal(v).is_some() { 1.0 } else { 0.0 },
    );
    out.push_str(
        "# HELP gateway_graphql_operations_total GraphQL operations by name and outcome.\n",
    );
    out.push_str("# TYPE gateway_graphql_operations_total counter\n");
    for ((name, outcome), n) in operations.0.lock().iter() {
        let _ = writeln!(
            out,
            "gateway_graphql_operations_total{{operation=\"{name}\",outcome=\"{outcome}\"}} {n}"
        );
    }
    out.push_str(
        "# HELP gateway_subscriptions_active Open returnUpdated subscriptions.\n\
         # TYPE gateway_subscriptions_active gauge\n",
    );
    let _ = writeln!(out, "gateway_subscriptions_active {}", events.subscribers());
    out
}

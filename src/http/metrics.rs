//! `GET /metrics`: the Prometheus text format, rendered by metrics-exporter-prometheus from a
//! recorder that each gateway ([`crate::App`]) owns. The facade's process-global recorder is
//! never installed: gateways sharing a process (the tests run many) each show only their own
//! figures.
//!
//! The metrics are those of [`catalog`]. Recorded as they happen: every vendor call (by the
//! tenant's transports, which [`Metrics::watch`] hands the recorder) and every GraphQL
//! operation, every refused webhook. Read from the gateway's state at each scrape: the caches'
//! hits, misses and size, each breaker's state, refusal latch and rate-limit hold, and the open
//! subscriptions.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::events::ReturnEvents;
use crate::index::SyncPhase;
use crate::tenants::Tenants;
pub use vendors::metrics::catalog;
use vendors::metrics::catalog::Metric;
use vendors::model::Vendor;
use vendors::{BreakerState, ErrorCode};

const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

/// How often recorded latencies are folded into their histograms between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// One gateway's metrics: its own recorder, and the handle that renders it.
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    /// The operation names that label series (see [`catalog::MAX_OPERATION_NAMES`]).
    operation_names: parking_lot::Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut builder = PrometheusBuilder::new();
        for histogram in [
            catalog::VENDOR_REQUEST_DURATION,
            catalog::GRAPHQL_OPERATION_DURATION,
        ] {
            builder = builder
                .set_buckets_for_metric(
                    Matcher::Full(histogram.name.to_owned()),
                    &catalog::LATENCY_BUCKETS,
                )
                .expect("the catalog's latency buckets are not empty");
        }
        let recorder = builder.build_recorder();
        catalog::describe(&recorder);
        let handle = recorder.handle();
        Metrics {
            recorder: Arc::new(recorder),
            handle,
            operation_names: Default::default(),
        }
    }

    fn counter(&self, metric: &Metric, labels: &[&str]) -> Counter {
        self.recorder
            .register_counter(&metric.key(labels), &METADATA)
    }

    fn gauge(&self, metric: &Metric, labels: &[&str]) -> Gauge {
        self.recorder.register_gauge(&metric.key(labels), &METADATA)
    }

    /// Has every tenant's vendor transports record their calls here.
    pub fn watch(&self, tenants: &Tenants) {
        for tenant in tenants.iter() {
            for vendor in Vendor::ALL {
                tenant
                    .service
                    .upstreams()
                    .transport(vendor)
                    .report_metrics_to(self.recorder.clone(), &tenant.id);
            }
        }
    }

    /// The label of operation `name`: itself (its letters, digits and `_`, at most 64) while it
    /// is among the first [`catalog::MAX_OPERATION_NAMES`] names seen, `other` beyond, and
    /// `anonymous` without one. Client-chosen names cannot blow up the label space.
    fn operation_label(&self, name: Option<&str>) -> String {
        let name: String = name
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        if name.is_empty() {
            return catalog::ANONYMOUS_OPERATION.to_owned();
        }
        let mut seen = self.operation_names.lock();
        if seen.contains(&name) || seen.len() < catalog::MAX_OPERATION_NAMES {
            seen.insert(name.clone());
            name
        } else {
            catalog::OTHER_OPERATIONS.to_owned()
        }
    }

    /// Counts a GraphQL operation served, by its name and outcome (`ok`, `partial`, `error`),
    /// and times it.
    pub fn record_operation(
        &self,
        name: Option<&str>,
        response: &async_graphql::Response,
        took: Duration,
    ) {
        let name = self.operation_label(name);
        self.recorder
            .register_histogram(
                &catalog::GRAPHQL_OPERATION_DURATION.key(&[&name]),
                &METADATA,
            )
            .record(took.as_secs_f64());
        let outcome = match (response.errors.is_empty(), &response.data) {
            (true, _) => "ok",
            (false, async_graphql::Value::Null) => "error",
            (false, _) => "partial",
        };
        self.counter(&catalog::GRAPHQL_OPERATIONS, &[&name, outcome])
            .increment(1);
    }

    /// Counts a webhook delivery refused with `code`.
    pub fn record_webhook_refusal(&self, code: ErrorCode) {
        self.counter(&catalog::WEBHOOK_REFUSALS, &[code.as_str()])
            .increment(1);
    }

    /// Every tenant's vendor metrics (labelled `tenant`), the GraphQL operations, the open
    /// subscriptions and the process's figures, as Prometheus text.
    pub fn render(&self, tenants: &Tenants, events: &ReturnEvents) -> String {
        for tenant in tenants.iter() {
            let up = tenant.service.upstreams();
            for vendor in Vendor::ALL {
                let labels = [tenant.id.as_str(), vendor.as_str()];
                let (hits, misses) = up.cache.hits_and_misses(vendor);
                self.counter(&catalog::CACHE_HITS, &labels).absolute(hits);
                self.counter(&catalog::CACHE_MISSES, &labels)
                    .absolute(misses);
                self.gauge(&catalog::CACHE_ENTRIES, &labels)
                    .set(up.cache.entry_count(vendor) as f64);
                let breaker = match up.breaker_state(vendor) {
                    BreakerState::Closed => 0.0,
                    BreakerState::HalfOpen => 1.0,
                    BreakerState::Open => 2.0,
                };
                self.gauge(&catalog::BREAKER_STATE, &labels).set(breaker);
                let latched = if up.refusal(vendor).is_some() {
                    1.0
                } else {
                    0.0
                };
                self.gauge(&catalog::REFUSAL_LATCHED, &labels).set(latched);
                let held_s = up
                    .rate_limit_hold(vendor)
                    .map_or(0.0, |hold| hold.remaining().as_secs_f64());
                self.gauge(&catalog::RATE_LIMIT_HOLD, &labels).set(held_s);

                let sync = tenant.service.index().sync_board().get(vendor);
                let state = match sync.phase {
                    SyncPhase::Waiting => 0.0,
                    SyncPhase::Backfilling => 1.0,
                    SyncPhase::Ready => 2.0,
                };
                self.gauge(&catalog::SYNC_STATE, &labels).set(state);
                self.gauge(&catalog::SYNC_PROGRESS, &labels)
                    .set(sync.progress);
                if let Some(lag) = sync.lag_seconds(tenant.service.now()) {
                    self.gauge(&catalog::SYNC_LAG, &labels).set(lag);
                }
                let failing = if sync.last_error.is_some() { 1.0 } else { 0.0 };
                self.gauge(&catalog::SYNC_FAILING, &labels).set(failing);
                self.counter(&catalog::SYNC_ROWS, &labels)
                    .absolute(sync.rows);
            }
        }
        self.gauge(&catalog::SUBSCRIPTIONS_ACTIVE, &[])
            .set(events.subscribers() as f64);
        let mut text = self.handle.render();
        text.push_str(&super::process::render());
        text
    }

    /// Folds the latencies recorded since the last scrape into their histograms, every few
    /// seconds, forever: without it a gateway nobody scrapes keeps every sample. (The exporter
    /// runs this itself only for the global recorder it installs, which we do not use.)
    pub async fn upkeep(&self) -> std::convert::Infallible {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.handle.run_upkeep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> async_graphql::Response {
        async_graphql::Response::new(async_graphql::Value::Null)
    }

    #[test]
    fn each_gateway_renders_only_what_it_recorded() {
        let (one, other) = (Metrics::new(), Metrics::new());
        let took = Duration::from_millis(30);
        one.record_operation(Some("Dashboard"), &ok(), took);
        one.record_operation(Some("Dash board\n"), &ok(), took);
        other.record_operation(None, &ok(), took);
        let one = one.handle.render();
        assert!(
            one.contains(
                "\ngateway_graphql_operations_total{operation=\"Dashboard\",outcome=\"ok\"} 2\n"
            ),
            "{one}"
        );
        assert!(one.contains(
            "# HELP gateway_graphql_operations_total GraphQL operations by name and outcome.\n"
        ));
        assert!(!one.contains("anonymous"), "{one}");
        let other = other.handle.render();
        assert!(
            other.contains("{operation=\"anonymous\",outcome=\"ok\"} 1\n"),
            "{other}"
        );
        assert!(!other.contains("Dashboard"), "{other}");
    }

    #[test]
    fn operations_are_timed_under_a_bounded_set_of_names() {
        let metrics = Metrics::new();
        let took = Duration::from_millis(30);
        for i in 0..catalog::MAX_OPERATION_NAMES + 5 {
            metrics.record_operation(Some(&format!("Op{i}")), &ok(), took);
        }
        metrics.record_operation(Some("Op0"), &ok(), took);
        metrics.record_operation(None, &ok(), Duration::from_millis(700));
        let text = metrics.handle.render();
        let name = catalog::GRAPHQL_OPERATION_DURATION.name;
        for line in [
            format!("{name}_bucket{{operation=\"Op0\",le=\"0.025\"}} 0"),
            format!("{name}_bucket{{operation=\"Op0\",le=\"0.05\"}} 2"),
            format!("{name}_count{{operation=\"Op0\"}} 2"),
            format!("{name}_count{{operation=\"Op49\"}} 1"),
            format!("{name}_count{{operation=\"other\"}} 5"),
            format!("{name}_bucket{{operation=\"anonymous\",le=\"0.5\"}} 0"),
            format!("{name}_bucket{{operation=\"anonymous\",le=\"1\"}} 1"),
            "gateway_graphql_operations_total{operation=\"other\",outcome=\"ok\"} 5".to_owned(),
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} in:\n{text}");
        }
        assert!(!text.contains("Op50"), "beyond the bound: {text}");
    }

    #[test]
    fn vendor_calls_are_counted_and_timed_in_the_catalogs_buckets() {
        let metrics = Metrics::new();
        let calls = vendors::metrics::CallMetrics::new(Vendor::Rrr);
        calls.record("returns", "ok", Duration::from_millis(1)); // before: not recorded
        assert!(calls.report_to(metrics.recorder.clone(), "acme"));
        calls.record("returns", "ok", Duration::from_millis(30));
        calls.record("returns", "VENDOR_TIMEOUT", Duration::from_millis(700));
        let text = metrics.handle.render();
        let labels = r#"tenant="acme",vendor="rrr",endpoint="returns""#;
        for line in [
            format!("gateway_vendor_requests_total{{{labels},outcome=\"ok\"}} 1"),
            format!("gateway_vendor_requests_total{{{labels},outcome=\"VENDOR_TIMEOUT\"}} 1"),
            format!("gateway_vendor_request_duration_seconds_bucket{{{labels},le=\"0.025\"}} 0"),
            format!("gateway_vendor_request_duration_seconds_bucket{{{labels},le=\"0.05\"}} 1"),
            format!("gateway_vendor_request_duration_seconds_bucket{{{labels},le=\"1\"}} 2"),
            format!("gateway_vendor_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 2"),
            format!("gateway_vendor_request_duration_seconds_count{{{labels}}} 2"),
            "# TYPE gateway_vendor_request_duration_seconds histogram".to_owned(),
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} in:\n{text}");
        }
    }
}

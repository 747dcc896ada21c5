//! Per-vendor call metrics, recorded by the shared transport for every attempt: counts by
//! endpoint and outcome (`ok` or the error code) and a latency histogram per endpoint.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds (Prometheus `le`).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
pub struct Histogram {
    /// Cumulative counts per bucket of [`BUCKETS`].
    pub buckets: [u64; BUCKETS.len()],
    pub count: u64,
    pub sum_seconds: f64,
}

#[derive(Debug, Default)]
pub struct CallMetrics {
    calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
}

impl CallMetrics {
    pub fn record(&self, endpoint: &'static str, outcome: &'static str, took: Duration) {
        *self.calls.lock().entry((endpoint, outcome)).or_default() += 1;
        let seconds = took.as_secs_f64();
        let mut latency = self.latency.lock();
        let h = latency.entry(endpoint).or_default();
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum_seconds += seconds;
    }

    /// `(endpoint, outcome) → calls`.
    pub fn calls(&self) -> BTreeMap<(&'static str, &'static str), u64> {
        self.calls.lock().clone()
    }

    pub fn latency(&self) -> BTreeMap<&'static str, Histogram> {
        self.latency.lock().clone()
    }
}

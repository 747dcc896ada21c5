//! Metrics, through the `metrics` facade: [`catalog`] names every metric the gateway reports,
//! and [`CallMetrics`] records a transport's calls (counts by endpoint and outcome, `ok` or the
//! error code; latency per endpoint) into the recorder the gateway hands it.
//!
//! Nothing here uses the facade's process-global recorder: several gateways may share a
//! process (the tests run many at once), and each shows only its own figures.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics::{Level, Metadata, Recorder};

use crate::model::Vendor;

/// The one list of the metrics the gateway reports: names, kinds, help texts, label names and
/// histogram buckets. The vendor transports record some, the gateway the rest; both name them
/// only through here (this crate is the lowest one both see).
pub mod catalog {
    use metrics::{Key, KeyName, Label, Recorder, SharedString};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        Counter,
        Gauge,
        Histogram,
    }

    /// One metric: its name, kind, `# HELP` text and label names, in the order they are shown.
    #[derive(Debug, Clone, Copy)]
    pub struct Metric {
        pub name: &'static str,
        pub kind: Kind,
        pub help: &'static str,
        pub labels: &'static [&'static str],
    }

    impl Metric {
        /// The series with these label `values`, one for each of [`Metric::labels`], in order.
        pub fn key(&self, values: &[&str]) -> Key {
            debug_assert_eq!(values.len(), self.labels.len(), "labels of {}", self.name);
            let labels: Vec<Label> = self
                .labels
                .iter()
                .zip(values)
                .map(|(name, value)| Label::new(*name, (*value).to_owned()))
                .collect();
            Key::from_parts(self.name, labels)
        }
    }

    pub const VENDOR_REQUESTS: Metric = Metric {
        name: "gateway_vendor_requests_total",
        kind: Kind::Counter,
        help: "Vendor calls (attempts) by endpoint and outcome.",
        labels: &["tenant", "vendor", "endpoint", "outcome"],
    };
    pub const VENDOR_REQUEST_DURATION: Metric = Metric {
        name: "gateway_vendor_request_duration_seconds",
        kind: Kind::Histogram,
        help: "Vendor call latency.",
        labels: &["tenant", "vendor", "endpoint"],
    };
    pub const CACHE_HITS: Metric = Metric {
        name: "gateway_cache_hits_total",
        kind: Kind::Counter,
        help: "Reads served from the cache.",
        labels: &["tenant", "vendor"],
    };
    pub const CACHE_MISSES: Metric = Metric {
        name: "gateway_cache_misses_total",
        kind: Kind::Counter,
        help: "Reads that went to the vendor.",
        labels: &["tenant", "vendor"],
    };
    pub const CACHE_ENTRIES: Metric = Metric {
        name: "gateway_cache_entries",
        kind: Kind::Gauge,
        help: "Entries held in the cache.",
        labels: &["tenant", "vendor"],
    };
    pub const BREAKER_STATE: Metric = Metric {
        name: "gateway_breaker_state",
        kind: Kind::Gauge,
        help: "Circuit breaker: 0 closed, 1 half-open, 2 open.",
        labels: &["tenant", "vendor"],
    };
    pub const REFUSAL_LATCHED: Metric = Metric {
        name: "gateway_vendor_refusal_latched",
        kind: Kind::Gauge,
        help: "1 while a refusal of our credentials holds every call to the vendor (auth_refusal_cooldown_s).",
        labels: &["tenant", "vendor"],
    };
    pub const RATE_LIMIT_HOLD: Metric = Metric {
        name: "gateway_vendor_rate_limit_hold_seconds",
        kind: Kind::Gauge,
        help: "Seconds until calls to the vendor go out again after it answered 429 (Retry-After, or rate_limited_hold_ms); 0 when not held.",
        labels: &["tenant", "vendor"],
    };
    pub const GRAPHQL_OPERATIONS: Metric = Metric {
        name: "gateway_graphql_operations_total",
        kind: Kind::Counter,
        help: "GraphQL operations by name and outcome.",
        labels: &["operation", "outcome"],
    };
    pub const GRAPHQL_OPERATION_DURATION: Metric = Metric {
        name: "gateway_graphql_operation_duration_seconds",
        kind: Kind::Histogram,
        help: "GraphQL operation latency (queries and mutations; a subscription lasts as long as its subscriber), by name.",
        labels: &["operation"],
    };
    pub const WEBHOOK_REFUSALS: Metric = Metric {
        name: "gateway_webhook_refusals_total",
        kind: Kind::Counter,
        help: "Webhook deliveries refused, by the refusal's code (their log lines are sampled).",
        labels: &["reason"],
    };
    pub const SUBSCRIPTIONS_ACTIVE: Metric = Metric {
        name: "gateway_subscriptions_active",
        kind: Kind::Gauge,
        help: "Open returnUpdated subscriptions.",
        labels: &[],
    };

    pub const SYNC_STATE: Metric = Metric {
        name: "gateway_sync_state",
        kind: Kind::Gauge,
        help: "The returns index's sync of the vendor: 0 waiting, 1 backfilling, 2 ready.",
        labels: &["tenant", "vendor"],
    };
    pub const SYNC_PROGRESS: Metric = Metric {
        name: "gateway_sync_backfill_progress",
        kind: Kind::Gauge,
        help: "Share of the vendor's backfill done, 0 to 1.",
        labels: &["tenant", "vendor"],
    };
    pub const SYNC_LAG: Metric = Metric {
        name: "gateway_sync_lag_seconds",
        kind: Kind::Gauge,
        help: "How far the returns index is behind the vendor (now less the time it holds the vendor's data at); absent before the first sync.",
        labels: &["tenant", "vendor"],
    };
    pub const SYNC_FAILING: Metric = Metric {
        name: "gateway_sync_failing",
        kind: Kind::Gauge,
        help:
            "1 while the vendor's last sync attempt failed (the index keeps serving what it holds).",
        labels: &["tenant", "vendor"],
    };
    pub const SYNC_ROWS: Metric = Metric {
        name: "gateway_sync_rows_total",
        kind: Kind::Counter,
        help: "Rows the sync wrote into the returns index from the vendor (since the index was created).",
        labels: &["tenant", "vendor"],
    };

    pub const ALL: [Metric; 17] = [
        VENDOR_REQUESTS,
        VENDOR_REQUEST_DURATION,
        CACHE_HITS,
        CACHE_MISSES,
        CACHE_ENTRIES,
        BREAKER_STATE,
        REFUSAL_LATCHED,
        RATE_LIMIT_HOLD,
        GRAPHQL_OPERATIONS,
        GRAPHQL_OPERATION_DURATION,
        WEBHOOK_REFUSALS,
        SUBSCRIPTIONS_ACTIVE,
        SYNC_STATE,
        SYNC_PROGRESS,
        SYNC_LAG,
        SYNC_FAILING,
        SYNC_ROWS,
    ];

    /// How many distinct operation names label [`GRAPHQL_OPERATIONS`] and
    /// [`GRAPHQL_OPERATION_DURATION`]: the first so many names seen, then `other`. Names are
    /// the client's to choose; a client's few dozen operations fit, and the histogram's series
    /// stay under a thousand (50 names × 14 series), whatever anyone sends.
    pub const MAX_OPERATION_NAMES: usize = 50;
    /// The label of operations without a name.
    pub const ANONYMOUS_OPERATION: &str = "anonymous";
    /// The label of named operations beyond [`MAX_OPERATION_NAMES`].
    pub const OTHER_OPERATIONS: &str = "other";

    /// The process's own figures, as Prometheus client libraries name them, read from `/proc`
    /// at each scrape (Linux only). Written as text, not through the facade: CPU seconds are
    /// fractional, which the facade's counters are not.
    pub const PROCESS: [Metric; 6] = [
        Metric {
            name: "process_cpu_seconds_total",
            kind: Kind::Counter,
            help: "Total user and system CPU time spent in seconds.",
            labels: &[],
        },
        Metric {
            name: "process_resident_memory_bytes",
            kind: Kind::Gauge,
            help: "Resident memory size in bytes.",
            labels: &[],
        },
        Metric {
            name: "process_virtual_memory_bytes",
            kind: Kind::Gauge,
            help: "Virtual memory size in bytes.",
            labels: &[],
        },
        Metric {
            name: "process_open_fds",
            kind: Kind::Gauge,
            help: "Number of open file descriptors.",
            labels: &[],
        },
        Metric {
            name: "process_max_fds",
            kind: Kind::Gauge,
            help: "Maximum number of open file descriptors.",
            labels: &[],
        },
        Metric {
            name: "process_start_time_seconds",
            kind: Kind::Gauge,
            help: "Start time of the process since unix epoch in seconds.",
            labels: &[],
        },
    ];

    /// Upper bounds of [`VENDOR_REQUEST_DURATION`]'s and [`GRAPHQL_OPERATION_DURATION`]'s
    /// buckets, in seconds (Prometheus `le`).
    pub const LATENCY_BUCKETS: [f64; 11] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];

    /// Gives `recorder` every metric's help text.
    pub fn describe(recorder: &dyn Recorder) {
        for metric in ALL {
            let name = KeyName::from_const_str(metric.name);
            let help = SharedString::const_str(metric.help);
            match metric.kind {
                Kind::Counter => recorder.describe_counter(name, None, help),
                Kind::Gauge => recorder.describe_gauge(name, None, help),
                Kind::Histogram => recorder.describe_histogram(name, None, help),
            }
        }
    }
}

/// Where a transport's calls are recorded.
struct Sink {
    recorder: Arc<dyn Recorder + Send + Sync>,
    tenant: String,
}

/// Where the metrics recorded here come from (the facade's `Metadata`).
const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

/// A transport's call metrics: [`catalog::VENDOR_REQUESTS`] and
/// [`catalog::VENDOR_REQUEST_DURATION`], recorded once [`CallMetrics::report_to`] has named the
/// recorder (calls before that are not recorded).
pub struct CallMetrics {
    vendor: Vendor,
    sink: OnceLock<Sink>,
}

impl fmt::Debug for CallMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallMetrics")
            .field("vendor", &self.vendor)
            .field("tenant", &self.sink.get().map(|s| &s.tenant))
            .finish_non_exhaustive()
    }
}

impl CallMetrics {
    pub fn new(vendor: Vendor) -> Self {
        CallMetrics {
            vendor,
            sink: OnceLock::new(),
        }
    }

    /// Records every call from now on into `recorder`, labelled with `tenant`. Only the first
    /// recorder named counts; `false` if one was named before.
    pub fn report_to(&self, recorder: Arc<dyn Recorder + Send + Sync>, tenant: &str) -> bool {
        self.sink
            .set(Sink {
                recorder,
                tenant: tenant.to_owned(),
            })
            .is_ok()
    }

    /// One attempt at `endpoint`, its outcome and how long it took.
    pub fn record(&self, endpoint: &'static str, outcome: &'static str, took: Duration) {
        let Some(sink) = self.sink.get() else {
            return;
        };
        let (tenant, vendor) = (sink.tenant.as_str(), self.vendor.as_str());
        let calls = catalog::VENDOR_REQUESTS.key(&[tenant, vendor, endpoint, outcome]);
        sink.recorder
            .register_counter(&calls, &METADATA)
            .increment(1);
        let latency = catalog::VENDOR_REQUEST_DURATION.key(&[tenant, vendor, endpoint]);
        sink.recorder
            .register_histogram(&latency, &METADATA)
            .record(took.as_secs_f64());
    }
}

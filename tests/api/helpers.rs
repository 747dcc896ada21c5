//! Spawns the simulators in-process on free ports and gives tests what they need to talk to them.

use returns_gateway::config::Settings;
use simulators::{start_all, Faults, SimHandle, Simulators};
use tokio::sync::oneshot;

/// The five simulators, running until this is dropped, and demo settings pointed at them.
pub struct TestSims {
    pub sims: Simulators,
    pub settings: Settings,
    _stop: oneshot::Sender<()>,
}

/// The simulated present of every test world, unless a test picks its own (`sim.now`): a fixed
/// date, so no answer depends on the day the tests run.
pub const NOW: &str = "2026-06-15T09:30:00Z";

/// Starts the simulators with the demo settings at [`NOW`], `customize`d, on free ports.
pub async fn start_with(customize: impl FnOnce(&mut Settings)) -> TestSims {
    let mut settings = Settings::demo();
    settings.sim.now = NOW.into();
    customize(&mut settings);
    let (stop, stopped) = oneshot::channel::<()>();
    let sims = start_all(&settings.sim, true, async move {
        let _ = stopped.await;
    })
    .await
    .expect("simulators start");
    sims.wire_into(&mut settings.vendors);
    TestSims {
        sims,
        settings,
        _stop: stop,
    }
}

/// Starts the simulators with the demo settings; a smaller world keeps tests quick.
pub async fn start() -> TestSims {
    start_with(|s| s.sim.returns = 120).await
}

/// Starts the simulators at `now` (RFC 3339) instead of [`NOW`].
pub async fn start_at(now: &str) -> TestSims {
    start_with(|s| {
        s.sim.returns = 120;
        s.sim.now = now.into();
    })
    .await
}

impl TestSims {
    /// The simulated present the world was generated at (`sim.now` to the minute; the
    /// simulators' clock runs on from it), moved by `offset`.
    pub fn now_plus(&self, offset: chrono::Duration) -> chrono::DateTime<chrono::FixedOffset> {
        self.sims.world.now + offset
    }

    pub fn set_faults(&self, sim: &SimHandle, faults: Faults) {
        sim.control.set_faults(faults);
    }
}

/// A sample body from the vendor docs, as copied into `crates/vendors/fixtures/<vendor>/`.
pub fn fixture(path: &str) -> String {
    let full = format!(
        "{}/crates/vendors/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// A base URL nothing listens on: port 1 (tcpmux) is privileged and unused, and the tests only
/// ever bind ephemeral ports. (A port bound and released again raced with the servers other
/// tests start on port 0: one of them could take it and answer 404.)
pub fn refused_url() -> String {
    "http://127.0.0.1:1".to_owned()
}

/// Faults that make a simulator hang, for timeout tests.
pub fn hang() -> Faults {
    Faults {
        hang: true,
        ..Faults::default()
    }
}

pub fn malformed() -> Faults {
    Faults {
        malformed: true,
        ..Faults::default()
    }
}

pub fn rate_limited(retry_after_s: u64) -> Faults {
    Faults {
        rate_limit_retry_after_s: retry_after_s,
        ..Faults::default()
    }
}

/// The gateway, served in-process on a free port against `sims`, until dropped.
pub struct TestGateway {
    pub url: String,
    pub http: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

/// Starts the gateway with `sims.settings`, `customize`d (e.g. a vendor's base URL or
/// timeout), on 127.0.0.1:0, on the simulators' clock.
pub async fn gateway_with(sims: &TestSims, customize: impl FnOnce(&mut Settings)) -> TestGateway {
    let mut settings = sims.settings.clone();
    customize(&mut settings);
    let app =
        returns_gateway::App::with_clock(&settings, sims.sims.world.clock).expect("gateway builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(listener, async move {
        let _ = stopped.await;
    }));
    TestGateway {
        url,
        http: reqwest::Client::new(),
        _stop: stop,
    }
}

pub async fn gateway(sims: &TestSims) -> TestGateway {
    gateway_with(sims, |_| {}).await
}

impl TestGateway {
    /// POSTs a GraphQL query and returns the whole JSON answer (`data` and `errors`).
    pub async fn query(&self, query: &str) -> serde_json::Value {
        self.query_with(query, serde_json::json!({})).await
    }

    pub async fn query_with(&self, query: &str, variables: serde_json::Value) -> serde_json::Value {
        let response = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("gateway answers");
        assert_eq!(response.status(), 200, "GraphQL answers with HTTP 200");
        response.json().await.expect("a JSON answer")
    }
}

impl TestSims {
    /// Requests per endpoint at every simulator, `"vendor METHOD /route" → count`.
    pub fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.sims
            .all()
            .iter()
            .flat_map(|sim| {
                sim.control
                    .stats()
                    .into_iter()
                    .map(move |(route, n)| (format!("{} {route}", sim.vendor), n))
            })
            .collect()
    }

    pub fn reset_calls(&self) {
        for sim in self.sims.all() {
            sim.control.reset_stats();
        }
    }
}

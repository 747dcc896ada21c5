//! The test kit: the five simulators and the gateway started in-process on free ports, a
//! GraphQL client, simulator call counts and fault knobs, and signed tokens. Shared by the
//! integration tests (`tests/api`, through `helpers.rs`) and the benchmark harness
//! (`benches/gateway.rs`).
//!
//! Compiled only with the `testkit` feature, which the package turns on for its own tests and
//! benches (a dev-dependency on itself): neither the product (`--no-default-features`) nor the
//! demo build (`default`) contains it.
//!
//! ```
//! # use returns_gateway::testkit::{TestGateway, TestSims};
//! # #[tokio::main] async fn main() {
//! let t = TestSims::builder().returns(120).start().await; // at NOW, as `start()`
//! let g = TestGateway::builder(&t).start().await;
//! let answer = g.query("{ vendors { vendor } }").await;
//! assert_eq!(answer["data"]["vendors"].as_array().map(Vec::len), Some(5));
//! assert_eq!(t.calls().values().sum::<u64>(), 0, "health comes from memory");
//! # }
//! ```

use std::collections::BTreeMap;

use serde_json::{json, Value};
use simulators::{start_all, Faults, SimHandle, Simulators};
use tokio::sync::oneshot;
use vendors::model::Vendor;

use crate::config::Settings;

/// The simulated present of every test world, unless a test picks its own (`sim.now`): a fixed
/// date, so no answer depends on the day the tests run.
pub const NOW: &str = "2026-06-15T09:30:00Z";

/// The world most tests run on: small enough to keep them quick.
pub const SMALL_WORLD: usize = 120;

/// The dashboard query (returns with customer, order and tracking): the tests' snapshot and
/// N+1 checks and the benchmarks' (a), (c) and (d) all send it.
pub const DASHBOARD: &str = r#"query Dashboard($first: Int!, $after: String) {
  returns(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id vendor vendorId status statusRaw trackingStatus createdAt refused reasons
      total { amount currency }
      customer { id name email phone }
      order { id reference paymentStatus shippingStatus total { amount currency } }
      tracking { trackingNumber status sources events { vendor at status statusRaw } }
    } }
  }
}"#;

// ---- Simulators ---------------------------------------------------------------------------------

/// The five simulators, running until this is dropped, and demo settings pointed at them.
pub struct TestSims {
    pub sims: Simulators,
    pub settings: Settings,
    _stop: oneshot::Sender<()>,
}

/// How to start [`TestSims`]: the demo settings (its world: seed 42, 540 returns) at [`NOW`],
/// changed by the builder's calls in order.
pub struct TestSimsBuilder {
    settings: Settings,
}

impl TestSimsBuilder {
    /// Returns to generate across the three vendors that hold returns (`sim.returns`).
    pub fn returns(mut self, returns: usize) -> Self {
        self.settings.sim.returns = returns;
        self
    }

    /// Seed of the world (`sim.seed`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.settings.sim.seed = seed;
        self
    }

    /// The simulated present, RFC 3339 (`sim.now`), instead of [`NOW`].
    pub fn now(mut self, rfc3339: &str) -> Self {
        self.settings.sim.now = rfc3339.into();
        self
    }

    /// The system clock (`sim.now` empty): the world lies before today, for a gateway that runs
    /// on the system clock in another process (the benchmarks).
    pub fn system_clock(self) -> Self {
        self.now("")
    }

    /// Any other change to the settings, simulators' (`sim`) and gateway's alike.
    pub fn with(mut self, customize: impl FnOnce(&mut Settings)) -> Self {
        customize(&mut self.settings);
        self
    }

    /// Starts the simulators on free ports and points the settings' vendors at them.
    pub async fn start(self) -> TestSims {
        let mut settings = self.settings;
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
}

impl TestSims {
    pub fn builder() -> TestSimsBuilder {
        let mut settings = Settings::demo();
        settings.sim.now = NOW.into();
        TestSimsBuilder { settings }
    }

    /// The simulated present the world was generated at (`sim.now` to the minute; the
    /// simulators' clock runs on from it), moved by `offset`.
    pub fn now_plus(&self, offset: chrono::Duration) -> chrono::DateTime<chrono::FixedOffset> {
        self.sims.world.now + offset
    }

    /// The simulator of `vendor`.
    pub fn sim(&self, vendor: Vendor) -> &SimHandle {
        self.sims
            .all()
            .into_iter()
            .find(|s| s.vendor == vendor)
            .expect("a simulator per vendor")
    }

    pub fn set_faults(&self, sim: &SimHandle, faults: Faults) {
        sim.control.set_faults(faults);
    }

    /// The same faults at every simulator (`Faults::default()` clears them).
    pub fn set_all_faults(&self, faults: Faults) {
        for sim in self.sims.all() {
            sim.control.set_faults(faults.clone());
        }
    }

    /// Requests per endpoint at every simulator, `"vendor METHOD /route" → count` (the
    /// simulators' own `/__sim` endpoints are not counted).
    pub fn calls(&self) -> BTreeMap<String, u64> {
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

    /// Every request the simulators received since start or the last reset, with the
    /// `traceparent` header it carried, by vendor.
    pub fn traceparents(&self) -> Vec<(Vendor, simulators::Received)> {
        self.sims
            .all()
            .iter()
            .flat_map(|sim| {
                sim.control
                    .traceparents()
                    .into_iter()
                    .map(move |received| (sim.vendor, received))
            })
            .collect()
    }

    /// Moves every simulator's clock on by `by`, for the vendor rules bound to time (TrackRU's
    /// realtime interval).
    pub fn skip_ahead(&self, by: chrono::Duration) {
        for sim in self.sims.all() {
            sim.control.skip_ahead(by);
        }
    }

    pub fn reset_calls(&self) {
        for sim in self.sims.all() {
            sim.control.reset_stats();
        }
    }
}

/// Starts the simulators with the demo settings at [`NOW`], `customize`d, on free ports.
pub async fn start_with(customize: impl FnOnce(&mut Settings)) -> TestSims {
    TestSims::builder().with(customize).start().await
}

/// Starts the simulators with the demo settings on a [`SMALL_WORLD`] at [`NOW`].
pub async fn start() -> TestSims {
    TestSims::builder().returns(SMALL_WORLD).start().await
}

/// Starts the simulators on a [`SMALL_WORLD`] at `now` (RFC 3339) instead of [`NOW`].
pub async fn start_at(now: &str) -> TestSims {
    TestSims::builder()
        .returns(SMALL_WORLD)
        .now(now)
        .start()
        .await
}

// ---- Faults -----------------------------------------------------------------------------------

/// Every answer `ms` late.
pub fn latency(ms: u64) -> Faults {
    Faults {
        latency_ms: ms,
        ..Faults::default()
    }
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

/// A base URL nothing listens on: port 1 (tcpmux) is privileged and unused, and the tests only
/// ever bind ephemeral ports. (A port bound and released again raced with the servers other
/// tests start on port 0: one of them could take it and answer 404.)
pub fn refused_url() -> String {
    "http://127.0.0.1:1".to_owned()
}

// ---- The gateway ----------------------------------------------------------------------------

/// A directory of its own under the system's temporary directory, removed (with what it
/// holds) when dropped: where a test gateway keeps a returns index that outlives it.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "returns-gateway-test-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A gateway's GraphQL endpoint and a client for it; when started here, the gateway serves
/// in-process until this is dropped (or [`TestGateway::shutdown`]), and `sync` runs its
/// index's sync by hand.
pub struct TestGateway {
    pub url: String,
    /// The admin listener's origin (`http://127.0.0.1:<port>`) when `server.admin_listen` is
    /// set (the test kit binds it on a free port).
    pub admin: Option<String>,
    pub http: reqwest::Client,
    pub sync: Option<crate::http::SyncControl>,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// How to start a [`TestGateway`]: the simulators' settings, changed by the builder's calls.
pub struct TestGatewayBuilder<'a> {
    sims: &'a TestSims,
    settings: Settings,
    data_dir: Option<std::path::PathBuf>,
    synced: bool,
    graphiql: crate::http::graphiql::GraphiqlPage,
    /// Moves the gateway's clock on from the simulators' (a gateway started later).
    clock_offset: chrono::Duration,
}

impl TestGatewayBuilder<'_> {
    /// Changes the gateway's settings (e.g. a vendor's base URL or timeout).
    pub fn with(mut self, customize: impl FnOnce(&mut Settings)) -> Self {
        customize(&mut self.settings);
        self
    }

    /// Keeps the index in `dir` (a gateway started again on it resumes), instead of in
    /// memory.
    pub fn data_dir(mut self, dir: &TempDir) -> Self {
        self.data_dir = Some(dir.path().to_owned());
        self
    }

    /// GraphiQL opens with `page`'s tabs and token (as the demo's does).
    pub fn graphiql(mut self, page: crate::http::graphiql::GraphiqlPage) -> Self {
        self.graphiql = page;
        self
    }

    /// Runs the gateway's clock `by` ahead of the simulators' (as a gateway started that much
    /// later would read it); pair with [`TestSims::skip_ahead`] for the vendors' clocks.
    pub fn clock_ahead(mut self, by: chrono::Duration) -> Self {
        self.clock_offset = by;
        self
    }

    /// Starts without syncing first: the index holds only what an earlier gateway on the
    /// same `data_dir` left.
    pub fn unsynced(mut self) -> Self {
        self.synced = false;
        self
    }

    /// Serves the gateway on 127.0.0.1:0 (and its admin listener, when `server.admin_listen`
    /// is set, on another free port), on the simulators' clock. Its index is synced once first
    /// (every vendor's backfill, as a gateway does in the background), and the simulators'
    /// call counts start again after it, unless [`Self::unsynced`]; after that it syncs only
    /// when a test asks ([`TestGateway::sync`]), so the vendor calls a test counts are its own.
    pub async fn start(mut self) -> TestGateway {
        // In memory (the demo settings') unless a test keeps it in a directory.
        if let Some(dir) = &self.data_dir {
            self.settings.index.data_dir = dir.display().to_string();
        }
        self.settings.sync.enabled = false;
        let clock = self.sims.sims.world.clock.shifted(self.clock_offset);
        let app = crate::App::with_clock(&self.settings, clock)
            .await
            .expect("gateway builds")
            .with_graphiql(self.graphiql);
        let sync = app.sync();
        if self.synced {
            // A vendor a test made fail is settled by its failure, as in the background.
            let _ = sync.tick_all().await;
            // The backfill's calls are not the test's: counting starts here.
            self.sims.reset_calls();
        }
        let free_port = || tokio::net::TcpListener::bind("127.0.0.1:0");
        let listener = free_port().await.expect("bind");
        let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
        let admin = if self.settings.server.admin_listen.is_empty() {
            None
        } else {
            Some(free_port().await.expect("bind"))
        };
        let admin_origin = admin
            .as_ref()
            .map(|a| format!("http://{}", a.local_addr().expect("addr")));
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(app.run_with_admin(listener, admin, async move {
            let _ = stopped.await;
        }));
        TestGateway {
            admin: admin_origin,
            sync: Some(sync),
            stop: Some(stop),
            served: Some(served),
            ..TestGateway::at(url)
        }
    }
}

impl TestGateway {
    pub fn builder(sims: &TestSims) -> TestGatewayBuilder<'_> {
        TestGatewayBuilder {
            sims,
            settings: sims.settings.clone(),
            data_dir: None,
            synced: true,
            graphiql: Default::default(),
            clock_offset: chrono::Duration::zero(),
        }
    }

    /// A client for a gateway served elsewhere (e.g. the benchmarks' release process), at its
    /// GraphQL `url`.
    pub fn at(url: impl Into<String>) -> TestGateway {
        TestGateway {
            url: url.into(),
            admin: None,
            http: reqwest::Client::new(),
            sync: None,
            stop: None,
            served: None,
        }
    }

    /// Stops the gateway started here as SIGTERM would, and waits until it has drained.
    pub async fn shutdown(mut self) {
        drop(self.stop.take());
        if let Some(served) = self.served.take() {
            served
                .await
                .expect("the gateway did not panic")
                .expect("the gateway served");
        }
    }

    /// POSTs a GraphQL query and returns the whole JSON answer (`data` and `errors`).
    pub async fn query(&self, query: &str) -> Value {
        self.query_with(query, json!({})).await
    }

    pub async fn query_with(&self, query: &str, variables: Value) -> Value {
        let response = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("gateway answers");
        assert_eq!(response.status(), 200, "GraphQL answers with HTTP 200");
        response.json().await.expect("a JSON answer")
    }
}

/// Starts the gateway with `sims.settings`, `customize`d, on 127.0.0.1:0, on the simulators'
/// clock.
pub async fn gateway_with(sims: &TestSims, customize: impl FnOnce(&mut Settings)) -> TestGateway {
    TestGateway::builder(sims).with(customize).start().await
}

pub async fn gateway(sims: &TestSims) -> TestGateway {
    TestGateway::builder(sims).start().await
}

// ---- Tokens -------------------------------------------------------------------------------------

/// Seconds since the Unix epoch on the system clock (what a token's `exp` is checked against).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A JWT with `claims`, signed HS256 with `secret`.
pub fn hs256(claims: &Value, secret: &[u8]) -> String {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("an HS256 token")
}

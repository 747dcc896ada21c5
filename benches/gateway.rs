//! The benchmark harness (issue: "benchmark harness"): six scenarios, each repeated, medians
//! written into `BENCHMARKS.md`.
//!
//! ```sh
//! cargo bench --bench gateway -- all          # or: a b c d e e2 f, any subset
//! cargo bench --bench gateway -- b --reps 5   # more repetitions
//! ```
//!
//! Process layout: this harness re-executes itself under `taskset -c 0` (the load generator and
//! the five simulators share core 0) and starts the gateway as its own process, the release
//! binary `returns-gateway serve --config <generated toml>`, under `taskset -c 1`. The bare axum
//! baseline of scenario (a) is this harness binary again (`__baseline`), also on core 1.
//!
//! Load: an in-process open-loop generator. Request `i` is scheduled at `start + i / rate` and
//! sent then whatever earlier requests are doing (each on its own task, over a pool of
//! keep-alive HTTP/1.1 connections: hyper's client); its latency is measured from the
//! *scheduled* send time, so a stalled gateway cannot hide its stall (coordinated omission
//! corrected). Percentiles are exact (all samples sorted, nearest rank). Throughput (a) is a
//! saturation measurement: N connections in a closed loop for a fixed time.
//!
//! The simulators, their call counts and faults, and the GraphQL queries around a load come from
//! the test kit (`returns_gateway::testkit`, shared with `tests/api`).
//!
//! Not run by CI (slow, noisy); `cargo build --all-targets` compiles it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper::http::uri::{Authority, PathAndQuery};
use hyper::{HeaderMap, Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use returns_gateway::cache::VendorCache;
use returns_gateway::config::{CacheSettings, Settings, VendorTtls};
use returns_gateway::testkit::{self, TestGateway, TestSims, DASHBOARD};
use serde_json::{json, Value};
use simulators::Faults;
use tokio::net::TcpStream;
use vendors::model::Vendor;

/// Scenario (b)/(e): one query reading from all five vendors, each read one round trip.
/// V-Track (its report), RRR (its listing), MerchantPro (`ids=` for one order), ProCarrier
/// (`tracking/range`) and TrackRU (`numbers=` for one parcel). The order id and tracking number
/// change with every request, so those reads are never shared between requests.
const FIVE_VENDORS: &str = r#"query Five($vt: ID!, $rrr: ID!, $order: ID!, $number: String!) {
  vt: return(id: $vt) { id status createdAt customer { email } }
  rrr: return(id: $rrr) { id status createdAt total { amount currency } }
  order(id: $order) { id reference paymentStatus total { amount currency } }
  tracking(trackingNumber: $number) { trackingNumber status sources events { vendor at status } }
}"#;

const PER_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Entry point

struct Opts {
    scenarios: Vec<String>,
    reps: usize,
    write: bool,
    /// The world sizes of (g).
    worlds: Vec<usize>,
}

fn main() {
    // `cargo bench` appends `--bench`; ignore it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("__baseline") => return baseline_server(&args[1..]),
        Some("__rss") => return rss_child(),
        _ => {}
    }
    if std::env::var_os("GW_BENCH_PINNED").is_none() && pinning_available() {
        // Re-run ourselves on core 0; the gateway goes on core 1.
        let status = Command::new("taskset")
            .args(["-c", "0"])
            .arg(std::env::current_exe().expect("own path"))
            .args(&args)
            .env("GW_BENCH_PINNED", "1")
            .status()
            .expect("taskset runs");
        std::process::exit(status.code().unwrap_or(1));
    }
    let opts = parse_opts(&args);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(opts));
}

fn parse_opts(args: &[String]) -> Opts {
    let mut opts = Opts {
        scenarios: Vec::new(),
        reps: 3,
        write: true,
        worlds: SCALE_WORLDS.to_vec(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--reps" => opts.reps = it.next().and_then(|n| n.parse().ok()).expect("--reps N"),
            "--no-write" => opts.write = false,
            "--worlds" => {
                opts.worlds = it
                    .next()
                    .map(|w| w.split(',').filter_map(|n| n.parse().ok()).collect())
                    .expect("--worlds 540,27000,100000")
            }
            "all" => opts.scenarios.extend(
                ["a", "b", "c", "d", "e", "e2", "f", "g"]
                    .iter()
                    .map(|s| s.to_string()),
            ),
            s if s.starts_with('-') => {}
            s => opts.scenarios.push(s.to_owned()),
        }
    }
    if opts.scenarios.is_empty() {
        eprintln!(
            "usage: cargo bench --bench gateway -- <all | a b c d e e2 f g> [--reps N] [--no-write] [--worlds 540,27000,100000]"
        );
        std::process::exit(2);
    }
    opts
}

fn pinning_available() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        && Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

fn pinned() -> bool {
    std::env::var_os("GW_BENCH_PINNED").is_some()
}

async fn run(opts: Opts) {
    let mut reports = Vec::new();
    for s in &opts.scenarios {
        eprintln!("\n=== scenario {s} ({} repetitions) ===", opts.reps);
        let report = match s.as_str() {
            "a" => scenario_a(opts.reps).await,
            "b" => scenario_b(opts.reps).await,
            "c" => scenario_c(opts.reps).await,
            "d" => scenario_d(opts.reps).await,
            "e" => scenario_e(opts.reps).await,
            "e2" => scenario_e2(opts.reps).await,
            "f" => scenario_f(opts.reps).await,
            "g" => scenario_g(opts.reps, &opts.worlds).await,
            other => {
                eprintln!("unknown scenario {other:?}");
                continue;
            }
        };
        eprintln!("{}", report.markdown);
        reports.push(report);
    }
    if opts.write {
        write_benchmarks_md(&reports);
    }
}

// ---------------------------------------------------------------------------------------------
// Results

struct Report {
    id: &'static str,
    markdown: String,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    if xs.is_empty() {
        return f64::NAN;
    }
    xs[(xs.len() - 1) / 2]
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "pass"
    } else {
        "**MISS**"
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One load run's outcome.
#[derive(Debug, Default, Clone)]
struct LoadStats {
    offered_rps: f64,
    sent: usize,
    ok: usize,
    http_5xx: usize,
    other_status: usize,
    transport_errors: usize,
    /// Answers (HTTP 200) with a GraphQL `errors` entry.
    graphql_errors: usize,
    /// Successful answers per second of the schedule.
    achieved_rps: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    /// How late the generator sent its latest request (should stay near 0).
    max_send_lag_ms: f64,
}

impl LoadStats {
    fn line(&self) -> String {
        format!(
            "offered {:.0}/s achieved {:.1}/s sent {} ok {} 5xx {} other {} transport-errors {} graphql-errors {} | p50 {:.2} p90 {:.2} p99 {:.2} max {:.2} ms | send lag max {:.2} ms",
            self.offered_rps, self.achieved_rps, self.sent, self.ok, self.http_5xx, self.other_status,
            self.transport_errors, self.graphql_errors, self.p50, self.p90, self.p99, self.max, self.max_send_lag_ms
        )
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ---------------------------------------------------------------------------------------------
// The load's HTTP/1.1 client: hyper's (hyper-util's pooled client over tokio), keep-alive
// connections reused from an unbounded pool, Nagle off. Cheaper per request than reqwest (which
// adds its layers over this same client), so the generator core is not the bottleneck when the
// server core is saturated: (a) prints the generator's CPU use during the baseline run.

type Client = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;
type Error = Box<dyn std::error::Error + Send + Sync>;

/// Sends [`Req`]s to one server.
struct Http {
    client: Client,
    authority: Authority,
}

/// One request of a load run, built once and sent many times.
#[derive(Clone)]
struct Req {
    method: Method,
    path: PathAndQuery,
    headers: HeaderMap,
    body: Bytes,
}

struct Answer {
    status: u16,
    body: Bytes,
}

impl Http {
    fn new(addr: SocketAddr) -> Arc<Http> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            // As many idle connections as the load needs, kept for the whole run.
            .pool_idle_timeout(None)
            .build(connector);
        Arc::new(Http {
            client,
            authority: addr.to_string().parse().expect("an authority"),
        })
    }

    async fn send(&self, req: &Req) -> Result<Answer, Error> {
        let uri = Uri::builder()
            .scheme("http")
            .authority(self.authority.clone())
            .path_and_query(req.path.clone())
            .build()?;
        let mut request = Request::new(Full::new(req.body.clone()));
        *request.method_mut() = req.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = req.headers.clone();
        let response = self.client.request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }
}

impl Req {
    fn new(method: Method, path: &str, headers: &[(&'static str, &str)], body: Bytes) -> Req {
        Req {
            method,
            path: path.parse().expect("a path"),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        HeaderName::from_static(k),
                        HeaderValue::from_str(v).expect("a header value"),
                    )
                })
                .collect(),
            body,
        }
    }

    fn graphql(query: &str, variables: Value) -> Req {
        let body =
            serde_json::to_vec(&json!({"query": query, "variables": variables})).expect("json");
        Req::new(
            Method::POST,
            "/graphql",
            &[
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            body.into(),
        )
    }

    fn get(path: &str, header: (&'static str, &str)) -> Req {
        Req::new(
            Method::GET,
            path,
            &[("accept", "application/json"), header],
            Bytes::new(),
        )
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Load generators

/// Open loop: `rate` requests per second for `duration`, request `i` being `requests[i % len]`.
async fn open_loop(
    http: &Arc<Http>,
    rate: f64,
    duration: Duration,
    requests: &Arc<Vec<Req>>,
) -> LoadStats {
    open_loop_multi(&[(http.clone(), requests.clone())], rate, duration).await
}

/// Where to send and what: request `i` of a run is `requests[i % len]`.
type Target = (Arc<Http>, Arc<Vec<Req>>);

/// Open loop where each scheduled "request" is one request to every target, sent concurrently;
/// its latency is the slowest one's, its status the worst. (The floor probe of (b) calls the
/// simulators directly this way.)
async fn open_loop_multi(targets: &[Target], rate: f64, duration: Duration) -> LoadStats {
    let total = (rate * duration.as_secs_f64()).round() as usize;
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(total);
    let mut max_lag = Duration::ZERO;
    for i in 0..total {
        let scheduled = start + period * i as u32;
        tokio::time::sleep_until(scheduled).await;
        max_lag = max_lag.max(tokio::time::Instant::now().saturating_duration_since(scheduled));
        let targets = targets.to_vec();
        tasks.push(tokio::spawn(async move {
            let sends = targets.iter().map(|(http, requests)| async move {
                let request = &requests[i % requests.len()];
                tokio::time::timeout(PER_REQUEST_TIMEOUT, http.send(request)).await
            });
            let outcomes = futures_util::future::join_all(sends).await;
            let latency = tokio::time::Instant::now() - scheduled;
            // The worst outcome: a failure, else the highest status.
            let outcome = outcomes
                .into_iter()
                .max_by_key(|o| match o {
                    Ok(Ok(a)) => u32::from(a.status),
                    _ => u32::MAX,
                })
                .expect("at least one target");
            (latency, outcome)
        }));
    }
    let mut stats = LoadStats {
        offered_rps: rate,
        sent: total,
        max_send_lag_ms: ms(max_lag),
        ..Default::default()
    };
    let mut latencies = Vec::with_capacity(total);
    for t in tasks {
        let (latency, outcome) = t.await.expect("request task");
        latencies.push(ms(latency));
        match outcome {
            Ok(Ok(a)) if a.status == 200 => {
                stats.ok += 1;
                if find(&a.body, b"\"errors\"").is_some() {
                    stats.graphql_errors += 1;
                }
            }
            Ok(Ok(a)) if a.status >= 500 => stats.http_5xx += 1,
            Ok(Ok(_)) => stats.other_status += 1,
            Ok(Err(_)) | Err(_) => stats.transport_errors += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    stats.achieved_rps = stats.ok as f64 / duration.as_secs_f64();
    stats.p50 = percentile(&latencies, 50.0);
    stats.p90 = percentile(&latencies, 90.0);
    stats.p99 = percentile(&latencies, 99.0);
    stats.max = percentile(&latencies, 100.0);
    stats
}

/// Closed loop: `connections` clients, each sending its next request when the last answered,
/// for `duration`. Returns (answers per second, non-200 answers).
async fn saturate(
    http: &Arc<Http>,
    connections: usize,
    duration: Duration,
    request: &Arc<Req>,
) -> (f64, usize) {
    let deadline = Instant::now() + duration;
    let workers = (0..connections).map(|_| {
        let (http, request) = (http.clone(), request.clone());
        tokio::spawn(async move {
            let (mut ok, mut bad) = (0usize, 0usize);
            while Instant::now() < deadline {
                match http.send(&request).await {
                    Ok(a) if a.status == 200 => ok += 1,
                    _ => bad += 1,
                }
            }
            (ok, bad)
        })
    });
    let started = Instant::now();
    let mut ok = 0;
    let mut bad = 0;
    for w in workers.collect::<Vec<_>>() {
        let (o, b) = w.await.expect("worker");
        ok += o;
        bad += b;
    }
    (ok as f64 / started.elapsed().as_secs_f64(), bad)
}

// ---------------------------------------------------------------------------------------------
// Simulators (in this process, core 0) and the gateway (its own process, core 1)

/// The simulators of every scenario: the demo's world (seed 42, 540 returns) on the system clock,
/// the clock of the gateway process (which cannot be given the simulators' clock).
async fn start_sims() -> TestSims {
    TestSims::builder().system_clock().start().await
}

/// What a scenario changes in the gateway's settings.
#[derive(Clone)]
struct Knobs {
    ttl_s: [u64; 5],
    vtrack_max_stale_s: u64,
    timeout_ms: [u64; 5],
    naive: bool,
    /// Extra `key = value` lines of `[vendors.trackru.resilience]` (its breaker, for (e)).
    trackru_resilience: String,
    /// Where the returns index lives: in memory unless a scenario keeps it on disk ((g)).
    index_dir: Option<PathBuf>,
    /// Extra lines of `[sync]` (the intervals of (g)).
    sync: String,
}

impl Default for Knobs {
    fn default() -> Self {
        let ttl = VendorTtls::default();
        Knobs {
            ttl_s: Vendor::ALL.map(|v| ttl.of(v)),
            vtrack_max_stale_s: 24 * 3600,
            timeout_ms: [10_000, 5_000, 5_000, 5_000, 5_000],
            naive: false,
            trackru_resilience: String::new(),
            index_dir: None,
            sync: String::new(),
        }
    }
}

fn vendor_index(v: Vendor) -> usize {
    Vendor::ALL.iter().position(|x| *x == v).expect("a vendor")
}

fn gateway_toml(sims: &TestSims, listen: SocketAddr, k: &Knobs) -> String {
    let s = &sims.settings.vendors;
    let c = &sims.settings.sim.credentials;
    let t = |v| k.timeout_ms[vendor_index(v)];
    let ttl = |v| k.ttl_s[vendor_index(v)];
    format!(
        r#"[server]
listen = "{listen}"
graphiql = false
naive_resolution = {naive}
# The load is one anonymous client: a per-client rate limit would measure itself.
rate_limit_per_client_per_s = 0

# The load carries no tokens: anonymous callers, as in the demo.
[auth]
allow_anonymous = true

[index]
data_dir = "{index_dir}"

[sync]
{sync}

[cache]
max_entries_per_vendor = 10000
vtrack_max_stale_s = {stale}

[cache.ttl_s]
vtrack = {ttl_vt}
procarrier = {ttl_pc}
rrr = {ttl_rrr}
merchantpro = {ttl_mp}
trackru = {ttl_tr}

[vendors.vtrack]
base_url = "{vt}"
connect_timeout_ms = 1000
timeout_ms = {t_vt}
username = "{vt_user}"
api_key = "{vt_key}"

[vendors.procarrier]
base_url = "{pc}"
connect_timeout_ms = 1000
timeout_ms = {t_pc}
api_key = "{pc_key}"

[vendors.rrr]
base_url = "{rrr}"
connect_timeout_ms = 1000
timeout_ms = {t_rrr}
username = "{rrr_user}"
password = "{rrr_pw}"
user_token = "{rrr_token}"

[vendors.merchantpro]
base_url = "{mp}"
connect_timeout_ms = 1000
timeout_ms = {t_mp}
username = "{mp_user}"
password = "{mp_pw}"

[vendors.trackru]
base_url = "{tr}"
connect_timeout_ms = 1000
timeout_ms = {t_tr}
api_key = "{tr_key}"

[vendors.trackru.resilience]
# As config/demo.toml: the real TrackRU allows about 1 call/s (the default), the simulator has
# no such limit.
rate_limit_per_s = 0.0
{tr_resilience}
"#,
        naive = k.naive,
        index_dir = k
            .index_dir
            .as_deref()
            .map_or(String::new(), |d| d.display().to_string()),
        sync = k.sync,
        stale = k.vtrack_max_stale_s,
        ttl_vt = ttl(Vendor::VTrack),
        ttl_pc = ttl(Vendor::ProCarrier),
        ttl_rrr = ttl(Vendor::Rrr),
        ttl_mp = ttl(Vendor::MerchantPro),
        ttl_tr = ttl(Vendor::TrackRu),
        vt = s.vtrack.base_url,
        t_vt = t(Vendor::VTrack),
        vt_user = c.vtrack_username,
        vt_key = c.vtrack_api_key.expose(),
        pc = s.procarrier.base_url,
        t_pc = t(Vendor::ProCarrier),
        pc_key = c.procarrier_api_key.expose(),
        rrr = s.rrr.base_url,
        t_rrr = t(Vendor::Rrr),
        rrr_user = c.rrr_username,
        rrr_pw = c.rrr_password.expose(),
        rrr_token = c.rrr_user_token.expose(),
        mp = s.merchantpro.base_url,
        t_mp = t(Vendor::MerchantPro),
        mp_user = c.merchantpro_username,
        mp_pw = c.merchantpro_password.expose(),
        tr = s.trackru.base_url,
        t_tr = t(Vendor::TrackRu),
        tr_key = c.trackru_api_key.expose(),
        tr_resilience = k.trackru_resilience,
    )
}

fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-gateway");
    std::fs::create_dir_all(&dir).expect("target/bench-gateway");
    dir
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// A process on core 1, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A GraphQL client for this server's `/graphql` (the kit's), for the queries around a load.
    fn graphql(&self) -> TestGateway {
        TestGateway::at(format!("http://{}/graphql", self.addr))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU seconds (user + system) the process has used.
    fn cpu_seconds(&self) -> f64 {
        proc_cpu_seconds(&self.pid().to_string())
    }
}

/// CPU seconds (user + system) process `pid` (or `self`) has used.
fn proc_cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is field 3; utime 14, stime 15 (1-based).
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0 // USER_HZ is 100 on Linux
}

/// `GW_BENCH_PERF=1`: `perf record` (499 Hz, DWARF call graphs from `.eh_frame`) on a server during a measured window, into
/// `target/bench-gateway/<name>.perf.data` (read with `perf report -i …`).
struct Profiler(Option<Child>);

impl Profiler {
    fn start(server: &Server, name: &str) -> Profiler {
        if std::env::var_os("GW_BENCH_PERF").is_none() {
            return Profiler(None);
        }
        let out = work_dir().join(format!("{name}.perf.data"));
        let child = Command::new("perf")
            .args(["record", "-F", "499", "--call-graph", "dwarf,32768", "-p"])
            .arg(server.pid().to_string())
            .arg("-o")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        std::thread::sleep(Duration::from_millis(300));
        Profiler(child)
    }

    fn stop(mut self) {
        if let Some(child) = self.0.as_mut() {
            // perf writes its file on SIGINT.
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

fn on_core_1(program: &Path) -> Command {
    if pinned() {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

async fn wait_until_listening(addr: SocketAddr, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if TcpStream::connect(addr).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited before listening: {status}");
        }
        assert!(Instant::now() < deadline, "server did not listen on {addr}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts the release gateway on core 1 with `knobs`, and waits until its returns index has
/// every vendor backfilled (what the scenarios measure is a synced gateway's).
async fn start_gateway(sims: &TestSims, knobs: &Knobs) -> Server {
    let server = spawn_gateway(sims, knobs).await;
    wait_synced(&server.graphql(), Duration::from_secs(900)).await;
    server
}

/// Until every vendor's sync is `READY`; panics after `limit`.
async fn wait_synced(gateway: &TestGateway, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let answer = gateway.query("{ vendors { vendor sync { state } } }").await;
        let vendors = answer["data"]["vendors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !vendors.is_empty() && vendors.iter().all(|v| v["sync"]["state"] == "READY") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not synced after {limit:?}: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts the release gateway on core 1 with `knobs`, answering as soon as it listens.
async fn spawn_gateway(sims: &TestSims, knobs: &Knobs) -> Server {
    let addr = free_port();
    let dir = work_dir();
    let config = dir.join(format!("gateway-{}.toml", addr.port()));
    std::fs::write(&config, gateway_toml(sims, addr, knobs)).expect("write config");
    let log = std::fs::File::create(dir.join("gateway.log")).expect("log file");
    let mut child = on_core_1(Path::new(env!("CARGO_BIN_EXE_returns-gateway")))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .env_remove("RETURNS_GATEWAY_LISTEN")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("gateway starts");
    wait_until_listening(addr, &mut child).await;
    Server { child, addr }
}

// ---------------------------------------------------------------------------------------------
// (a) cached query throughput against a bare axum JSON handler, same core

/// The answer the baseline serves: `__baseline <port> <json file>`.
fn baseline_server(args: &[String]) {
    let port: u16 = args[0].parse().expect("port");
    let answer: Value =
        serde_json::from_slice(&std::fs::read(&args[1]).expect("answer file")).expect("json");
    let answer = Arc::new(answer);
    // The same runtime the gateway's `#[tokio::main]` builds (multi-thread, one worker per
    // available core: one under taskset).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        use axum::routing::post;
        let app = axum::Router::new().route(
            "/graphql",
            post(move |axum::Json(_request): axum::Json<Value>| {
                let answer = answer.clone();
                async move { axum::Json(Shared(answer)) }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        axum::serve(listener, app).await.expect("serve");
    });
}

/// Serialises the stored answer in place (no per-request copy of the tree).
struct Shared(Arc<Value>);

impl serde::Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

async fn start_baseline(answer: &Value) -> Server {
    let addr = free_port();
    let file = work_dir().join("baseline-answer.json");
    std::fs::write(&file, serde_json::to_vec(answer).expect("json")).expect("write");
    let mut child = on_core_1(&std::env::current_exe().expect("own path"))
        .arg("__baseline")
        .arg(addr.port().to_string())
        .arg(&file)
        .stdout(Stdio::null())
        .spawn()
        .expect("baseline starts");
    wait_until_listening(addr, &mut child).await;
    Server { child, addr }
}

async fn scenario_a(reps: usize) -> Report {
    const CONNECTIONS: usize = 32;
    let (warm, run) = (Duration::from_secs(3), Duration::from_secs(10));
    let sims = start_sims().await;
    let knobs = Knobs {
        ttl_s: [3600; 5],
        ..Knobs::default()
    };
    let variables = json!({"first": 20});
    let request = Arc::new(Req::graphql(DASHBOARD, variables.clone()));
    let mut rows = Vec::new();
    let mut answer_len = 0;
    for rep in 0..reps {
        let gw = start_gateway(&sims, &knobs).await;
        let http = Http::new(gw.addr);
        let answer = gw.graphql().query_with(DASHBOARD, variables.clone()).await;
        assert!(answer.get("errors").is_none(), "{answer}");
        answer_len = serde_json::to_vec(&answer).expect("json").len();
        saturate(&http, CONNECTIONS, warm, &request).await;
        let cpu0 = gw.cpu_seconds();
        let t0 = Instant::now();
        let perf = Profiler::start(&gw, "a-gateway");
        let (gw_rps, gw_bad) = saturate(&http, CONNECTIONS, run, &request).await;
        perf.stop();
        let gw_cpu = (gw.cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64();
        drop(gw);

        let base = start_baseline(&answer).await;
        let bhttp = Http::new(base.addr);
        saturate(&bhttp, CONNECTIONS, warm, &request).await;
        let cpu0 = base.cpu_seconds();
        let gen0 = proc_cpu_seconds("self");
        let t0 = Instant::now();
        let perf = Profiler::start(&base, "a-baseline");
        let (base_rps, base_bad) = saturate(&bhttp, CONNECTIONS, run, &request).await;
        perf.stop();
        let base_cpu = (base.cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64();
        let gen_cpu = (proc_cpu_seconds("self") - gen0) / t0.elapsed().as_secs_f64();
        eprintln!("a rep {rep}: load generator (core 0) CPU during the baseline run: {gen_cpu:.2}");
        drop(base);
        eprintln!(
            "a rep {rep}: gateway {gw_rps:.0}/s (cpu {gw_cpu:.2}, non-200 {gw_bad}), bare axum {base_rps:.0}/s (cpu {base_cpu:.2}, non-200 {base_bad}), ratio {:.3}",
            gw_rps / base_rps
        );
        rows.push((gw_rps, base_rps, gw_rps / base_rps, gw_cpu, base_cpu));
    }
    let gw = median(rows.iter().map(|r| r.0).collect());
    let base = median(rows.iter().map(|r| r.1).collect());
    let ratio = median(rows.iter().map(|r| r.2).collect());
    let reps_text: Vec<String> = rows
        .iter()
        .map(|r| format!("{:.0} / {:.0} = {:.3}", r.0, r.1, r.2))
        .collect();
    let markdown = format!(
        "### (a) Cached query throughput vs a bare axum JSON handler\n\n\
Query: the dashboard query (`returns(first: 20)` with customer, order and tracking; {answer_len} B answer), \
every vendor read cached (TTL 3600 s, warmed). Baseline: an axum 0.8 `POST /graphql` handler that parses \
the JSON body and answers the gateway's answer (a `serde_json::Value` held in memory, serialised per request), served by this harness binary \
(`__baseline`) as its own process with the same tokio multi-thread runtime, pinned to the same core 1 as \
the gateway. Load: saturation, {CONNECTIONS} keep-alive connections in a closed loop, {}s warm-up then \
{}s measured, gateway and baseline one after the other.\n\n\
| metric | target | median of {reps} | result |\n|---|---|---|---|\n\
| gateway, req/s | | {gw:.0} | |\n\
| bare axum, req/s | | {base:.0} | |\n\
| gateway / bare axum | ≥ 0.5 | {ratio:.3} | {} |\n\n\
Repetitions (gateway / bare = ratio): {}. Server-core CPU use while measured (1.0 = the whole core): \
gateway {}, bare axum {}.\n",
        warm.as_secs(),
        run.as_secs(),
        verdict(ratio >= 0.5),
        reps_text.join("; "),
        rows.iter().map(|r| format!("{:.2}", r.3)).collect::<Vec<_>>().join(", "),
        rows.iter().map(|r| format!("{:.2}", r.4)).collect::<Vec<_>>().join(", "),
    );
    Report { id: "a", markdown }
}

// ---------------------------------------------------------------------------------------------
// (b) one query touching all five vendors at 50 ms each, 200 req/s

const RATE: f64 = 200.0;
const FLOOR_MS: f64 = 50.0;

/// Per-request variables for [`FIVE_VENDORS`]: fixed V-Track and RRR returns, a different
/// MerchantPro order and TrackRU parcel each time.
async fn five_vendor_requests(sims: &TestSims, gateway: &TestGateway) -> Arc<Vec<Req>> {
    let pick = |vendor: &'static str| async move {
        let answer = gateway
            .query_with(
                "query($v: [Vendor!]) { returns(first: 1, filter: {vendors: $v}) { edges { node { id } } } }",
                json!({"v": [vendor]}),
            )
            .await;
        answer["data"]["returns"]["edges"][0]["node"]["id"]
            .as_str()
            .expect("a return id")
            .to_owned()
    };
    let (vt, rrr) = (pick("VTRACK").await, pick("RRR").await);
    let world = &sims.sims.world;
    let orders = simulators::merchantpro::seed_orders(world);
    let numbers: Vec<&str> = world
        .parcels
        .iter()
        .map(|p| p.tracking_number.as_str())
        .collect();
    let requests = (0..4000)
        .map(|i| {
            let order = &orders[i % orders.len()];
            let gid = returns_gateway::schema::ids::GlobalId::new(
                returns_gateway::schema::ids::NodeKind::Order,
                Some(Vendor::MerchantPro),
                order.id.to_string(),
            )
            .encode();
            Req::graphql(
                FIVE_VENDORS,
                json!({"vt": vt, "rrr": rrr, "order": gid, "number": numbers[(i * 7) % numbers.len()]}),
            )
        })
        .collect();
    Arc::new(requests)
}

/// The per-request reads (MerchantPro `ids=`, TrackRU `numbers=`) never cached (TTL 0). The
/// listing-only reads (V-Track report, ProCarrier, RRR listing): with `listings_fresh`, TTL 0 too
/// (V-Track not served stale), except RRR (see the report); otherwise warm in the cache (TTL 3600 s).
fn five_vendor_knobs(listings_fresh: bool) -> Knobs {
    let listing_ttl = if listings_fresh { 0 } else { 3600 };
    let mut k = Knobs {
        ttl_s: [listing_ttl, listing_ttl, 3600, 0, 0],
        vtrack_max_stale_s: if listings_fresh { 0 } else { 24 * 3600 },
        ..Knobs::default()
    };
    debug_assert_eq!(Vendor::ALL[2], Vendor::Rrr);
    k.ttl_s[vendor_index(Vendor::Rrr)] = 3600;
    k
}

/// Starts a gateway, picks the request set, warms RRR's listing, applies `faults` and runs
/// a warm-up second at `RATE`.
async fn five_vendor_setup(sims: &TestSims, knobs: &Knobs) -> (Server, Arc<Http>, Arc<Vec<Req>>) {
    sims.set_all_faults(Faults::default());
    let gw = start_gateway(sims, knobs).await;
    let http = Http::new(gw.addr);
    let graphql = gw.graphql();
    let requests = five_vendor_requests(sims, &graphql).await;
    let first: Value = serde_json::from_slice(&requests[0].body).expect("json");
    let answer = graphql
        .query_with(FIVE_VENDORS, first["variables"].clone())
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    (gw, http, requests)
}

struct Run {
    stats: LoadStats,
    gateway_cpu: f64,
    calls: BTreeMap<String, u64>,
}

/// `reps` runs of [`FIVE_VENDORS`] at `RATE` against a gateway with `knobs`; `faults` applied
/// after setup.
async fn five_vendor_runs(
    sims: &TestSims,
    knobs: &Knobs,
    faults: impl Fn(&TestSims),
    reps: usize,
    name: &str,
) -> Vec<Run> {
    let mut runs = Vec::new();
    for rep in 0..reps {
        let (gw, http, requests) = five_vendor_setup(sims, knobs).await;
        faults(sims);
        open_loop(&http, RATE, Duration::from_secs(2), &requests).await;
        sims.reset_calls();
        let cpu0 = gw.cpu_seconds();
        let t0 = Instant::now();
        let perf = Profiler::start(&gw, &format!("{name}-gateway"));
        let stats = open_loop(&http, RATE, Duration::from_secs(10), &requests).await;
        perf.stop();
        let gateway_cpu = (gw.cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64();
        let calls = sims.calls();
        eprintln!(
            "{name} rep {rep}: {}\n  gateway CPU {gateway_cpu:.2}; upstream calls: {calls:?}",
            stats.line()
        );
        runs.push(Run {
            stats,
            gateway_cpu,
            calls,
        });
        drop(gw);
    }
    sims.set_all_faults(Faults::default());
    runs
}

fn runs_text(runs: &[Run]) -> String {
    runs.iter()
        .map(|r| {
            format!(
                "p50 {:.2} / p99 {:.2} / max {:.2} ms, ok {}/{}, gateway CPU {:.2}, upstream calls {}",
                r.stats.p50,
                r.stats.p99,
                r.stats.max,
                r.stats.ok,
                r.stats.sent,
                r.gateway_cpu,
                total(&r.calls)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The same schedule straight at the simulators: per tick, the MerchantPro `ids=` and TrackRU
/// `numbers=` calls a request makes, concurrently. What the gateway adds is above this.
async fn floor_probe(sims: &TestSims, reps: usize) -> Vec<LoadStats> {
    let origin = |v: Vendor| {
        let origin = &sims.sim(v).origin;
        origin
            .trim_start_matches("http://")
            .parse::<SocketAddr>()
            .expect("addr")
    };
    let c = &sims.settings.sim.credentials;
    let basic = format!(
        "Basic {}",
        base64_basic(&c.merchantpro_username, c.merchantpro_password.expose())
    );
    let orders = simulators::merchantpro::seed_orders(&sims.sims.world);
    let numbers: Vec<&str> = sims
        .sims
        .world
        .parcels
        .iter()
        .map(|p| p.tracking_number.as_str())
        .collect();
    let mp: Vec<Req> = (0..4000)
        .map(|i| {
            Req::get(
                &format!("/api/v2/orders?ids={}", orders[i % orders.len()].id),
                ("authorization", &basic),
            )
        })
        .collect();
    let tr: Vec<Req> = (0..4000)
        .map(|i| {
            Req::get(
                &format!(
                    "/v1/trackings/get?numbers={}&limit=40",
                    numbers[(i * 7) % numbers.len()]
                ),
                ("api-key", c.trackru_api_key.expose()),
            )
        })
        .collect();
    let targets = [
        (Http::new(origin(Vendor::MerchantPro)), Arc::new(mp)),
        (Http::new(origin(Vendor::TrackRu)), Arc::new(tr)),
    ];
    sims.set_all_faults(testkit::latency(50));
    let mut runs = Vec::new();
    for rep in 0..reps {
        open_loop_multi(&targets, RATE, Duration::from_secs(2)).await;
        let stats = open_loop_multi(&targets, RATE, Duration::from_secs(10)).await;
        eprintln!("b floor rep {rep}: {}", stats.line());
        runs.push(stats);
    }
    sims.set_all_faults(Faults::default());
    runs
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

async fn scenario_b(reps: usize) -> Report {
    let sims = start_sims().await;
    let floor = floor_probe(&sims, reps).await;
    let fifty = |s: &TestSims| s.set_all_faults(testkit::latency(50));
    let warm = five_vendor_runs(&sims, &five_vendor_knobs(false), fifty, reps, "b").await;
    let fresh = five_vendor_runs(&sims, &five_vendor_knobs(true), fifty, reps, "b-fresh").await;
    let row = |name: &str, runs: &[Run]| {
        let p50 = median(runs.iter().map(|r| r.stats.p50).collect());
        let p99 = median(runs.iter().map(|r| r.stats.p99).collect());
        let achieved = median(runs.iter().map(|r| r.stats.achieved_rps).collect());
        let cpu = median(runs.iter().map(|r| r.gateway_cpu).collect());
        format!(
            "| {name} | p50 ≤ 52 ms | {p50:.2} ms | {} |\n\
| | p99 ≤ 57.5 ms | {p99:.2} ms | {} |\n\
| | achieved {RATE:.0}/s | {achieved:.1}/s (gateway core busy {:.0} %) | |\n",
            verdict(p50 <= 1.04 * FLOOR_MS),
            verdict(p99 <= 1.15 * FLOOR_MS),
            cpu * 100.0
        )
    };
    let markdown = format!(
        "### (b) One query touching all five vendors, 50 ms each, {RATE:.0} req/s\n\n\
Query (`FIVE_VENDORS` in the harness): `return(id)` of a V-Track return (its report) and of an RRR \
return (its listing), `order(id)` (MerchantPro `ids=`) and `tracking(trackingNumber)` (ProCarrier \
`tracking/range` + TrackRU `numbers=`), all read concurrently: the floor is one 50 ms round trip. \
Every simulator answers after exactly 50 ms (jitter 0). The order id and parcel number change with \
each request and MerchantPro/TrackRU reads are not cached (TTL 0), so every request makes its own \
MerchantPro and TrackRU call. The listing-only reads are measured two ways:\n\n\
- **warm listings**: V-Track, ProCarrier and RRR listings cached (TTL 3600 s, warmed), as with the \
  production TTLs (V-Track 900 s + stale-while-revalidate, ProCarrier 60 s, RRR 120 s);\n\
- **fresh listings**: V-Track and ProCarrier TTL 0 (V-Track not served stale): their reads are \
  repeated whenever none is in flight (single-flight shares one among the requests arriving \
  meanwhile), so the gateway re-reads and re-maps the whole V-Track report and ProCarrier \
  `tracking/range` about 20 times a second each.\n\n\
RRR stays cached in both: its listing has no page count, so a fresh read is at least two \
sequential round trips (page 1, then an empty page; 10 on this world) and no one-round floor can \
hold for it. Open loop at {RATE:.0} req/s, 2 s warm-up then 10 s measured (2000 requests), latency \
from the scheduled send time.\n\n\
| variant | target | median of {reps} | result |\n|---|---|---|---|\n{}{}\n\
The measured floor, the same schedule sent straight to the simulators (per tick the MerchantPro \
`ids=` and TrackRU `numbers=` calls a request makes, concurrently, from core 0): p50 {:.2} ms, \
p99 {:.2} ms (medians of {reps}). So with warm listings the gateway adds {:.2} ms at p50 and \
{:.2} ms at p99.\n\n\
Runs, warm listings: {}.\n\nRuns, fresh listings: {}.\n",
        row("warm listings", &warm),
        row("fresh listings", &fresh),
        median(floor.iter().map(|r| r.p50).collect()),
        median(floor.iter().map(|r| r.p99).collect()),
        median(warm.iter().map(|r| r.stats.p50).collect())
            - median(floor.iter().map(|r| r.p50).collect()),
        median(warm.iter().map(|r| r.stats.p99).collect())
            - median(floor.iter().map(|r| r.p99).collect()),
        runs_text(&warm),
        runs_text(&fresh),
    );
    Report { id: "b", markdown }
}

// ---------------------------------------------------------------------------------------------
// (c) the N+1 dashboard query: upstream calls, batched vs naive row-by-row resolution

async fn dashboard_calls(sims: &TestSims, naive: bool) -> (BTreeMap<String, u64>, usize) {
    let gw = start_gateway(
        sims,
        &Knobs {
            naive,
            ..Knobs::default()
        },
    )
    .await;
    sims.reset_calls();
    let answer = gw
        .graphql()
        .query_with(DASHBOARD, json!({"first": 100}))
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let rows = answer["data"]["returns"]["edges"]
        .as_array()
        .map_or(0, Vec::len);
    (sims.calls(), rows)
}

fn total(calls: &BTreeMap<String, u64>) -> u64 {
    calls.values().sum()
}

fn calls_table(batched: &BTreeMap<String, u64>, naive: &BTreeMap<String, u64>) -> String {
    let mut keys: Vec<&String> = batched.keys().chain(naive.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut t = String::from("| vendor endpoint | batched | naive |\n|---|---|---|\n");
    for k in keys {
        t += &format!(
            "| `{k}` | {} | {} |\n",
            batched.get(k).copied().unwrap_or(0),
            naive.get(k).copied().unwrap_or(0)
        );
    }
    t += &format!("| **total** | {} | {} |\n", total(batched), total(naive));
    t
}

async fn scenario_c(reps: usize) -> Report {
    let sims = start_sims().await;
    let mut runs = Vec::new();
    for rep in 0..reps {
        let (batched, rows) = dashboard_calls(&sims, false).await;
        let (naive, naive_rows) = dashboard_calls(&sims, true).await;
        assert_eq!(rows, naive_rows);
        let ratio = total(&naive) as f64 / total(&batched) as f64;
        eprintln!(
            "c rep {rep}: batched {} calls, naive {} calls, ratio {ratio:.2}",
            total(&batched),
            total(&naive)
        );
        runs.push((batched, naive, ratio));
    }
    let ratio = median(runs.iter().map(|r| r.2).collect());
    let (b, n, _) = &runs[0];
    let markdown = format!(
        "### (c) N+1: the dashboard query for 100 returns, batched vs naive\n\n\
The dashboard query (`returns(first: 100)` with order, tracking and customer) against a cold gateway \
(a new process each time), default world (540 returns) and TTLs; upstream requests counted at the \
simulators. Naive: `server.naive_resolution = true` (loaders with batch size 1, no prefetch; the \
cache still shares identical reads).\n\n\
| metric | target | median of {reps} | result |\n|---|---|---|---|\n\
| upstream calls, batched | | {} | |\n\
| upstream calls, naive | | {} | |\n\
| naive / batched | ≥ 50× | {ratio:.2}× | {} |\n\n\
Per endpoint (every repetition gave the same counts: {}):\n\n{}",
        median(runs.iter().map(|r| total(&r.0) as f64).collect()),
        median(runs.iter().map(|r| total(&r.1) as f64).collect()),
        verdict(ratio >= 50.0),
        runs.iter().all(|r| &r.0 == b && &r.1 == n),
        calls_table(b, n),
    );
    Report { id: "c", markdown }
}

// ---------------------------------------------------------------------------------------------
// (d) 200 identical concurrent cold queries

async fn scenario_d(reps: usize) -> Report {
    const CLIENTS: usize = 200;
    let sims = start_sims().await;
    let mut runs = Vec::new();
    for rep in 0..reps {
        // One cold query: the calls one dashboard query makes.
        sims.set_all_faults(testkit::latency(50));
        let (single, _) = dashboard_calls(&sims, false).await;
        let gw = start_gateway(&sims, &Knobs::default()).await;
        let http = Http::new(gw.addr);
        // Open the connections first, so the 200 queries leave together.
        let warm = Arc::new(Req::new(Method::GET, "/healthz", &[], Bytes::new()));
        let opens = (0..CLIENTS).map(|_| {
            let (http, warm) = (http.clone(), warm.clone());
            async move { http.send(&warm).await }
        });
        let _ = futures_util::future::join_all(opens).await;
        sims.reset_calls();
        let request = Arc::new(vec![Req::graphql(DASHBOARD, json!({"first": 100}))]);
        let stats = open_loop(&http, 1e9, Duration::from_nanos(CLIENTS as u64), &request).await;
        let calls = sims.calls();
        let worst = calls
            .iter()
            .map(|(k, n)| *n as f64 / single.get(k).copied().unwrap_or(0).max(1) as f64)
            .fold(0.0, f64::max);
        let same = calls == single;
        eprintln!(
            "d rep {rep}: {}\n  200 queries: {} calls, one query: {} calls, same per endpoint: {same}",
            stats.line(),
            total(&calls),
            total(&single)
        );
        runs.push((calls, single, same, worst, stats));
        drop(gw);
    }
    sims.set_all_faults(Faults::default());
    let (calls, single, ..) = &runs[0];
    let all_same = runs.iter().all(|r| r.2);
    let markdown = format!(
        "### (d) {CLIENTS} identical concurrent cold queries\n\n\
The dashboard query for 100 returns, sent {CLIENTS} times at the same instant (connections opened \
beforehand) to a cold gateway; every simulator answers after 50 ms so the queries overlap. Compared \
with the calls of one cold query (a separate cold gateway): the target holds when every (vendor, \
endpoint) is called exactly as often as for one query, i.e. once per page.\n\n\
| metric | target | median of {reps} | result |\n|---|---|---|---|\n\
| upstream calls, {CLIENTS} queries | = one query's | {} (one query: {}) | {} |\n\
| worst endpoint, calls / one query's | 1 | {:.2} | |\n\
| answers OK | {CLIENTS} | {} | |\n\
| latency p50 / max | | {:.1} / {:.1} ms | |\n\n\
Per endpoint (first repetition):\n\n{}",
        median(runs.iter().map(|r| total(&r.0) as f64).collect()),
        median(runs.iter().map(|r| total(&r.1) as f64).collect()),
        verdict(all_same),
        median(runs.iter().map(|r| r.3).collect()),
        median(runs.iter().map(|r| r.4.ok as f64).collect()),
        median(runs.iter().map(|r| r.4.p50).collect()),
        median(runs.iter().map(|r| r.4.max).collect()),
        calls_table(single, calls).replace("| batched | naive |", "| one query | 200 queries |"),
    );
    Report { id: "d", markdown }
}

// ---------------------------------------------------------------------------------------------
// (e) one vendor hanging, 200 ms timeout, 200 req/s

const HANGING: Vendor = Vendor::TrackRu;

/// TrackRU's breaker for the first half of (e): never opens, so every request takes the
/// timeout path (the other resilience settings stay at their defaults).
const BREAKER_OFF: &str = "breaker_failures = 1000000\n";
/// The second half: opens after 5 consecutive failures, stays open for the whole measurement.
const BREAKER_ON: &str = "breaker_failures = 5\nbreaker_cooldown_ms = 600000\n";

fn hang_knobs(breaker: &str) -> Knobs {
    let mut k = five_vendor_knobs(false);
    k.timeout_ms[vendor_index(HANGING)] = 200;
    k.trackru_resilience = breaker.into();
    k
}

fn hang_faults(sims: &TestSims) {
    sims.set_all_faults(testkit::latency(50));
    sims.set_faults(sims.sim(HANGING), testkit::hang());
}

async fn scenario_e(reps: usize) -> Report {
    let sims = start_sims().await;
    let runs = five_vendor_runs(&sims, &hang_knobs(BREAKER_OFF), hang_faults, reps, "e").await;
    let p50 = median(runs.iter().map(|r| r.stats.p50).collect());
    let p99 = median(runs.iter().map(|r| r.stats.p99).collect());
    let achieved = median(runs.iter().map(|r| r.stats.achieved_rps).collect());
    let five = runs
        .iter()
        .map(|r| r.stats.http_5xx + r.stats.transport_errors + r.stats.other_status)
        .max()
        .unwrap_or(0);
    let all_ok = runs.iter().all(|r| r.stats.ok == r.stats.sent);
    let markdown = format!(
        "### (e) One vendor hanging, 200 ms timeout, {RATE:.0} req/s\n\n\
The query and settings of (b), warm listings; {HANGING} never answers (`hang`), its `timeout_ms` \
is 200 (the whole call, retries included); the other four answer after 50 ms. Every request's \
TrackRU read is its own call, so each waits for the timeout. TrackRU's circuit breaker is kept \
closed here (`[vendors.trackru.resilience] breaker_failures = 1000000`) so this half measures \
the timeout path; the other resilience settings are the defaults (bulkhead 32, 2 read retries \
within the deadline). Open loop, 2 s warm-up then 10 s measured.\n\n\
| metric | target | median of {reps} | result |\n|---|---|---|---|\n\
| HTTP 5xx / other non-200 / transport errors (worst run) | 0 | {five} | {} |\n\
| achieved rate (OK answers / s) | {RATE:.0}/s (all answered) | {achieved:.1}/s | {} |\n\
| p50 | | {p50:.2} ms | |\n\
| p99 | ≤ 220 ms | {p99:.2} ms | {} |\n\
| answers naming the vendor's failure in `errors` | every one | {} of {} | |\n\n\
Runs: {}.\n",
        verdict(five == 0),
        verdict(all_ok),
        verdict(p99 <= 220.0),
        median(runs.iter().map(|r| r.stats.graphql_errors as f64).collect()),
        median(runs.iter().map(|r| r.stats.sent as f64).collect()),
        runs_text(&runs),
    );
    Report { id: "e", markdown }
}

/// (e), second half: once the circuit breaker is open, latency is back near the floor. Needs
/// `[vendors.trackru.resilience] breaker_failures / breaker_cooldown_ms` and `vendors { breakerState }`.
async fn scenario_e2(reps: usize) -> Report {
    let knobs = hang_knobs(BREAKER_ON);
    let sims = start_sims().await;
    let probe = gateway_toml(&sims, free_port(), &knobs);
    if let Err(e) = Settings::from_toml(&probe) {
        let markdown = format!(
            "### (e, second half) Breaker open: p99 back within 1.15× the floor\n\n\
Not measured: this build has no circuit breaker (`{e}`). Run `cargo bench --bench gateway -- e2` \
once `vendors.<vendor>.resilience.breaker_failures` / `breaker_cooldown_ms` and `vendors {{ breakerState }}` exist.\n"
        );
        eprintln!("e2 skipped: {e}");
        return Report { id: "e2", markdown };
    }
    let mut runs = Vec::new();
    for rep in 0..reps {
        let (gw, http, requests) = five_vendor_setup(&sims, &knobs).await;
        hang_faults(&sims);
        // Open the breaker with live traffic, then wait until the gateway says it is open.
        let opened = Instant::now();
        let (state, to_open) = loop {
            open_loop(&http, RATE, Duration::from_millis(500), &requests).await;
            let v = gw
                .graphql()
                .query("{ vendors { vendor breakerState } }")
                .await;
            let state = v["data"]["vendors"]
                .as_array()
                .and_then(|vs| vs.iter().find(|x| x["vendor"] == "TRACKRU"))
                .map(|x| x["breakerState"].to_string())
                .unwrap_or_default();
            if state.contains("OPEN") && !state.contains("HALF")
                || opened.elapsed() > Duration::from_secs(20)
            {
                break (state, opened.elapsed());
            }
        };
        sims.reset_calls();
        let stats = open_loop(&http, RATE, Duration::from_secs(10), &requests).await;
        let hung_calls: u64 = sims
            .calls()
            .iter()
            .filter(|(k, _)| k.starts_with(HANGING.as_str()))
            .map(|(_, n)| n)
            .sum();
        eprintln!(
            "e2 rep {rep}: breaker {state} within {:.1}s; {}; calls to {HANGING} while open: {hung_calls}",
            to_open.as_secs_f64(),
            stats.line()
        );
        runs.push((stats, hung_calls, to_open, state));
        drop(gw);
    }
    sims.set_all_faults(Faults::default());
    let p50 = median(runs.iter().map(|r| r.0.p50).collect());
    let p99 = median(runs.iter().map(|r| r.0.p99).collect());
    let five = runs
        .iter()
        .map(|r| r.0.http_5xx + r.0.transport_errors)
        .max()
        .unwrap_or(0);
    let markdown = format!(
        "### (e, second half) Breaker open: p99 back within 1.15× the floor\n\n\
As (e), with `[vendors.trackru.resilience] breaker_failures = 5, breaker_cooldown_ms = 600000`. Load runs until \
`vendors {{ breakerState }}` says TrackRU's breaker is open (checked after every 0.5 s of load at \
{RATE:.0} req/s); then 10 s measured at {RATE:.0} req/s. The floor the target speaks of is 50 ms; \
the floor measured on this machine is in (b).\n\n\
| metric | target | median of {reps} | result |\n|---|---|---|---|\n\
| p50 | | {p50:.2} ms | |\n\
| p99 | ≤ 57.5 ms (1.15 × 50) | {p99:.2} ms | {} |\n\
| HTTP 5xx + transport errors (worst run) | 0 | {five} | {} |\n\
| calls to {HANGING} while open | 0 | {} | |\n\
| breaker state seen / time to open | OPEN | {} | |\n\n\
Runs: {}\n",
        verdict(p99 <= 1.15 * FLOOR_MS),
        verdict(five == 0),
        median(runs.iter().map(|r| r.1 as f64).collect()),
        runs.iter().map(|r| format!("{} within {:.1} s", r.3, r.2.as_secs_f64())).collect::<Vec<_>>().join(", "),
        runs.iter().map(|r| format!("p50 {:.2} / p99 {:.2} / max {:.2} ms, ok {}/{}", r.0.p50, r.0.p99, r.0.max, r.0.ok, r.0.sent)).collect::<Vec<_>>().join("; "),
    );
    Report { id: "e2", markdown }
}

// ---------------------------------------------------------------------------------------------
// (f) memory: RSS growth for 10k cached ~2 KiB vendor responses

const ENTRIES: usize = 10_000;
const PAYLOAD: usize = 2048;
const OVERHEAD_ALLOWED: usize = 184;

fn vm_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// `__rss`: fills a fresh `VendorCache` and prints `{"before":…,"after":…}` (bytes).
fn rss_child() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let settings = CacheSettings {
            max_entries_per_vendor: 2 * ENTRIES as u64,
            ttl_s: VendorTtls {
                vtrack: 3600,
                procarrier: 3600,
                rrr: 3600,
                merchantpro: 3600,
                trackru: 3600,
            },
            vtrack_max_stale_s: 0,
        };
        let cache = VendorCache::new(&settings);
        // Warm the allocator and moka's machinery with one entry, then measure.
        let _ = cache
            .get(Vendor::Rrr, "warm", || async { Ok(vec![1u8; PAYLOAD]) })
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = vm_rss_bytes();
        for i in 0..ENTRIES {
            // Distinct, non-zero bytes: every page of every payload is really written.
            let fill = (i % 251) as u8 + 1;
            let value = cache
                .get(
                    Vendor::Rrr,
                    &format!("orders?ids={i}"),
                    move || async move { Ok(vec![fill; PAYLOAD]) },
                )
                .await
                .expect("cached");
            assert_eq!(value.len(), PAYLOAD);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = vm_rss_bytes();
        let entries = cache.entry_count(Vendor::Rrr);
        println!(
            "{}",
            json!({"before": before, "after": after, "entries": entries})
        );
    });
}

async fn scenario_f(reps: usize) -> Report {
    let mut runs = Vec::new();
    for rep in 0..reps {
        let out = Command::new(std::env::current_exe().expect("own path"))
            .arg("__rss")
            .output()
            .expect("rss child runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("json line");
        let growth =
            v["after"].as_u64().unwrap_or(0) as f64 - v["before"].as_u64().unwrap_or(0) as f64;
        let budget = 1.25 * (ENTRIES * (PAYLOAD + OVERHEAD_ALLOWED)) as f64;
        let per_entry = growth / ENTRIES as f64;
        eprintln!(
            "f rep {rep}: RSS {v}, growth {:.2} MiB ({per_entry:.0} B/entry), budget {:.2} MiB",
            growth / 1048576.0,
            budget / 1048576.0
        );
        runs.push((growth, per_entry, v));
    }
    let growth = median(runs.iter().map(|r| r.0).collect());
    let per_entry = median(runs.iter().map(|r| r.1).collect());
    let budget = 1.25 * (ENTRIES * (PAYLOAD + OVERHEAD_ALLOWED)) as f64;
    let markdown = format!(
        "### (f) Memory: RSS growth for {ENTRIES} cached ~2 KiB vendor responses\n\n\
A fresh process (`__rss`) builds a `VendorCache` (moka), warms it with one entry, reads VmRSS, \
then caches {ENTRIES} values of {PAYLOAD} B (`Vec<u8>`, non-zero bytes) under distinct keys \
(`orders?ids=<i>`) through `VendorCache::get`, waits 0.5 s and reads VmRSS again. glibc malloc.\n\n\
| metric | target | median of {reps} | result |\n|---|---|---|---|\n\
| RSS growth | ≤ 1.25 × {ENTRIES} × ({PAYLOAD} + {OVERHEAD_ALLOWED}) B = {:.2} MiB | {:.2} MiB | {} |\n\
| per entry | ≤ {:.0} B | {per_entry:.0} B ({:.0} B above the payload) | |\n\n\
Runs (bytes): {}\n",
        budget / 1048576.0,
        growth / 1048576.0,
        verdict(growth <= budget),
        budget / ENTRIES as f64,
        per_entry - PAYLOAD as f64,
        runs.iter().map(|r| r.2.to_string()).collect::<Vec<_>>().join("; "),
    );
    Report { id: "f", markdown }
}

// ---------------------------------------------------------------------------------------------
// BENCHMARKS.md: one generated block per scenario, the text around them kept as written

// ---------------------------------------------------------------------------------------------
// (g) scale: the returns index over worlds of 540, 27,000 and 100,000 returns

const SCALE_WORLDS: [usize; 3] = [540, 27_000, 100_000];

const CUSTOMER: &str = "query Customer($email: String) { customer(email: $email) {
    id name email phone returnRate
    returns { vendor vendorId status refused }
    orders { vendorId } deliveries { trackingNumber } refunds { vendor vendorId status } } }";

const SUMMARY: &str = "query Summary($from: DateTime!, $to: DateTime!) {
    returnsSummary(from: $from, to: $to) { total byVendor { vendor count }
    byStatus { status count } byReason { reason count } refusalRate
    refundedTotals { amount currency } incompleteVendors } }";

/// Sync cadence of the steady-state minute: every vendor read within it (the defaults read
/// RRR every 10 min and V-Track every 15, which one minute would not see).
const SCALE_SYNC: &str = "[sync.interval_s]
vtrack = 60
procarrier = 10
rrr = 30
merchantpro = 10
trackru = 15";

/// The moving world of the steady-state minute: a return moves (and its webhook is sent) every
/// 200 ms, whatever the world's size.
const MOVE_EVERY_MS: u64 = 200;

#[derive(Debug, Clone)]
struct ScaleRun {
    returns: usize,
    backfill_s: f64,
    backfill_calls: BTreeMap<String, u64>,
    dashboard_ms: f64,
    customer_ms: f64,
    summary_ms: f64,
    /// Vendor calls during the measured queries (the 3 unmeasured runs included).
    query_calls: [u64; 3],
    steady_calls_per_min: u64,
    steady_calls: BTreeMap<String, u64>,
    rss_mib: f64,
    hwm_mib: f64,
    restart_answer_s: f64,
    restart_calls: u64,
    restart_same: bool,
}

fn proc_status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The p50 of `n` sequential runs of `query` (after 3 unmeasured ones), in ms; every answer
/// checked for errors.
async fn sequential_p50(gateway: &TestGateway, query: &str, variables: &Value, n: usize) -> f64 {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 3 {
        let began = Instant::now();
        let answer = gateway.query_with(query, variables.clone()).await;
        let took = ms(began.elapsed());
        assert!(answer.get("errors").is_none(), "{answer}");
        if i >= 3 {
            samples.push(took);
        }
    }
    median(samples)
}

async fn set_moving_world(sims: &TestSims, url: &str, interval_ms: u64) {
    let origin = &sims.sim(Vendor::ProCarrier).origin;
    let resp = reqwest::Client::new()
        .put(format!("{origin}/__sim/webhooks"))
        .json(&json!({"url": url, "interval_ms": interval_ms, "per_tick": 1}))
        .send()
        .await
        .expect("the simulator answers");
    assert!(resp.status().is_success(), "{}", resp.status());
}

async fn scale_world(returns: usize, reps: usize) -> ScaleRun {
    eprintln!("g: world of {returns} returns");
    let sims = TestSims::builder()
        .returns(returns)
        .system_clock()
        .start()
        .await;
    sims.set_all_faults(testkit::latency(50));
    let index_dir = work_dir().join(format!("index-{returns}"));
    let _ = std::fs::remove_dir_all(&index_dir);
    std::fs::create_dir_all(&index_dir).expect("index dir");
    // The default cadence for the backfill, the queries and the restart: a query measured while
    // a fast-cadence tick rewrites V-Track's report measures the tick, not the query. The steady
    // minute runs a third process with `SCALE_SYNC` on the same index.
    let knobs = Knobs {
        index_dir: Some(index_dir.clone()),
        ..Knobs::default()
    };

    // Backfill: from the process's start until every vendor is READY.
    sims.reset_calls();
    let began = Instant::now();
    let gw = spawn_gateway(&sims, &knobs).await;
    let client = gw.graphql();
    wait_synced(&client, Duration::from_secs(1800)).await;
    let backfill_s = began.elapsed().as_secs_f64();
    let backfill_calls = sims.calls();
    eprintln!(
        "g {returns}: backfill {backfill_s:.1} s, {} calls",
        total(&backfill_calls)
    );

    // Latencies after sync, the moving world still.
    let now = chrono::Utc::now();
    let world = &sims.sims.world;
    let email = world
        .person_of(world.order_of(&world.returns[0]))
        .email
        .clone();
    let n = 20 * reps.max(1);
    sims.reset_calls();
    let dashboard_ms = sequential_p50(&client, DASHBOARD, &json!({"first": 100}), n).await;
    let dashboard_calls = sims.calls();
    sims.reset_calls();
    let customer_ms = sequential_p50(&client, CUSTOMER, &json!({"email": email}), n).await;
    let customer_calls = sims.calls();
    sims.reset_calls();
    // The last 365 days and today, whole UTC days (as a date picker asks).
    let tomorrow = (now + chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let year = json!({
        "from": (tomorrow - chrono::Duration::days(366)).to_rfc3339(),
        "to": tomorrow.to_rfc3339()
    });
    let summary_ms = sequential_p50(&client, SUMMARY, &year, n).await;
    let summary_calls = sims.calls();
    eprintln!(
        "g {returns}: p50 dashboard {dashboard_ms:.1} ms ({} calls in {} runs: {dashboard_calls:?}), customer {customer_ms:.1} ms ({} calls), summary {summary_ms:.1} ms ({} calls)",
        total(&dashboard_calls),
        n + 3,
        total(&customer_calls),
        total(&summary_calls)
    );

    let synced_rss_mib = proc_status_mib(gw.pid(), "VmRSS:");
    let backfill_hwm_mib = proc_status_mib(gw.pid(), "VmHWM:");

    // Restart on the same index, default cadence: the first dashboard answer, and the vendor
    // calls made before it arrived.
    let answered = client.query_with(DASHBOARD, json!({"first": 100})).await;
    drop(client);
    drop(gw);
    sims.reset_calls();
    let began = Instant::now();
    let again = spawn_gateway(&sims, &knobs).await;
    let first = again
        .graphql()
        .query_with(DASHBOARD, json!({"first": 100}))
        .await;
    let restart_answer_s = began.elapsed().as_secs_f64();
    let restart_calls = total(&sims.calls());
    assert!(first.get("errors").is_none(), "{first}");
    // The world moved while the first process ran: compare the page's rows, not their states.
    let ids = |a: &Value| -> Vec<Value> {
        a["data"]["returns"]["edges"]
            .as_array()
            .map(|e| e.iter().map(|e| e["node"]["id"].clone()).collect())
            .unwrap_or_default()
    };
    let restart_same = ids(&first) == ids(&answered) && !ids(&first).is_empty();
    eprintln!("g {returns}: restart answered after {restart_answer_s:.2} s, {restart_calls} calls before, same page: {restart_same}");
    drop(again);

    // Steady state: one minute of the moving world and the background sync reading every
    // vendor within it, on the same index.
    let steady = spawn_gateway(
        &sims,
        &Knobs {
            sync: SCALE_SYNC.to_owned(),
            ..knobs
        },
    )
    .await;
    let webhook = format!("http://{}/webhooks/procarrier/default", steady.addr);
    set_moving_world(&sims, &webhook, MOVE_EVERY_MS).await;
    sims.reset_calls();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let steady_calls = sims.calls();
    set_moving_world(&sims, "", 0).await;
    let steady_rss_mib = proc_status_mib(steady.pid(), "VmRSS:");
    let rss_mib = synced_rss_mib.max(steady_rss_mib);
    let hwm_mib = backfill_hwm_mib.max(proc_status_mib(steady.pid(), "VmHWM:"));
    eprintln!(
        "g {returns}: RSS after sync and queries {synced_rss_mib:.0} MiB (peak {backfill_hwm_mib:.0}); steady {} calls/min, RSS after it {steady_rss_mib:.0} MiB",
        total(&steady_calls)
    );
    drop(steady);
    let _ = std::fs::remove_dir_all(&index_dir);
    ScaleRun {
        returns,
        backfill_s,
        backfill_calls,
        dashboard_ms,
        customer_ms,
        summary_ms,
        query_calls: [
            total(&dashboard_calls),
            total(&customer_calls),
            total(&summary_calls),
        ],
        steady_calls_per_min: total(&steady_calls),
        steady_calls,
        rss_mib,
        hwm_mib,
        restart_answer_s,
        restart_calls,
        restart_same,
    }
}

/// Calls per vendor (the first word of the simulators' route names).
fn per_vendor(calls: &BTreeMap<String, u64>) -> String {
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for (route, n) in calls {
        *by.entry(route.split(' ').next().unwrap_or(route))
            .or_default() += n;
    }
    by.iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn scenario_g(reps: usize, worlds: &[usize]) -> Report {
    let mut runs = Vec::new();
    for &returns in worlds {
        runs.push(scale_world(returns, reps).await);
    }
    let first = runs.first().cloned().expect("a world");
    let last = runs.last().cloned().expect("a world");
    let ratio = |f: fn(&ScaleRun) -> f64| f(&last) / f(&first);
    let dash = ratio(|r| r.dashboard_ms);
    let cust = ratio(|r| r.customer_ms);
    let summ = ratio(|r| r.summary_ms);
    let steady = last.steady_calls_per_min as f64 / first.steady_calls_per_min.max(1) as f64;
    let at_27k = runs.iter().find(|r| r.returns == 27_000);
    let mut table = String::from(
        "| returns in the world | backfill | backfill calls | dashboard p50 | customer(email) p50 | returnsSummary (a year) p50 | vendor calls / min, steady | gateway RSS (peak) | restart: first answer | calls before it |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in &runs {
        table += &format!(
            "| {} | {:.1} s | {} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.0} MiB ({:.0}) | {:.2} s{} | {} |\n",
            r.returns,
            r.backfill_s,
            total(&r.backfill_calls),
            r.dashboard_ms,
            r.customer_ms,
            r.summary_ms,
            r.steady_calls_per_min,
            r.rss_mib,
            r.hwm_mib,
            r.restart_answer_s,
            if r.restart_same { "" } else { " (**other page**)" },
            r.restart_calls,
        );
    }
    let mut calls = String::new();
    for r in &runs {
        calls += &format!(
            "- {} returns: backfill {}; steady minute {}; during the measured queries (dashboard, customer, summary) {}, {}, {}\n",
            r.returns,
            per_vendor(&r.backfill_calls),
            per_vendor(&r.steady_calls),
            r.query_calls[0],
            r.query_calls[1],
            r.query_calls[2],
        );
    }
    let markdown = format!(
        "### (g) Scale: the returns index over worlds of {worlds}\n\n\
Every simulator answers after 50 ms. Per world: a gateway (release build, core 1) starts on an \
empty index on disk and syncs in the background at the default cadence; **backfill** is from \
its start until every vendor's `sync.state` is `READY`. Then, the world still, {n} sequential \
runs of each query (p50): the dashboard (`returns(first: 100)` with order, tracking and \
customer), `customer(email)` of a customer with returns, and `returnsSummary` over the last \
365 days and today (whole UTC days: a window that starts or ends inside a day also reads that \
day's rows). Then the gateway is stopped and started again on the same index, with the \
default cadence: the time from the new process's start to its first dashboard answer, and \
the vendor calls the simulators saw before that answer. Last, a third process on the same \
index for one minute with the moving world on (a return moves and its webhook reaches the \
gateway every {MOVE_EVERY_MS} ms) and the sync reading every vendor within the minute \
(`[sync.interval_s]` vtrack 60, procarrier 10, rrr 30, merchantpro 10, trackru 15): the vendor \
calls in that minute. **Gateway RSS** is the larger of the first process's after its sync and \
queries and the third's after its minute; the peak is the larger of their high-water marks \
(the first one's is the backfill's).\n\n\
{table}\n\
| target | measured | result |\n|---|---|---|\n\
| dashboard p50 at {last_n} ≤ 1.5× at {first_n} | {dash:.2}× | {} |\n\
| customer(email) p50 at {last_n} ≤ 1.5× at {first_n} | {cust:.2}× | {} |\n\
| returnsSummary p50 at {last_n} ≤ 1.5× at {first_n} | {summ:.2}× | {} |\n\
| steady vendor calls/min at {last_n} ≤ 2× at {first_n} | {steady:.2}× | {} |\n\
| gateway RSS at {last_n} ≤ 300 MiB, after sync | {:.0} MiB | {} |\n\
| gateway RSS at {last_n} ≤ 300 MiB, peak (during the backfill) | {:.0} MiB | {} |\n\
| restart: first answer ≤ 2 s, from the index, no vendor call before it | {:.2} s, {} calls | {} |\n\
| backfill of 27,000 returns ≤ 60 s | {} | {} |\n\n\
Calls by vendor:\n\n{calls}",
        verdict(dash <= 1.5),
        verdict(cust <= 1.5),
        verdict(summ <= 1.5),
        verdict(steady <= 2.0),
        last.rss_mib,
        verdict(last.rss_mib <= 300.0),
        last.hwm_mib,
        verdict(last.hwm_mib <= 300.0),
        last.restart_answer_s,
        last.restart_calls,
        verdict(runs.iter().all(|r| r.restart_answer_s <= 2.0 && r.restart_calls == 0 && r.restart_same)),
        at_27k.map_or("not run".to_owned(), |r| format!("{:.1} s", r.backfill_s)),
        verdict(at_27k.is_some_and(|r| r.backfill_s <= 60.0)),
        worlds = worlds.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", "),
        n = 20 * reps.max(1),
        last_n = last.returns,
        first_n = first.returns,
    );
    Report { id: "g", markdown }
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// `HEAD`, with `-dirty` when tracked files have uncommitted changes.
fn git_revision() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let head = command_output("git", &["-C", dir, "rev-parse", "--short", "HEAD"]);
    let status = command_output(
        "git",
        &["-C", dir, "status", "--porcelain", "--untracked-files=no"],
    );
    if status.is_empty() {
        head
    } else {
        format!("{head}-dirty")
    }
}

fn machine_block() -> String {
    let lscpu = command_output("lscpu", &[]);
    let pick = |key: &str| {
        lscpu
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mem = command_output("free", &["-g"]);
    let mem_total = mem
        .lines()
        .find(|l| l.starts_with("Mem:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("?")
        .to_owned();
    format!(
        "| | |\n|---|---|\n\
| CPU | {} ({} cores, {} thread(s) per core), hypervisor {} |\n\
| `nproc` | {} |\n\
| memory (`free -g`) | {mem_total} GiB |\n\
| kernel | {} |\n\
| rustc | {} |\n\
| cargo | {} |\n\
| gateway | returns-gateway {} (`{}`), release profile |\n\
| date | {} |\n\
| load average at the end of the run | {} |\n",
        pick("Model name"),
        pick("CPU(s)"),
        pick("Thread(s) per core"),
        pick("Hypervisor vendor"),
        // `--all`: this process runs pinned to one core.
        command_output("nproc", &["--all"]),
        command_output("uname", &["-sr"]),
        command_output("rustc", &["--version"]),
        command_output("cargo", &["--version"]),
        env!("CARGO_PKG_VERSION"),
        git_revision(),
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim(),
    )
}

fn replace_block(doc: &mut String, id: &str, content: &str) {
    let begin = format!("<!-- bench:{id}:begin -->");
    let end = format!("<!-- bench:{id}:end -->");
    let block = format!("{begin}\n{}\n{end}", content.trim_end());
    match (doc.find(&begin), doc.find(&end)) {
        (Some(b), Some(e)) if e > b => doc.replace_range(b..e + end.len(), &block),
        _ => {
            doc.push('\n');
            doc.push_str(&block);
            doc.push('\n');
        }
    }
}

fn write_benchmarks_md(reports: &[Report]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let mut doc = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nWritten by `cargo bench --bench gateway -- all` (see `benches/gateway.rs`).\n"
            .to_owned()
    });
    replace_block(
        &mut doc,
        "machine",
        &format!(
            "Machine and versions (of the latest run):\n\n{}",
            machine_block()
        ),
    );
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let stamp = format!(
        "Measured {} by `cargo bench --bench gateway -- {}` (load average when written: {}).",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        args.join(" "),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim(),
    );
    for r in reports {
        replace_block(&mut doc, r.id, &format!("{}\n{stamp}\n", r.markdown));
    }
    let mut f = std::fs::File::create(&path).expect("BENCHMARKS.md");
    f.write_all(doc.as_bytes()).expect("write BENCHMARKS.md");
    eprintln!("wrote {}", path.display());
}

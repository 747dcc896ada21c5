//! Simulators of the five vendor APIs: real axum servers bound on any port, used by the tests,
//! the demo and the benchmarks alike.
//!
//! Each vendor module serves that vendor's documented endpoints over a shared, deterministic
//! [`world::World`]. What every simulator has in common lives here: request counting per
//! endpoint (`GET /__sim/stats`, reset with `DELETE`), fault knobs (`GET|PUT /__sim/faults`) and
//! serving on a listener.

pub mod merchantpro;
pub mod procarrier;
pub mod rrr;
pub mod settings;
pub mod trackru;
pub mod vtrack;
pub mod world;

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub use settings::SimSettings;
use vendors::model::Vendor;
use vendors::settings::VendorsSettings;
use world::{Rng, World};

/// Fault knobs of one simulator.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every answer, in milliseconds.
    pub latency_ms: u64,
    /// Plus a random 0..=jitter_ms.
    pub jitter_ms: u64,
    /// Share of requests answered with HTTP 500, 0.0 to 1.0.
    pub error_rate: f64,
    /// Never answer.
    pub hang: bool,
    /// Answer 200 with a JSON body cut off half-way.
    pub malformed: bool,
    /// Above 0: answer every request with 429 and this `Retry-After` (seconds).
    pub rate_limit_retry_after_s: u64,
}

impl Faults {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(format!(
                "error_rate {} is not between 0 and 1",
                self.error_rate
            ));
        }
        Ok(())
    }
}

/// Counters and knobs shared by one simulator's handlers and its admin endpoints.
#[derive(Debug)]
pub struct SimControl {
    vendor: Vendor,
    stats: Mutex<BTreeMap<String, u64>>,
    /// `X-Request-Id`s callers sent, with how many requests carried each.
    request_ids: Mutex<BTreeMap<String, u64>>,
    /// The `traceparent` header of the last [`RECEIVED_KEPT`] requests, in the order they came.
    traceparents: Mutex<VecDeque<Received>>,
    faults: Mutex<Faults>,
    rng: Mutex<Rng>,
    /// How far tests have moved this simulator's clock on past the world's (see
    /// [`SimControl::skip_ahead`]).
    skipped: Mutex<chrono::Duration>,
}

impl SimControl {
    pub fn new(vendor: Vendor, faults: Faults, seed: u64) -> Arc<Self> {
        Arc::new(SimControl {
            vendor,
            stats: Mutex::new(BTreeMap::new()),
            request_ids: Mutex::new(BTreeMap::new()),
            traceparents: Mutex::new(VecDeque::new()),
            faults: Mutex::new(faults),
            rng: Mutex::new(Rng::new(seed ^ 0x5eed_fa17)),
            skipped: Mutex::new(chrono::Duration::zero()),
        })
    }

    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// Requests served per `"METHOD /route"`, since start or the last reset.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.stats.lock().clone()
    }

    pub fn reset_stats(&self) {
        self.stats.lock().clear();
        self.request_ids.lock().clear();
        self.traceparents.lock().clear();
    }

    /// Every request since start or the last reset, in order, with the `traceparent` header it
    /// carried (what a tracing vendor would join the caller's trace with).
    pub fn traceparents(&self) -> Vec<Received> {
        self.traceparents.lock().iter().cloned().collect()
    }

    /// Requests per `X-Request-Id` the callers sent, since start or the last reset.
    pub fn request_ids(&self) -> BTreeMap<String, u64> {
        self.request_ids.lock().clone()
    }

    pub fn faults(&self) -> Faults {
        self.faults.lock().clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock() = faults;
    }

    /// Moves this simulator's clock on by `by`, for the vendor rules that are bound to time
    /// (TrackRU's realtime interval): a test shows a rule lifting without waiting hours.
    pub fn skip_ahead(&self, by: chrono::Duration) {
        *self.skipped.lock() += by;
    }

    /// How far [`SimControl::skip_ahead`] has moved this simulator's clock.
    pub fn skipped(&self) -> chrono::Duration {
        *self.skipped.lock()
    }

    fn count(&self, key: String) {
        *self.stats.lock().entry(key).or_default() += 1;
    }
}

/// How many requests' headers a simulator keeps (the demo's run for hours).
pub const RECEIVED_KEPT: usize = 10_000;

/// One request a simulator received: its `"METHOD /route"` and `traceparent` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Received {
    pub route: String,
    pub traceparent: Option<String>,
}

#[derive(Serialize)]
struct StatsBody {
    vendor: Vendor,
    total: u64,
    requests: BTreeMap<String, u64>,
}

/// Adds request counting, fault injection and the `/__sim` admin endpoints to a vendor router.
///
/// A vendor router must set its own fallback (its vendor's answer to an unknown path): axum
/// layers only what the router has, so without one unknown paths would go uncounted.
pub fn instrument(router: Router, control: Arc<SimControl>) -> Router {
    let admin = Router::new()
        .route(
            "/__sim/stats",
            get(|State(c): State<Arc<SimControl>>| async move {
                let requests = c.stats();
                Json(StatsBody {
                    vendor: c.vendor,
                    total: requests.values().sum(),
                    requests,
                })
            })
            .delete(|State(c): State<Arc<SimControl>>| async move {
                c.reset_stats();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/__sim/faults",
            get(|State(c): State<Arc<SimControl>>| async move { Json(c.faults()) }).put(
                |State(c): State<Arc<SimControl>>, Json(f): Json<Faults>| async move {
                    match f.validate() {
                        Ok(()) => {
                            c.set_faults(f.clone());
                            Json(f).into_response()
                        }
                        Err(reason) => (StatusCode::UNPROCESSABLE_ENTITY, reason).into_response(),
                    }
                },
            ),
        )
        .with_state(control.clone());
    router
        .layer(axum::middleware::from_fn_with_state(
            control,
            count_and_fault,
        ))
        .merge(admin)
}

async fn count_and_fault(State(c): State<Arc<SimControl>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    let route = format!("{} {}", req.method(), route);
    let traceparent = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    {
        let mut received = c.traceparents.lock();
        if received.len() == RECEIVED_KEPT {
            received.pop_front();
        }
        received.push_back(Received {
            route: route.clone(),
            traceparent,
        });
    }
    c.count(route);
    if let Some(id) = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
    {
        *c.request_ids.lock().entry(id.to_owned()).or_default() += 1;
    }
    let faults = c.faults();
    let (delay, fail) = {
        let mut rng = c.rng.lock();
        let jitter = if faults.jitter_ms > 0 {
            rng.below(faults.jitter_ms + 1)
        } else {
            0
        };
        (
            faults.latency_ms + jitter,
            faults.error_rate > 0.0 && rng.unit() < faults.error_rate,
        )
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if faults.hang {
        std::future::pending::<()>().await;
    }
    if faults.rate_limit_retry_after_s > 0 {
        let mut resp = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(faults.rate_limit_retry_after_s),
        );
        return resp;
    }
    if fail {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "simulated upstream failure",
        )
            .into_response();
    }
    if faults.malformed {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"data\": [{\"id\": 1, \"na",
        )
            .into_response();
    }
    next.run(req).await
}

/// A running simulator.
#[derive(Debug, Clone)]
pub struct SimHandle {
    pub vendor: Vendor,
    /// `http://127.0.0.1:PORT` (the vendor's own path prefix, if any, is not included).
    pub origin: String,
    pub control: Arc<SimControl>,
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// All five simulators over one world.
#[derive(Debug, Clone)]
pub struct Simulators {
    /// The world they serve (tests compare vendor answers with it).
    pub world: Arc<World>,
    pub vtrack: SimHandle,
    pub procarrier: SimHandle,
    pub rrr: SimHandle,
    pub merchantpro: SimHandle,
    pub trackru: SimHandle,
}

impl Simulators {
    pub fn all(&self) -> [&SimHandle; 5] {
        [
            &self.vtrack,
            &self.procarrier,
            &self.rrr,
            &self.merchantpro,
            &self.trackru,
        ]
    }

    /// Base URLs as each vendor's client expects them (with the vendor's path prefix).
    pub fn base_url(&self, vendor: Vendor) -> String {
        match vendor {
            Vendor::VTrack => self.vtrack.origin.clone(),
            Vendor::ProCarrier => format!("{}/api", self.procarrier.origin),
            Vendor::Rrr => self.rrr.origin.clone(),
            Vendor::MerchantPro => self.merchantpro.origin.clone(),
            Vendor::TrackRu => format!("{}/v1", self.trackru.origin),
        }
    }

    /// Points vendor settings (`[vendors]`) at these simulators.
    pub fn wire_into(&self, v: &mut VendorsSettings) {
        v.vtrack.base_url = self.base_url(Vendor::VTrack);
        v.procarrier.base_url = self.base_url(Vendor::ProCarrier);
        v.rrr.base_url = self.base_url(Vendor::Rrr);
        v.merchantpro.base_url = self.base_url(Vendor::MerchantPro);
        v.trackru.base_url = self.base_url(Vendor::TrackRu);
    }
}

/// A simulator's vendor API and its own admin endpoints (merged after the counting and fault
/// layers, so they are neither counted nor faulted).
fn router_for(
    vendor: Vendor,
    world: &Arc<World>,
    sim: &SimSettings,
    control: &Arc<SimControl>,
) -> (Router, Router) {
    let credentials = &sim.credentials;
    let api = match vendor {
        Vendor::VTrack => vtrack::router(world, credentials),
        Vendor::ProCarrier => return procarrier::router(world, credentials, &sim.webhooks),
        Vendor::Rrr => rrr::router(world, credentials),
        Vendor::MerchantPro => merchantpro::router(world, credentials, sim.merchantpro.error_shape),
        Vendor::TrackRu => trackru::router(world, credentials, control.clone()),
    };
    (api, Router::new())
}

/// Binds the five simulators on `sim.host` and their configured ports (or any free port with
/// `any_port`, as tests do), serves them in the background until `shutdown` resolves, and
/// returns where they are.
pub async fn start_all<S>(
    sim: &SimSettings,
    any_port: bool,
    shutdown: S,
) -> std::io::Result<Simulators>
where
    S: Future<Output = ()> + Send + 'static,
{
    let clock = sim
        .clock()
        .map_err(|reason| std::io::Error::new(std::io::ErrorKind::InvalidInput, reason))?;
    let world = Arc::new(World::generate(sim.seed, sim.returns, clock));
    let (tx, _) = tokio::sync::watch::channel(false);
    let port = |p: u16| if any_port { 0 } else { p };
    let mut handles = Vec::with_capacity(5);
    for vendor in Vendor::ALL {
        let (port, faults) = (port(sim.ports.of(vendor)), sim.faults.of(vendor).clone());
        let control = SimControl::new(vendor, faults, sim.seed);
        let (router, admin) = router_for(vendor, &world, sim, &control);
        let listener = TcpListener::bind((sim.host.as_str(), port))
            .await
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("{vendor} simulator on {}:{port}: {e}", sim.host),
                )
            })?;
        let origin = format!("http://{}", listener.local_addr()?);
        let app = instrument(router, control.clone()).merge(admin);
        let mut rx = tx.subscribe();
        tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|stop| *stop).await;
            };
            if let Err(e) = serve(listener, app, stop).await {
                tracing::error!(%vendor, error = %e, "simulator stopped");
            }
        });
        handles.push(SimHandle {
            vendor,
            origin,
            control,
        });
    }
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let mut it = handles.into_iter();
    let mut next = || it.next().expect("five simulators were started");
    Ok(Simulators {
        world,
        vtrack: next(),
        procarrier: next(),
        rrr: next(),
        merchantpro: next(),
        trackru: next(),
    })
}

//! The HTTP surface: `POST /graphql` (and `GET /graphql?query=…`), subscriptions over
//! graphql-ws on `GET /graphql` (WebSocket upgrade) and over graphql-sse on `POST /graphql`
//! (`Accept: text/event-stream`), GraphiQL for browsers on `GET /graphql` and
//! `GET /`, ProCarrier's webhooks, label downloads, health, readiness and metrics; and, with
//! `server.admin_listen`, a second listener for operators (metrics, readiness per tenant).

pub mod graphiql;
pub mod intake;
pub mod limits;
pub mod metrics;
pub mod process;
pub mod readiness;
pub mod serve;
pub mod sse;
pub mod webhooks;
pub mod websocket;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::BatchRequest;
use async_graphql_axum::GraphQLResponse;
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use tokio::net::TcpListener;

use crate::auth::{AuthError, Authenticator, Caller, Scope};
use crate::config::{ConfigError, ServerSettings, Settings, WebhookSettings};
use crate::events::ReturnEvents;
use crate::schema::mutation::IdempotencyKeyHeader;
use crate::schema::GatewaySchema;
use crate::service::labels::LabelError;
use crate::tenants::{Tenant, Tenants};
use limits::{Authenticated, RequestLimits};
use vendors::clock::Clock;
use vendors::ErrorCode;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Vendor(#[from] vendors::VendorError),
    #[error("cannot open the returns index: {0}")]
    Index(#[from] crate::index::StoreError),
    /// Every setting [`App::check`] refused, so a first run learns them all at once.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<StartError>),
}

/// The caller of a request, from its `Authorization` header.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, AuthError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    state.auth.authenticate(header).await
}

/// Why a request is not admitted: no valid token (401), or a token for a tenant this gateway
/// does not serve (403).
#[derive(Debug)]
enum Denial {
    Token(AuthError),
    Tenant(String),
}

impl IntoResponse for Denial {
    fn into_response(self) -> Response {
        match self {
            Denial::Token(error) => unauthorized(error),
            Denial::Tenant(tenant) => intake::Refusal {
                status: StatusCode::FORBIDDEN,
                code: ErrorCode::Forbidden,
                message: format!("tenant {tenant:?} is not served here"),
            }
            .into_response(),
        }
    }
}

/// The caller (authenticated once per request, before its rate limit) and its tenant.
fn admit(
    state: &AppState,
    Authenticated(caller): Authenticated,
) -> Result<(Caller, Arc<Tenant>), Denial> {
    let caller = caller.map_err(Denial::Token)?;
    match state.tenants.get(&caller.tenant).cloned() {
        Some(tenant) => Ok((caller, tenant)),
        None => Err(Denial::Tenant(caller.tenant)),
    }
}

/// 401, GraphQL-shaped, with the `WWW-Authenticate` challenge.
fn unauthorized(error: AuthError) -> Response {
    let mut response = intake::Refusal {
        status: StatusCode::UNAUTHORIZED,
        code: ErrorCode::Unauthenticated,
        message: error.to_string(),
    }
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// What every request handler shares.
pub struct AppState {
    pub schema: GatewaySchema,
    pub auth: Authenticator,
    pub persisted: intake::PersistedQueries,
    pub tenants: Tenants,
    pub events: Arc<ReturnEvents>,
    pub settings: ServerSettings,
    pub webhooks: WebhookSettings,
    /// Which refused webhooks get a log line (`webhooks.refusal_log_every_s`).
    pub webhook_refusals: crate::log_sampler::LogSampler<ErrorCode>,
    /// This gateway's own metrics (never the process-global recorder).
    pub metrics: metrics::Metrics,
    /// This gateway's own traces (never a process-global provider).
    pub telemetry: crate::telemetry::Telemetry,
    /// The open graphql-ws connections (`server.max_websockets`, `server.max_websockets_per_ip`).
    pub websockets: websocket::Connections,
    /// The last readiness check (`/readyz`).
    pub readiness: readiness::ReadinessCache,
    /// Shutdown: started when the gateway stops, awaited by [`App::run`].
    pub drain: serve::Drain,
    /// Rate limit, requests in flight, deadline and vendor call budget of every request.
    pub limits: RequestLimits,
    pub clock: Clock,
    /// Whether `run` starts the index's background sync (`sync.enabled`).
    pub sync_in_background: bool,
    /// What GraphiQL opens with (`server.graphiql`): nothing unless the demo says.
    pub graphiql: graphiql::GraphiqlPage,
}

/// The gateway, ready to serve.
pub struct App {
    state: Arc<AppState>,
}

impl App {
    /// The gateway on the system clock.
    pub async fn new(settings: &Settings) -> Result<App, StartError> {
        App::with_clock(settings, Clock::system()).await
    }

    /// Refuses `settings` as [`App::new`] would, without opening the index or listening: the
    /// keys to verify tokens with, the safelist, the vendor clients (what `check-config` and
    /// `serve` run first).
    pub fn check(settings: &Settings) -> Result<(), StartError> {
        let mut refused: Vec<StartError> = Vec::new();
        if let Err(e) = Authenticator::new(&settings.auth) {
            refused.push(e.into());
        }
        if let Err(e) = intake::PersistedQueries::new(&settings.server) {
            refused.push(e.into());
        }
        // The vendor clients refuse what they cannot call with (TrackRU without a key).
        let accounts = std::iter::once(&settings.vendors)
            .chain(settings.tenants.values().map(|tenant| &tenant.vendors));
        for vendors in accounts {
            if let Err(e) =
                crate::upstream::Upstreams::new(vendors, &settings.cache, Clock::system())
            {
                refused.push(e.into());
            }
        }
        match refused.len() {
            0 => Ok(()),
            1 => Err(refused.remove(0)),
            _ => Err(StartError::Several(refused)),
        }
    }

    /// The gateway reading the time from `clock` (tests run it at a fixed date, beside
    /// simulators on the same clock). Opens the returns index (running its migrations) and
    /// shows where an earlier run left each vendor's sync.
    pub async fn with_clock(settings: &Settings, clock: Clock) -> Result<App, StartError> {
        let auth = Authenticator::new(&settings.auth)?;
        let events = Arc::new(ReturnEvents::new(&settings.webhooks));
        let schema = crate::schema::build(events.clone(), &settings.server);
        let store = crate::index::open(&settings.index).await?;
        let tenants = Tenants::new(settings, &store, clock)?;
        for tenant in tenants.iter() {
            tenant.sync.load_status().await?;
        }
        let metrics = metrics::Metrics::new();
        metrics.watch(&tenants);
        let telemetry = crate::telemetry::Telemetry::new(&settings.telemetry)?;
        telemetry.watch(&tenants);
        Ok(App {
            state: Arc::new(AppState {
                schema,
                auth,
                persisted: intake::PersistedQueries::new(&settings.server)?,
                tenants,
                events,
                settings: settings.server.clone(),
                webhooks: settings.webhooks.clone(),
                webhook_refusals: crate::log_sampler::LogSampler::new(
                    std::time::Duration::from_secs(settings.webhooks.refusal_log_every_s),
                ),
                metrics,
                telemetry,
                websockets: websocket::Connections::new(&settings.server),
                readiness: readiness::ReadinessCache::new(Duration::from_millis(
                    settings.server.readiness_cache_ms,
                )),
                drain: serve::Drain::default(),
                limits: RequestLimits::new(&settings.server),
                clock,
                sync_in_background: settings.sync.enabled,
                graphiql: graphiql::GraphiqlPage::default(),
            }),
        })
    }

    /// GraphiQL opens with `page`'s tabs and token (the demo's). Before serving: the router
    /// shares the state from then on.
    pub fn with_graphiql(mut self, page: graphiql::GraphiqlPage) -> App {
        Arc::get_mut(&mut self.state)
            .expect("GraphiQL is set up before the gateway serves")
            .graphiql = page;
        self
    }

    /// The index's sync of every tenant, to run by hand (tests, and a gateway with
    /// `sync.enabled = false`).
    pub fn sync(&self) -> SyncControl {
        SyncControl(
            self.state
                .tenants
                .iter()
                .map(|t| (t.id.clone(), t.sync.clone()))
                .collect(),
        )
    }

    /// The public listener's routes; all but the probes within the inbound limits (see
    /// [`limits`]), which run inside the request id's layers so their refusals carry one too.
    /// `/metrics` is among the probes only without an admin listener (`server.admin_listen`
    /// empty), as before there was one: scrapers keep working.
    pub fn router(&self) -> Router {
        let state = &self.state;
        // The layer added last runs first: the rate limit, then admission.
        let limited = Router::new()
            .route("/", get(graphiql::page))
            .route(
                &format!("{}/{{name}}", graphiql::ASSETS_PATH),
                get(graphiql::asset),
            )
            .route("/graphql", get(graphql_get).post(graphql_post))
            .route(
                "/webhooks/procarrier/{tenant}",
                post(webhooks::procarrier_return_updated),
            )
            .route(
                "/labels/procarrier/{tracking_number}",
                get(procarrier_label),
            )
            .layer(from_fn_with_state(state.clone(), limits::admit))
            .layer(from_fn_with_state(state.clone(), limits::rate_limit));
        let mut probes = Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readiness::public));
        if state.settings.admin_listen.is_empty() {
            probes = probes.route("/metrics", get(prometheus));
        }
        crate::request_id::layers(limited.merge(probes)).with_state(state.clone())
    }

    /// The admin listener's routes: what names tenants.
    pub fn admin_router(&self) -> Router {
        let routes = Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/metrics", get(prometheus))
            .route("/readyz", get(readiness::detailed));
        crate::request_id::layers(routes).with_state(self.state.clone())
    }

    /// Serves on `listener`, and on `server.admin_listen` when set, until `shutdown` resolves;
    /// then drains (see [`serve`]).
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let admin = match self.state.settings.admin_listen.as_str() {
            "" => None,
            address => Some(TcpListener::bind(address).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("server.admin_listen {address}: {e}"))
            })?),
        };
        self.run_with_admin(listener, admin, shutdown).await
    }

    /// [`App::run`] on an admin listener bound by the caller (the test kit binds port 0 and
    /// needs to know which port it got). Keeps the metrics' histograms up to date meanwhile.
    pub async fn run_with_admin(
        self,
        listener: TcpListener,
        admin: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = &self.state;
        let settings = &state.settings;
        match &admin {
            Some(admin) => tracing::info!(
                address = %admin.local_addr()?,
                "admin listening (metrics, readiness per tenant)"
            ),
            None if state.tenants.iter().nth(1).is_some() => tracing::warn!(
                "/metrics is served on the public listener and its series name every tenant: \
                 set server.admin_listen to serve it apart"
            ),
            None => {}
        }
        // The index's sync, stopped (dropped) when serving ends.
        let mut sync = crate::index::sync::SyncTasks::default();
        if state.sync_in_background {
            for tenant in state.tenants.iter() {
                tenant.sync.spawn(&mut sync);
            }
        }
        let public = serve::accept(listener, self.router(), settings, state.drain.clone());
        let admin = async {
            match admin {
                Some(admin) => {
                    serve::accept(admin, self.admin_router(), settings, state.drain.clone()).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown => {}
            never = public => match never {},
            never = admin => match never {},
            never = state.metrics.upkeep() => match never {},
        }
        // The accept loops are dropped: the listeners are closed, nothing new comes in.
        tracing::info!(
            open = state.drain.open.len(),
            grace_s = settings.shutdown_grace_s,
            "shutting down: finishing the requests in flight"
        );
        let cut = state
            .drain
            .run(Duration::from_secs(settings.shutdown_grace_s))
            .await;
        if cut > 0 {
            tracing::warn!(cut, "grace period over: connections cut");
        } else {
            tracing::info!("every connection finished");
        }
        drop(sync);
        state.telemetry.shutdown().await;
        Ok(())
    }
}

impl AppState {
    /// Runs one checked GraphQL operation in its span, and counts and times it.
    pub(crate) async fn run_operation(
        &self,
        operation: &intake::Operation,
        request: async_graphql::Request,
    ) -> async_graphql::Response {
        self.observe(operation, self.schema.execute(request)).await
    }

    /// Runs `execution`, the execution of `operation` (a query or mutation), in the
    /// operation's span, and counts and times it.
    pub(crate) async fn observe(
        &self,
        operation: &intake::Operation,
        execution: impl std::future::Future<Output = async_graphql::Response>,
    ) -> async_graphql::Response {
        let started = std::time::Instant::now();
        let response = self.telemetry.operation(operation, execution).await;
        self.metrics
            .record_operation(operation.name.as_deref(), &response, started.elapsed());
        response
    }
}

/// Every tenant's sync, run by hand.
#[derive(Clone)]
pub struct SyncControl(Vec<(String, Arc<crate::index::sync::Syncer>)>);

impl SyncControl {
    /// One round of every vendor of every tenant now (the rest of any backfill, then one
    /// incremental read each), vendors concurrently; the first failure, if any.
    pub async fn tick_all(&self) -> Result<(), crate::index::sync::SyncError> {
        for (_, sync) in &self.0 {
            let rounds = vendors::model::Vendor::ALL.map(|v| sync.tick(v));
            for outcome in futures_util::future::join_all(rounds).await {
                outcome?;
            }
        }
        Ok(())
    }

    /// One round of `vendor` for `tenant` now.
    pub async fn tick(
        &self,
        tenant: &str,
        vendor: vendors::model::Vendor,
    ) -> Result<(), crate::index::sync::SyncError> {
        match self.0.iter().find(|(id, _)| id == tenant) {
            Some((_, sync)) => sync.tick(vendor).await,
            None => Ok(()),
        }
    }

    /// Every vendor's sync status of `tenant`.
    pub fn statuses(
        &self,
        tenant: &str,
    ) -> Vec<(vendors::model::Vendor, crate::index::VendorSync)> {
        self.0
            .iter()
            .filter(|(id, _)| id == tenant)
            .flat_map(|(_, sync)| {
                vendors::model::Vendor::ALL.map(|v| (v, sync.index().sync_board().get(v)))
            })
            .collect()
    }

    /// Resolves at the next change of any tenant's sync status.
    pub async fn changed(&self) {
        let waits = self
            .0
            .iter()
            .map(|(_, sync)| Box::pin(sync.index().sync_board().changed()));
        futures_util::future::select_all(waits).await;
    }

    /// Waits until every vendor of every tenant has finished its backfill or failed.
    pub async fn wait_settled(&self) {
        for (_, sync) in &self.0 {
            sync.index()
                .sync_board()
                .wait_settled(&vendors::model::Vendor::ALL)
                .await;
        }
    }
}

/// Per-request data: the caller, its tenant's service, the request's loaders, and the
/// idempotency key header.
fn prepare(
    headers: &HeaderMap,
    caller: &Caller,
    tenant: &Tenant,
    request: async_graphql::Request,
) -> async_graphql::Request {
    prepare_with_loaders(headers, caller, tenant, request, false)
}

/// [`prepare`], with loaders that keep nothing between reads when `fresh` (a stream's
/// operation lives long: every event's links are read anew, through the vendor cache).
fn prepare_with_loaders(
    headers: &HeaderMap,
    caller: &Caller,
    tenant: &Tenant,
    request: async_graphql::Request,
    fresh: bool,
) -> async_graphql::Request {
    let mut request = request
        .data(tenant.service.loaders(fresh))
        .data(caller.clone())
        .data(tenant.service.clone());
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        request = request.data(IdempotencyKeyHeader(key.to_owned()));
    }
    request
}

/// A GraphQL request (one, or a batch), or with `Accept: text/event-stream` a graphql-sse
/// stream (see [`sse`]).
async fn graphql_post(
    State(state): State<Arc<AppState>>,
    Extension(authenticated): Extension<Authenticated>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    if let Err(refusal) = intake::check_csrf(&headers) {
        return refusal.into_response();
    }
    let (caller, tenant) = match admit(&state, authenticated) {
        Ok(admitted) => admitted,
        Err(denial) => return denial.into_response(),
    };
    if sse::is_requested(&headers) {
        return sse::stream(state, caller, tenant, headers, &parts.extensions, body).await;
    }
    let mut batch = match intake::read_post(body, &state.settings).await {
        Ok(batch) => batch,
        Err(refusal) => return refusal.into_response(),
    };
    let requests: Vec<&mut async_graphql::Request> = match &mut batch {
        BatchRequest::Single(r) => vec![r],
        BatchRequest::Batch(rs) => rs.iter_mut().collect(),
    };
    for r in requests {
        if let Err(refusal) = state.persisted.resolve(r).await {
            return refusal.into_response();
        }
    }
    let operations = match intake::check_batch(&mut batch, &state.settings) {
        Ok(operations) => operations,
        Err(refusal) => return refusal.into_response(),
    };
    let response = match batch {
        BatchRequest::Single(r) => {
            let r = prepare(&headers, &caller, &tenant, r);
            async_graphql::BatchResponse::Single(state.run_operation(&operations[0], r).await)
        }
        // Concurrently and in order, as async-graphql runs a batch; each in its own span.
        BatchRequest::Batch(rs) => async_graphql::BatchResponse::Batch(
            rs.into_iter()
                .zip(&operations)
                .map(|(r, operation)| {
                    state.run_operation(operation, prepare(&headers, &caller, &tenant, r))
                })
                .collect::<futures_util::stream::FuturesOrdered<_>>()
                .collect::<Vec<_>>()
                .await,
        ),
    };
    GraphQLResponse::from(response).into_response()
}

/// `GET /labels/procarrier/{trackingNumber}`: the return's label document, as the vendor
/// produced it (see `service::labels`).
async fn procarrier_label(
    State(state): State<Arc<AppState>>,
    Extension(authenticated): Extension<Authenticated>,
    Path(tracking_number): Path<String>,
) -> Response {
    let tenant = match admit(&state, authenticated) {
        Ok((caller, tenant)) if caller.may(Scope::ReturnsRead) => tenant,
        Ok(_) => return (StatusCode::FORBIDDEN, "returns:read needed").into_response(),
        Err(denial) => return denial.into_response(),
    };
    match tenant.service.return_label(&tracking_number).await {
        Ok(label) => ([(header::CONTENT_TYPE, label.content_type)], label.bytes).into_response(),
        Err(LabelError::NotFound) => (StatusCode::NOT_FOUND, "no label").into_response(),
        Err(e) => {
            let code = e.code().map_or("", ErrorCode::as_str);
            (StatusCode::BAD_GATEWAY, code).into_response()
        }
    }
}

/// A WebSocket upgrade is a graphql-ws session (subscriptions); a browser (no `query`
/// parameter) gets GraphiQL; anything else is a GraphQL request, which must not be a mutation.
async fn graphql_get(
    State(state): State<Arc<AppState>>,
    Extension(authenticated): Extension<Authenticated>,
    request: axum::extract::Request,
) -> Response {
    let (mut parts, _) = request.into_parts();
    if websocket::is_upgrade(&parts.headers) {
        return websocket::upgrade(state, &mut parts).await;
    }
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let headers = parts.headers;
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if query.is_empty() && wants_html {
        return graphiql::page(State(state)).await;
    }
    let (caller, tenant) = match admit(&state, authenticated) {
        Ok(admitted) => admitted,
        Err(denial) => return denial.into_response(),
    };
    let mut request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(e) => {
            let refusal = intake::Refusal {
                status: StatusCode::BAD_REQUEST,
                code: ErrorCode::BadRequest,
                message: format!("not a GraphQL request: {e}"),
            };
            return refusal.into_response();
        }
    };
    if let Err(refusal) = state.persisted.resolve(&mut request).await {
        return refusal.into_response();
    }
    let operation = match intake::check(&mut request, &state.settings, intake::Transport::Get) {
        Ok(operation) => operation,
        Err(refusal) => return refusal.into_response(),
    };
    let request = prepare(&headers, &caller, &tenant, request);
    let response = state.run_operation(&operation, request).await;
    GraphQLResponse::from(response).into_response()
}

async fn prometheus(State(state): State<Arc<AppState>>) -> Response {
    let body = state.metrics.render(&state.tenants, &state.events);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

//! The HTTP surface: `POST /graphql` (and `GET /graphql?query=…`), GraphiQL for browsers on
//! `GET /graphql` and `GET /`, and `/healthz`.

pub mod intake;
pub mod metrics;

use std::future::Future;
use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use async_graphql::BatchRequest;
use async_graphql_axum::GraphQLResponse;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use tokio::net::TcpListener;

use crate::auth::{AuthError, Authenticator, Caller, Scope};
use crate::config::{ConfigError, ServerSettings, Settings};
use crate::idempotency::IdempotencyStore;
use crate::schema::loaders::Loaders;
use crate::schema::mutation::IdempotencyKeyHeader;
use crate::schema::GatewaySchema;
use crate::upstream::Upstreams;
use crate::vendors::procarrier::wire::ReturnLookup;
use crate::vendors::ApiErrorKind;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Vendor(#[from] crate::vendors::VendorError),
}

/// The caller of a request, from its `Authorization` header.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, AuthError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    state.auth.authenticate(header).await
}

/// 401, GraphQL-shaped, with the `WWW-Authenticate` challenge.
fn unauthorized(error: AuthError) -> Response {
    let mut response = intake::Refusal {
        status: StatusCode::UNAUTHORIZED,
        code: "UNAUTHENTICATED",
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
    pub upstreams: Arc<Upstreams>,
    pub settings: ServerSettings,
    pub operations: metrics::OperationCounters,
}

/// The gateway, ready to serve.
pub struct App {
    state: Arc<AppState>,
}

impl App {
    pub fn new(settings: &Settings) -> Result<App, StartError> {
        let auth = Authenticator::new(&settings.auth)?;
        let upstreams = Arc::new(Upstreams::new(settings)?);
        let idempotency = Arc::new(IdempotencyStore::new(&settings.idempotency));
        let schema = crate::schema::build(upstreams.clone(), idempotency, &settings.server);
        Ok(App {
            state: Arc::new(AppState {
                schema,
                auth,
                persisted: intake::PersistedQueries::new(&settings.server)?,
                upstreams,
                settings: settings.server.clone(),
                operations: metrics::OperationCounters::default(),
            }),
        })
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(graphiql))
            .route("/graphql", get(graphql_get).post(graphql_post))
            .route("/healthz", get(|| async { "ok" }))
            .route("/metrics", get(prometheus))
            .route("/readyz", get(readyz))
            .route(
                "/labels/procarrier/{tracking_number}",
                get(procarrier_label),
            )
            .with_state(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Per-request data: the loaders, and the idempotency key header.
fn prepare(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    request: async_graphql::Request,
) -> async_graphql::Request {
    let loaders = Loaders::new(&state.upstreams, state.settings.naive_resolution);
    let mut request = request.data(loaders).data(caller.clone());
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        request = request.data(IdempotencyKeyHeader(key.to_owned()));
    }
    request
}

async fn graphql_post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if let Err(refusal) = intake::check_csrf(&headers) {
        return refusal.into_response();
    }
    let caller = match authenticate(&state, &headers).await {
        Ok(caller) => caller,
        Err(error) => return unauthorized(error),
    };
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
    let names = match intake::check_batch(&mut batch, &state.settings) {
        Ok(names) => names,
        Err(refusal) => return refusal.into_response(),
    };
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(prepare(&state, &headers, &caller, r)),
        BatchRequest::Batch(rs) => BatchRequest::Batch(
            rs.into_iter()
                .map(|r| prepare(&state, &headers, &caller, r))
                .collect(),
        ),
    };
    let response = state.schema.execute_batch(batch).await;
    let responses: Vec<&async_graphql::Response> = match &response {
        async_graphql::BatchResponse::Single(r) => vec![r],
        async_graphql::BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    for (name, r) in names.iter().zip(responses) {
        state.operations.record(name.as_deref(), r);
    }
    GraphQLResponse::from(response).into_response()
}

/// `GET /labels/procarrier/{trackingNumber}`: the return's label document, as the vendor
/// produced it (fetched with `returns/get`, not cached: labels are read once).
async fn procarrier_label(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(tracking_number): Path<String>,
) -> Response {
    match authenticate(&state, &headers).await {
        Ok(caller) if caller.may(Scope::ReturnsRead) => {}
        Ok(_) => return (StatusCode::FORBIDDEN, "returns:read needed").into_response(),
        Err(error) => return unauthorized(error),
    }
    let lookup = ReturnLookup {
        value: tracking_number,
        field: "tracking".into(),
        label_format: Some("pdf".into()),
    };
    let record = match state.upstreams.procarrier.get_return(&lookup).await {
        Ok(record) => record,
        Err(e) => {
            let status = match e.api_error().map(|a| a.kind) {
                Some(ApiErrorKind::BadRequest | ApiErrorKind::NotFound) => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_GATEWAY,
            };
            return (status, e.code().as_str()).into_response();
        }
    };
    let Some(image) = record.label_image.filter(|i| !i.is_empty()) else {
        return (StatusCode::NOT_FOUND, "no label").into_response();
    };
    match base64::engine::general_purpose::STANDARD.decode(image.trim()) {
        Ok(document) => {
            let content_type = record
                .label_content_type
                .unwrap_or_else(|| "application/pdf".into());
            ([(header::CONTENT_TYPE, content_type)], document).into_response()
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "VENDOR_MALFORMED_RESPONSE").into_response(),
    }
}

/// A browser (no `query` parameter) gets GraphiQL; anything else is a GraphQL request, which
/// must not be a mutation.
async fn graphql_get(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if query.is_empty() && wants_html {
        return graphiql(State(state)).await;
    }
    let caller = match authenticate(&state, &headers).await {
        Ok(caller) => caller,
        Err(error) => return unauthorized(error),
    };
    let mut request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(e) => {
            let refusal = intake::Refusal {
                status: StatusCode::BAD_REQUEST,
                code: "BAD_REQUEST",
                message: format!("not a GraphQL request: {e}"),
            };
            return refusal.into_response();
        }
    };
    if let Err(refusal) = state.persisted.resolve(&mut request).await {
        return refusal.into_response();
    }
    let name = match intake::check(&mut request, &state.settings, true) {
        Ok(name) => name,
        Err(refusal) => return refusal.into_response(),
    };
    let request = prepare(&state, &headers, &caller, request);
    let response = state.schema.execute(request).await;
    state.operations.record(name.as_deref(), &response);
    GraphQLResponse::from(response).into_response()
}

/// Ready when ProCarrier's `check/available` answers and no vendor's breaker is open; the
/// body says which vendor is not (503 then). Configuration was validated at start-up.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let up = &state.upstreams;
    let procarrier = up.procarrier.check_available().await;
    let vendors: Vec<serde_json::Value> = crate::model::Vendor::ALL
        .into_iter()
        .map(|v| {
            let health = up.health(v);
            serde_json::json!({
                "vendor": v.as_str(),
                "breaker": format!("{:?}", up.breaker_state(v)).to_lowercase(),
                "consecutiveFailures": health.consecutive_failures,
            })
        })
        .collect();
    let breakers_closed = crate::model::Vendor::ALL
        .into_iter()
        .all(|v| up.breaker_state(v) != crate::vendors::BreakerState::Open);
    let ready = procarrier.is_ok() && breakers_closed;
    let body = serde_json::json!({
        "ready": ready,
        "procarrierAvailable": procarrier.is_ok(),
        "procarrierError": procarrier.err().map(|e| e.code().as_str()),
        "vendors": vendors,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn prometheus(State(state): State<Arc<AppState>>) -> Response {
    let body = metrics::render(&state.upstreams, &state.operations);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn graphiql(State(state): State<Arc<AppState>>) -> Response {
    if !state.settings.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("returns-gateway")
            .finish(),
    )
    .into_response()
}

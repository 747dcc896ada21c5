//! The HTTP surface: `POST /graphql` (and `GET /graphql?query=…`), GraphiQL for browsers on
//! `GET /graphql` and `GET /`, and `/healthz`.

pub mod intake;

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

use crate::config::{ServerSettings, Settings};
use crate::idempotency::IdempotencyStore;
use crate::schema::loaders::Loaders;
use crate::schema::mutation::IdempotencyKeyHeader;
use crate::schema::GatewaySchema;
use crate::upstream::Upstreams;
use crate::vendors::procarrier::wire::ReturnLookup;
use crate::vendors::ApiErrorKind;

/// What every request handler shares.
pub struct AppState {
    pub schema: GatewaySchema,
    pub upstreams: Arc<Upstreams>,
    pub settings: ServerSettings,
}

/// The gateway, ready to serve.
pub struct App {
    state: Arc<AppState>,
}

impl App {
    pub fn new(settings: &Settings) -> Result<App, crate::vendors::VendorError> {
        let upstreams = Arc::new(Upstreams::new(settings)?);
        let idempotency = Arc::new(IdempotencyStore::new(&settings.idempotency));
        let schema = crate::schema::build(upstreams.clone(), idempotency, &settings.server);
        Ok(App {
            state: Arc::new(AppState {
                schema,
                upstreams,
                settings: settings.server.clone(),
            }),
        })
    }

    pub fn upstreams(&self) -> &Arc<Upstreams> {
        &self.state.upstreams
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(graphiql))
            .route("/graphql", get(graphql_get).post(graphql_post))
            .route("/healthz", get(|| async { "ok" }))
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
    request: async_graphql::Request,
) -> async_graphql::Request {
    let loaders = Loaders::new(&state.upstreams, state.settings.naive_resolution);
    let mut request = request.data(loaders);
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
    let batch = match intake::read_post(body, &state.settings).await {
        Ok(batch) => batch,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(refusal) = intake::check_batch(&batch, &state.settings) {
        return refusal.into_response();
    }
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(prepare(&state, &headers, r)),
        BatchRequest::Batch(rs) => BatchRequest::Batch(
            rs.into_iter()
                .map(|r| prepare(&state, &headers, r))
                .collect(),
        ),
    };
    GraphQLResponse::from(state.schema.execute_batch(batch).await).into_response()
}

/// `GET /labels/procarrier/{trackingNumber}`: the return's label document, as the vendor
/// produced it (fetched with `returns/get`, not cached: labels are read once).
async fn procarrier_label(
    State(state): State<Arc<AppState>>,
    Path(tracking_number): Path<String>,
) -> Response {
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
    let request = match async_graphql::http::parse_query_string(&query) {
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
    if let Err(refusal) = intake::check(&request, &state.settings, true) {
        return refusal.into_response();
    }
    let request = prepare(&state, &headers, request);
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
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

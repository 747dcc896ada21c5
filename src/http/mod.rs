//! The HTTP surface: `POST /graphql` (and `GET /graphql?query=…`), GraphiQL for browsers on
//! `GET /graphql` and `GET /`, and `/healthz`.

use std::future::Future;
use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::schema::loaders::Loaders;
use crate::schema::GatewaySchema;
use crate::upstream::Upstreams;

/// What every request handler shares.
pub struct AppState {
    pub schema: GatewaySchema,
    pub upstreams: Arc<Upstreams>,
    pub graphiql: bool,
}

/// The gateway, ready to serve.
pub struct App {
    state: Arc<AppState>,
}

impl App {
    pub fn new(settings: &Settings) -> Result<App, crate::vendors::VendorError> {
        let upstreams = Arc::new(Upstreams::new(settings)?);
        let schema = crate::schema::build(upstreams.clone(), &settings.server);
        Ok(App {
            state: Arc::new(AppState {
                schema,
                upstreams,
                graphiql: settings.server.graphiql,
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

async fn execute(state: &AppState, request: GraphQLRequest) -> GraphQLResponse {
    let request = request.into_inner().data(Loaders::new(&state.upstreams));
    state.schema.execute(request).await.into()
}

async fn graphql_post(
    State(state): State<Arc<AppState>>,
    request: GraphQLRequest,
) -> GraphQLResponse {
    execute(&state, request).await
}

/// A browser (no `query` parameter) gets GraphiQL; anything else is a GraphQL request.
async fn graphql_get(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if query.as_deref().is_none_or(str::is_empty) && wants_html {
        return graphiql(State(state)).await;
    }
    match <GraphQLRequest as axum::extract::FromRequest<()>>::from_request(request, &()).await {
        Ok(request) => execute(&state, request).await.into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

async fn graphiql(State(state): State<Arc<AppState>>) -> Response {
    if !state.graphiql {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("returns-gateway")
            .finish(),
    )
    .into_response()
}

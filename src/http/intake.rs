//! What a GraphQL request must pass before it runs: CSRF-safe content type, body size, batch
//! size, no batched or GET mutations, and an alias limit (aliases multiply a query's work
//! beyond what depth and complexity see). Refusals are GraphQL-shaped JSON with a stable
//! `extensions.code`; nothing internal leaks.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{BatchRequest, ErrorExtensions, Pos, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::config::ServerSettings;

/// A request refused before it ran.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let code = self.code;
        let error = async_graphql::Error::new(self.message)
            .extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("retryable", false);
            })
            .into_server_error(Pos::default());
        let body = async_graphql::Response::from_errors(vec![error]);
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            json,
        )
            .into_response()
    }
}

/// Content types a browser sends cross-site without a preflight: a POST with one of them
/// runs only with a header a simple request cannot carry.
const SIMPLE_CONTENT_TYPES: [&str; 3] = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];
const PREFLIGHT_HEADERS: [&str; 2] = ["apollo-require-preflight", "x-apollo-operation-name"];

/// CSRF: a POST must be JSON (or carry a preflight-only header).
pub fn check_csrf(headers: &HeaderMap) -> Result<(), Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let simple = match &content_type {
        None => true,
        Some(ct) => SIMPLE_CONTENT_TYPES.contains(&ct.as_str()),
    };
    let preflighted = PREFLIGHT_HEADERS
        .iter()
        .any(|h| headers.get(*h).is_some_and(|v| !v.is_empty()));
    if simple && !preflighted {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "CSRF_REFUSED",
            "send `content-type: application/json` (or an `Apollo-Require-Preflight` header)",
        ));
    }
    Ok(())
}

/// Reads a POST body (JSON: one request or a batch) within the size limit.
pub async fn read_post(
    body: axum::body::Body,
    settings: &ServerSettings,
) -> Result<BatchRequest, Refusal> {
    let bytes = axum::body::to_bytes(body, settings.max_body_bytes)
        .await
        .map_err(|_| {
            Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_TOO_LARGE",
                format!("the body is over {} bytes", settings.max_body_bytes),
            )
        })?;
    serde_json::from_slice::<BatchRequest>(&bytes).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            format!("not a GraphQL request: {e}"),
        )
    })
}

/// The operation a request will run, if its document parses (a document that does not parse
/// is left for the executor, which reports it in the GraphQL way).
fn parsed(request: &Request) -> Option<ExecutableDocument> {
    async_graphql::parser::parse_query(&request.query).ok()
}

fn is_mutation(request: &Request, doc: &ExecutableDocument) -> bool {
    match &doc.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Mutation,
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops
                .get(name.as_str())
                .is_some_and(|op| op.node.ty == OperationType::Mutation),
            None => ops.values().any(|op| op.node.ty == OperationType::Mutation),
        },
    }
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(i) => count_aliases(&i.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

fn aliases(doc: &ExecutableDocument) -> usize {
    doc.operations
        .iter()
        .map(|(_, op)| count_aliases(&op.node.selection_set.node))
        .sum::<usize>()
        + doc
            .fragments
            .values()
            .map(|f| count_aliases(&f.node.selection_set.node))
            .sum::<usize>()
}

/// Checks one request; `via_get` refuses mutations (GET must be safe to repeat and cache).
pub fn check(request: &Request, settings: &ServerSettings, via_get: bool) -> Result<(), Refusal> {
    let Some(doc) = parsed(request) else {
        return Ok(());
    };
    if via_get && is_mutation(request, &doc) {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MUTATION_OVER_GET",
            "mutations must be sent with POST",
        ));
    }
    let n = aliases(&doc);
    if n > settings.max_aliases {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "TOO_MANY_ALIASES",
            format!(
                "the query has {n} aliases; at most {} are allowed",
                settings.max_aliases
            ),
        ));
    }
    Ok(())
}

/// Checks a batch: its size, no mutations in it, and each request.
pub fn check_batch(batch: &BatchRequest, settings: &ServerSettings) -> Result<(), Refusal> {
    match batch {
        BatchRequest::Single(r) => check(r, settings, false),
        BatchRequest::Batch(requests) => {
            if requests.len() > settings.max_batch {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "BATCH_TOO_LARGE",
                    format!(
                        "{} requests in one batch; at most {}",
                        requests.len(),
                        settings.max_batch
                    ),
                ));
            }
            for r in requests {
                if parsed(r).is_some_and(|doc| is_mutation(r, &doc)) {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        "MUTATION_IN_BATCH",
                        "mutations cannot be batched: send each on its own",
                    ));
                }
                check(r, settings, false)?;
            }
            Ok(())
        }
    }
}

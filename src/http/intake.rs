//! What a GraphQL request must pass before it runs: CSRF-safe content type, body size, batch
//! size, no batched or GET mutations, an alias limit (aliases multiply a query's work beyond
//! what depth and complexity see), and the complexity limit counted on the document as its
//! fragments expand, before async-graphql expands them (see `schema::complexity`). Refusals
//! are GraphQL-shaped JSON with a stable `extensions.code`; nothing internal leaks.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{BatchRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::config::ServerSettings;
use vendors::ErrorCode;

/// A request refused before it ran.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }
}

impl Refusal {
    /// The refusal as a GraphQL response (what a WebSocket operation receives).
    pub fn into_graphql(self) -> async_graphql::Response {
        let code = self.code;
        // Only the inbound limits' refusals pass: the same request may be sent again later.
        let retryable = matches!(
            code,
            ErrorCode::RateLimited | ErrorCode::Overloaded | ErrorCode::RequestTimeout
        );
        // No `locations`: a refusal is about the request, not a place in the document (a
        // default position would read as line 0, which GraphQL positions never are).
        let mut error = async_graphql::ServerError::new(self.message, None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", code.as_str());
        extensions.set("retryable", retryable);
        error.extensions = Some(extensions);
        async_graphql::Response::from_errors(vec![error])
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = self.into_graphql();
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        (status, [(header::CONTENT_TYPE, "application/json")], json).into_response()
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
            ErrorCode::CsrfRefused,
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
        .map_err(|e| unreadable_body(&e, settings.max_body_bytes))?;
    serde_json::from_slice::<BatchRequest>(&bytes).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!("not a GraphQL request: {e}"),
        )
    })
}

/// Why a request body could not be read: it stalled (`server.body_read_timeout_ms`, 408), or
/// it is over `limit` bytes (413).
pub fn unreadable_body(error: &axum::Error, limit: usize) -> Refusal {
    let mut causes = std::iter::successors(Some(error as &dyn std::error::Error), |e| e.source());
    if causes.any(|e| e.is::<tower_http::timeout::TimeoutError>()) {
        return Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestBodyTimeout,
            "the request body stalled",
        );
    }
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RequestTooLarge,
        format!("the body is over {limit} bytes"),
    )
}

fn is_mutation(operation_name: Option<&str>, doc: &ExecutableDocument) -> bool {
    match &doc.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Mutation,
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops
                .get(name)
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

/// The name an operation is counted under: the one the request names, else the document's.
fn operation_name(named: Option<String>, doc: &ExecutableDocument) -> Option<String> {
    named.or_else(|| match &doc.operations {
        DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            ops.keys().next().map(|n| n.to_string())
        }
        _ => None,
    })
}

/// The type of the operation the request runs (`None`: the document names no such operation,
/// which the executor reports).
fn operation_type(operation_name: Option<&str>, doc: &ExecutableDocument) -> Option<OperationType> {
    match &doc.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.get(name).map(|op| op.node.ty),
            None if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
            None => None,
        },
    }
}

/// How a request arrived: what it may run depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A plain POST: queries and mutations.
    Post,
    /// A GET: queries only (it must be safe to repeat and cache).
    Get,
    /// A stream (graphql-ws, graphql-sse): subscriptions too.
    Stream,
}

/// The operation a checked request runs: its name and type, for metrics and traces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operation {
    pub name: Option<String>,
    pub kind: Option<OperationType>,
}

impl Operation {
    /// A subscription: it streams for as long as its subscriber likes.
    pub fn is_subscription(&self) -> bool {
        self.kind == Some(OperationType::Subscription)
    }

    /// `query`, `mutation`, `subscription`, or `unknown` (a document that does not parse).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Some(OperationType::Query) => "query",
            Some(OperationType::Mutation) => "mutation",
            Some(OperationType::Subscription) => "subscription",
            None => "unknown",
        }
    }
}

/// Checks one request as it arrived over `transport` (a GET runs no mutation, a plain request
/// no subscription) and answers its operation, for metrics and traces. The document is parsed
/// here once and kept in the request, so execution does not parse it again; a document that
/// does not parse is left for the executor to report the GraphQL way.
pub fn check(
    request: &mut Request,
    settings: &ServerSettings,
    transport: Transport,
) -> Result<Operation, Refusal> {
    let named = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return Ok(Operation {
            name: named,
            kind: None,
        });
    };
    let kind = operation_type(named.as_deref(), doc);
    if transport == Transport::Get && is_mutation(named.as_deref(), doc) {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MutationOverGet,
            "mutations must be sent with POST",
        ));
    }
    if transport != Transport::Stream && kind == Some(OperationType::Subscription) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::SubscriptionNeedsStream,
            "a subscription needs a stream: POST it with `Accept: text/event-stream` \
             (graphql-sse) or send it over a WebSocket (graphql-ws)",
        ));
    }
    let n = aliases(doc);
    if n > settings.max_aliases {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::TooManyAliases,
            format!(
                "the query has {n} aliases; at most {} are allowed",
                settings.max_aliases
            ),
        ));
    }
    // Before async-graphql sees the document: it walks the expanded document, fragment by
    // fragment, before it compares anything with the limit.
    let fields = crate::schema::complexity::expansion(doc).fields;
    if fields > settings.max_complexity {
        // HTTP 200 and async-graphql's words, as when async-graphql refuses it itself.
        return Err(Refusal::new(
            StatusCode::OK,
            ErrorCode::QueryTooComplex,
            format!(
                "Query is too complex: {fields} fields once its fragments are expanded; at most {} are allowed",
                settings.max_complexity
            ),
        ));
    }
    Ok(Operation {
        name: operation_name(named, doc),
        kind,
    })
}

/// Checks a batch: its size, no mutations in it, and each request. Answers each request's
/// operation.
pub fn check_batch(
    batch: &mut BatchRequest,
    settings: &ServerSettings,
) -> Result<Vec<Operation>, Refusal> {
    match batch {
        BatchRequest::Single(r) => Ok(vec![check(r, settings, Transport::Post)?]),
        BatchRequest::Batch(requests) => {
            if requests.len() > settings.max_batch {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BatchTooLarge,
                    format!(
                        "{} requests in one batch; at most {}",
                        requests.len(),
                        settings.max_batch
                    ),
                ));
            }
            let mut names = Vec::with_capacity(requests.len());
            for r in requests.iter_mut() {
                let named = r.operation_name.clone();
                if r.parsed_query()
                    .is_ok_and(|doc| is_mutation(named.as_deref(), doc))
                {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::MutationInBatch,
                        "mutations cannot be batched: send each on its own",
                    ));
                }
                names.push(check(r, settings, Transport::Post)?);
            }
            Ok(names)
        }
    }
}

/// Automatic persisted queries (a document known by its SHA-256) and the optional safelist
/// of trusted documents. Hashes are resolved to documents before any other check, so a
/// hash-only request is checked like any other.
pub struct PersistedQueries {
    known: moka::future::Cache<String, std::sync::Arc<str>>,
    safelist: Option<std::collections::HashMap<String, String>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersistedQuery {
    version: i64,
    sha256_hash: String,
}

pub(crate) fn sha256_hex(text: impl AsRef<[u8]>) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PersistedQueries {
    pub fn new(settings: &ServerSettings) -> Result<Self, crate::config::ConfigError> {
        let safelist = match &settings.safelist_file {
            None => None,
            Some(path) => {
                let invalid = |reason: String| crate::config::ConfigError::Invalid {
                    key: "server.safelist_file".into(),
                    reason,
                };
                let text =
                    std::fs::read_to_string(path).map_err(|e| invalid(format!("{path}: {e}")))?;
                let list: std::collections::HashMap<String, String> =
                    serde_json::from_str(&text).map_err(|e| invalid(format!("{path}: {e}")))?;
                if let Some((hash, _)) = list
                    .iter()
                    .find(|(h, q)| sha256_hex(q) != h.to_ascii_lowercase())
                {
                    return Err(invalid(format!("{hash}: not the SHA-256 of its document")));
                }
                Some(
                    list.into_iter()
                        .map(|(h, q)| (h.to_ascii_lowercase(), q))
                        .collect(),
                )
            }
        };
        Ok(PersistedQueries {
            known: moka::future::Cache::new(settings.apq_cache_size.max(1)),
            safelist,
        })
    }

    /// Fills in the document of a hash-only request, remembers a new one, and in safelist mode
    /// refuses any document not on the list.
    pub async fn resolve(&self, request: &mut Request) -> Result<(), Refusal> {
        if let Some(value) = request.extensions.remove("persistedQuery") {
            let pq: PersistedQuery = async_graphql::from_value(value).map_err(|_| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    "invalid `persistedQuery` extension",
                )
            })?;
            if pq.version != 1 {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    "only version 1 of `persistedQuery` is supported",
                ));
            }
            let hash = pq.sha256_hash.to_ascii_lowercase();
            if request.query.is_empty() {
                let found = match &self.safelist {
                    Some(list) => list.get(&hash).map(|q| q.as_str().into()),
                    None => self.known.get(&hash).await,
                };
                match found {
                    Some(query) => request.query = query.to_string(),
                    // The message Apollo clients look for before sending the whole document.
                    None => {
                        return Err(Refusal::new(
                            StatusCode::OK,
                            ErrorCode::PersistedQueryNotFound,
                            "PersistedQueryNotFound",
                        ))
                    }
                }
            } else if sha256_hex(&request.query) != hash {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    "the `sha256Hash` is not the document's",
                ));
            } else if self.safelist.is_none() {
                self.known.insert(hash, request.query.as_str().into()).await;
            }
        }
        if let Some(list) = &self.safelist {
            if !list.contains_key(&sha256_hex(&request.query)) {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::PersistedQueryNotAllowed,
                    "only trusted documents run on this gateway",
                ));
            }
        }
        Ok(())
    }
}

//! `[server]`: where the gateway listens and what it lets a request do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the gateway listens and what it exposes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// `host:port`; port 0 picks a free one.
    pub listen: String,
    /// `host:port` of a second listener for operators: `/metrics` and the detailed `/readyz`
    /// (per tenant). Empty: none, and `/metrics` stays on `listen`.
    pub admin_listen: String,
    /// A client sends a request's headers within this long (counted from the connection's
    /// first byte, or from the previous response on a kept-alive connection), or the
    /// connection is closed: idle and half-open connections do not pile up.
    pub header_read_timeout_ms: u64,
    /// The longest wait for the next part of a request body, or 408.
    pub body_read_timeout_ms: u64,
    /// Open HTTP connections per listener at most; more are closed as soon as they are
    /// accepted. (A WebSocket counts against `max_websockets` once upgraded.)
    pub max_connections: usize,
    /// On SIGTERM or SIGINT, requests in flight get this long to finish before the process
    /// exits anyway.
    pub shutdown_grace_s: u64,
    /// `/readyz` asks the vendors at most this often (whatever the request rate) and answers
    /// from the last check in between.
    pub readiness_cache_ms: u64,
    /// Serve GraphiQL on `GET /` and `GET /graphql`. Off in production; the demo turns it on.
    pub graphiql: bool,
    /// Largest `first` a connection accepts.
    pub max_page_size: usize,
    /// Benchmarks only: resolve cross-links row by row (no batching, no prefetch), the
    /// baseline the N+1 benchmark compares against.
    pub naive_resolution: bool,
    /// Schema introspection (GraphiQL needs it). Off in production; the demo turns it on.
    pub introspection: bool,
    /// "Did you mean …" suggestions in validation errors. Off in production.
    pub suggestions: bool,
    /// Serve the graph as a federation v2 subgraph, for a supergraph router (Apollo Router,
    /// Hive Gateway, Cosmo) to compose: `_service { sdl }` (`schema.federation.graphql`),
    /// `_entities`, and `@key`s on `Return`, `Order`, `Customer` and `Shipment`
    /// (docs/federation.md). Off: the schema is exactly `schema.graphql`.
    pub federation: bool,
    pub max_depth: usize,
    /// Every selected field counts one, aliases included.
    pub max_complexity: usize,
    pub max_aliases: usize,
    /// Directives on one field.
    pub max_directives: usize,
    /// Nesting of lists, objects and fragments the parser accepts.
    pub max_recursive_depth: usize,
    /// Requests in one batch (mutations are never batched).
    pub max_batch: usize,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
    /// Automatic persisted queries: documents remembered by their SHA-256.
    pub apq_cache_size: u64,
    /// Safelist mode: a JSON object `{"<sha256 hex>": "<document>"}`; only these documents run.
    pub safelist_file: Option<String>,
    /// Open graphql-ws connections and graphql-sse streams at most; more get 503.
    pub max_websockets: usize,
    /// Open graphql-ws connections and graphql-sse streams from one client address (an IPv6
    /// client: its /64) at most; more get 429, so that one client cannot take every
    /// `max_websockets` slot.
    pub max_websockets_per_ip: usize,
    /// A WebSocket must be authenticated (a `connection_init` accepted) within this long from
    /// the upgrade, whatever else it sends meanwhile, or it is closed (4408).
    pub websocket_init_timeout_ms: u64,
    /// The largest WebSocket message (and frame); a larger one closes the connection (1009)
    /// unread: a frame from its header, a fragmented message as soon as its frames add up to
    /// more.
    pub max_websocket_message_bytes: usize,
    /// The largest message before the connection is authenticated (`connection_init` carries a
    /// token, nothing more); a larger one closes the connection (1009) before it is parsed.
    pub max_websocket_init_bytes: usize,
    /// Running `returnUpdated` subscriptions at most (all connections together).
    pub max_subscriptions: usize,
    /// Requests per second one client (a token's subject, else an address) may send on average;
    /// beyond, 429 with `Retry-After`. 0: no rate limit.
    pub rate_limit_per_client_per_s: u32,
    /// Requests a client may send at once when it has been idle (at least 1 while the limit is
    /// on).
    pub rate_limit_burst: u32,
    /// Requests in flight at most (probes and WebSocket upgrades aside); beyond, 503 at once.
    pub max_concurrent_requests: usize,
    /// A request's deadline: its vendor calls end before it, so the answer (partial if a vendor
    /// is slow) comes back in time; a request still running then gets 504.
    pub request_timeout_ms: u64,
    /// Vendor calls one HTTP request may make (every operation of a batch and every retry
    /// counted); further calls fail at once with `VENDOR_CALL_BUDGET_EXCEEDED`.
    pub max_vendor_calls_per_request: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: "127.0.0.1:4000".into(),
            admin_listen: String::new(),
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            max_connections: 512,
            shutdown_grace_s: 25,
            readiness_cache_ms: 5_000,
            graphiql: false,
            max_page_size: 100,
            naive_resolution: false,
            introspection: false,
            suggestions: false,
            federation: false,
            max_depth: 15,
            max_complexity: 500,
            max_aliases: 100,
            max_directives: 5,
            max_recursive_depth: 32,
            max_batch: 10,
            max_body_bytes: 2 * 1024 * 1024,
            apq_cache_size: 10_000,
            safelist_file: None,
            max_websockets: 10_000,
            max_websockets_per_ip: 100,
            websocket_init_timeout_ms: 10_000,
            max_websocket_message_bytes: 2 * 1024 * 1024,
            max_websocket_init_bytes: 16 * 1024,
            max_subscriptions: 10_000,
            rate_limit_per_client_per_s: 100,
            rate_limit_burst: 200,
            max_concurrent_requests: 256,
            request_timeout_ms: 30_000,
            max_vendor_calls_per_request: 200,
        }
    }
}

//! Stable error codes. Every error the gateway reports carries one of these as
//! `extensions.code` (GraphQL) or `error.code` (plain HTTP answers); clients match on them, so
//! they never change meaning once shipped. The vendor codes are what [`crate::VendorError`]
//! reports; the others belong to the gateway's own layers, listed here so every code is in one
//! place.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The vendor did not answer within the configured total timeout.
    VendorTimeout,
    /// The vendor could not be reached (connection refused, DNS, TLS).
    VendorUnreachable,
    /// HTTP 429: the vendor asks us to slow down (`Retry-After` kept).
    VendorRateLimited,
    /// An HTTP status the vendor's envelope did not explain.
    VendorHttpError,
    /// The body is not the JSON the vendor documents.
    VendorMalformedResponse,
    /// The connection closed before the whole body arrived.
    VendorTruncatedResponse,
    /// Credentials missing or wrong.
    VendorAuthFailed,
    /// ProCarrier `ipBlocked`: our address is blocked. Never retried.
    VendorIpBlocked,
    /// The credentials are valid but not allowed this call (ProCarrier `accessDenied`). Never retried.
    VendorAccessDenied,
    /// The vendor refused the request as invalid.
    VendorBadRequest,
    VendorNotFound,
    VendorAlreadyExists,
    /// The vendor reports an internal failure of its own.
    VendorInternalError,
    /// The vendor does not know the method we called.
    VendorUnknownCall,
    /// A vendor rejection with no more specific code.
    VendorRejected,
    /// A paginated listing did not end within its page budget.
    VendorPaginationRunaway,
    /// The request to the vendor could not be built or sent.
    VendorRequestFailed,
    /// Configuration is invalid.
    ConfigInvalid,
    /// The vendor's circuit breaker is open after repeated failures: the call was not made.
    VendorCircuitOpen,
    /// Too many calls to the vendor are in flight (bulkhead): the call was not made.
    VendorOverloaded,
    /// The request has made `server.max_vendor_calls_per_request` vendor calls: this one was
    /// not made.
    VendorCallBudgetExceeded,

    // ---- The gateway's own ----------------------------------------------------------------
    /// An argument is invalid (`extensions.field` names it); nothing was asked of any vendor.
    InvalidArgument,
    /// No valid token (missing, expired, wrong signature, issuer or audience).
    Unauthenticated,
    /// The token lacks the scope (or the tenant is not configured).
    Forbidden,
    /// An idempotency key was used before with other input.
    IdempotencyKeyReused,
    /// A state change the vendor would refuse (shipping a cancelled order, a second invoice).
    InvalidTransition,
    /// The gateway's limit of running subscriptions is reached.
    TooManySubscriptions,
    /// The gateway's limit of open WebSocket connections, in all or from one client address, is
    /// reached.
    TooManyConnections,
    /// A browser-sent request without a CSRF-safe content type or header.
    CsrfRefused,
    /// The request body is larger than allowed.
    RequestTooLarge,
    /// The request body stopped arriving for longer than allowed (HTTP 408).
    RequestBodyTimeout,
    /// The request is not a well-formed request of its kind.
    BadRequest,
    /// A mutation sent with GET.
    MutationOverGet,
    /// A subscription sent as a plain HTTP request: it needs a stream, graphql-sse (a POST with
    /// `Accept: text/event-stream`) or graphql-ws (a WebSocket).
    SubscriptionNeedsStream,
    /// More aliases than allowed in one operation.
    TooManyAliases,
    /// The document selects more fields than `server.max_complexity` allows, its fragments
    /// counted as often as they are spread.
    QueryTooComplex,
    /// More operations than allowed in one batch.
    BatchTooLarge,
    /// A mutation inside a batch (mutations are never batched).
    MutationInBatch,
    /// An automatic persisted query whose hash the gateway does not know (send the document).
    PersistedQueryNotFound,
    /// Safelist mode: the document is not on the list.
    PersistedQueryNotAllowed,
    /// A webhook without its signature header.
    SignatureMissing,
    /// A webhook whose signature does not verify (or names no configured tenant).
    SignatureInvalid,
    /// HTTP 429: this client sent more requests than its rate limit allows (`Retry-After` says
    /// when to try again).
    RateLimited,
    /// HTTP 503: the gateway has `server.max_concurrent_requests` requests in flight.
    Overloaded,
    /// HTTP 504: the request overran `server.request_timeout_ms`.
    RequestTimeout,
    /// The returns index could not be read or written (its store failed).
    IndexUnavailable,
    /// `fresh: true` past the tenant's budget of fresh vendor reads: the index's row was
    /// answered instead (`retryAfterSeconds` says when fresh reads are allowed again).
    FreshReadLimited,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::VendorTimeout => "VENDOR_TIMEOUT",
            ErrorCode::VendorUnreachable => "VENDOR_UNREACHABLE",
            ErrorCode::VendorRateLimited => "VENDOR_RATE_LIMITED",
            ErrorCode::VendorHttpError => "VENDOR_HTTP_ERROR",
            ErrorCode::VendorMalformedResponse => "VENDOR_MALFORMED_RESPONSE",
            ErrorCode::VendorTruncatedResponse => "VENDOR_TRUNCATED_RESPONSE",
            ErrorCode::VendorAuthFailed => "VENDOR_AUTH_FAILED",
            ErrorCode::VendorIpBlocked => "VENDOR_IP_BLOCKED",
            ErrorCode::VendorAccessDenied => "VENDOR_ACCESS_DENIED",
            ErrorCode::VendorBadRequest => "VENDOR_BAD_REQUEST",
            ErrorCode::VendorNotFound => "VENDOR_NOT_FOUND",
            ErrorCode::VendorAlreadyExists => "VENDOR_ALREADY_EXISTS",
            ErrorCode::VendorInternalError => "VENDOR_INTERNAL_ERROR",
            ErrorCode::VendorUnknownCall => "VENDOR_UNKNOWN_CALL",
            ErrorCode::VendorRejected => "VENDOR_REJECTED",
            ErrorCode::VendorPaginationRunaway => "VENDOR_PAGINATION_RUNAWAY",
            ErrorCode::VendorRequestFailed => "VENDOR_REQUEST_FAILED",
            ErrorCode::ConfigInvalid => "CONFIG_INVALID",
            ErrorCode::VendorCircuitOpen => "VENDOR_CIRCUIT_OPEN",
            ErrorCode::VendorOverloaded => "VENDOR_OVERLOADED",
            ErrorCode::VendorCallBudgetExceeded => "VENDOR_CALL_BUDGET_EXCEEDED",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            ErrorCode::InvalidTransition => "INVALID_TRANSITION",
            ErrorCode::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            ErrorCode::TooManyConnections => "TOO_MANY_CONNECTIONS",
            ErrorCode::CsrfRefused => "CSRF_REFUSED",
            ErrorCode::RequestTooLarge => "REQUEST_TOO_LARGE",
            ErrorCode::RequestBodyTimeout => "REQUEST_BODY_TIMEOUT",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::MutationOverGet => "MUTATION_OVER_GET",
            ErrorCode::SubscriptionNeedsStream => "SUBSCRIPTION_NEEDS_STREAM",
            ErrorCode::TooManyAliases => "TOO_MANY_ALIASES",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::BatchTooLarge => "BATCH_TOO_LARGE",
            ErrorCode::MutationInBatch => "MUTATION_IN_BATCH",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::PersistedQueryNotAllowed => "PERSISTED_QUERY_NOT_ALLOWED",
            ErrorCode::SignatureMissing => "SIGNATURE_MISSING",
            ErrorCode::SignatureInvalid => "SIGNATURE_INVALID",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Overloaded => "OVERLOADED",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::IndexUnavailable => "INDEX_UNAVAILABLE",
            ErrorCode::FreshReadLimited => "FRESH_READ_LIMITED",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

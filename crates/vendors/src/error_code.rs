//! Stable error codes. Every error the gateway reports carries one of these as
//! `extensions.code`; clients match on them, so they never change meaning once shipped.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

//! The plumbing every vendor client shares.
//!
//! Each vendor folder has `client.rs` (HTTP), `wire.rs` (serde types exactly as its doc) and
//! `mapping.rs` (wire → [`crate::model`]). Everything that is the same for all five — building
//! the HTTP client with its timeouts, sending, turning transport failures, 429s and bad bodies
//! into [`VendorError`], and walking paginated listings — is here, once.

use std::future::{Future, Ready};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use crate::escaped::Escaped;
pub use crate::model::Vendor;
use crate::resilience::{Admission, Resilience};
pub use crate::resilience::{BreakerState, RateLimitHold, Refusal};
use crate::settings::VendorHttp;
use crate::ErrorCode;

/// What kind of refusal a vendor's own error envelope expressed. Each vendor maps its raw codes
/// onto these in its `client.rs`; the raw code is kept in [`VendorError::Api::vendor_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiErrorKind {
    AuthFailed,
    IpBlocked,
    AccessDenied,
    BadRequest,
    NotFound,
    AlreadyExists,
    Internal,
    UnknownCall,
    RateLimited,
    Other,
}

/// A vendor's own error envelope, decoded: its raw code and message, and what it means to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ApiErrorKind,
    pub vendor_code: String,
    pub message: String,
}

/// Every way a vendor call can fail. The source error is kept, never flattened into a string.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("{vendor} {endpoint}: no answer within the timeout")]
    Timeout {
        vendor: Vendor,
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{vendor} {endpoint}: could not connect")]
    Unreachable {
        vendor: Vendor,
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{vendor} {endpoint}: rate limited (Retry-After {retry_after:?})")]
    RateLimited {
        vendor: Vendor,
        endpoint: &'static str,
        retry_after: Option<Duration>,
    },
    #[error("{vendor} {endpoint}: HTTP {status}")]
    HttpStatus {
        vendor: Vendor,
        endpoint: &'static str,
        status: StatusCode,
        /// The start of the body, for logs; never shown to API users.
        body_excerpt: String,
    },
    #[error("{vendor} {endpoint}: malformed response body")]
    Malformed {
        vendor: Vendor,
        endpoint: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{vendor} {endpoint}: response body cut short")]
    Truncated {
        vendor: Vendor,
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{vendor} {endpoint}: request could not be sent")]
    Request {
        vendor: Vendor,
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{vendor} {endpoint}: vendor error {}: {}", .error.vendor_code, .error.message)]
    Api {
        vendor: Vendor,
        endpoint: &'static str,
        error: ApiError,
    },
    #[error("{vendor} {endpoint}: pagination did not end after {pages} pages")]
    PaginationRunaway {
        vendor: Vendor,
        endpoint: &'static str,
        pages: usize,
    },
    #[error("{vendor}: invalid configuration: {reason}")]
    Config { vendor: Vendor, reason: String },
    #[error("{vendor} {endpoint}: circuit open after repeated failures (trial in {retry_in:?})")]
    CircuitOpen {
        vendor: Vendor,
        endpoint: &'static str,
        retry_in: Duration,
    },
    /// Held, not sent: the vendor refused our credentials a moment ago (see
    /// [`Refusal`]); reports that refusal's code.
    #[error(
        "{vendor} {endpoint}: not sent: our credentials were refused ({}); calls are held for another {} s",
        .refusal.message,
        .retry_in.as_millis().div_ceil(1000)
    )]
    RefusalLatched {
        vendor: Vendor,
        endpoint: &'static str,
        refusal: Refusal,
        retry_in: Duration,
    },
    /// Held, not sent: the vendor answered a 429 a moment ago (see [`RateLimitHold`]), and the
    /// hold outlasts this call's deadline.
    #[error(
        "{vendor} {endpoint}: not sent: the vendor rate-limited us (HTTP 429 to {}); calls are held for another {} s",
        .hold.endpoint,
        .retry_in.as_millis().div_ceil(1000)
    )]
    RateLimitHeld {
        vendor: Vendor,
        endpoint: &'static str,
        hold: RateLimitHold,
        retry_in: Duration,
    },
    #[error("{vendor} {endpoint}: too many calls in flight")]
    Overloaded {
        vendor: Vendor,
        endpoint: &'static str,
    },
    #[error("{vendor} {endpoint}: the deadline passed before the call")]
    Deadline {
        vendor: Vendor,
        endpoint: &'static str,
    },
    /// Not sent: the request it was for has made its budget of vendor calls (see
    /// [`crate::request_id::Limits`]).
    #[error("{vendor} {endpoint}: not sent: the request has made its budget of vendor calls")]
    CallBudgetExceeded {
        vendor: Vendor,
        endpoint: &'static str,
    },
    /// A write's failure as it was stored under the write's idempotency key, answered again
    /// to a repeat of the key (possibly after a restart): the original failure's code and
    /// message, which is all that is stored.
    #[error("{message}")]
    Replayed {
        vendor: Vendor,
        code: ErrorCode,
        message: String,
    },
}

/// A vendor failure in a form that can be stored and read back (see
/// [`VendorError::Replayed`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredFailure {
    pub vendor: Vendor,
    pub code: ErrorCode,
    pub message: String,
}

impl From<&VendorError> for StoredFailure {
    fn from(e: &VendorError) -> Self {
        StoredFailure {
            vendor: e.vendor(),
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<StoredFailure> for VendorError {
    fn from(f: StoredFailure) -> Self {
        VendorError::Replayed {
            vendor: f.vendor,
            code: f.code,
            message: f.message,
        }
    }
}

impl VendorError {
    pub fn vendor(&self) -> Vendor {
        match self {
            VendorError::Timeout { vendor, .. }
            | VendorError::Unreachable { vendor, .. }
            | VendorError::RateLimited { vendor, .. }
            | VendorError::HttpStatus { vendor, .. }
            | VendorError::Malformed { vendor, .. }
            | VendorError::Truncated { vendor, .. }
            | VendorError::Request { vendor, .. }
            | VendorError::Api { vendor, .. }
            | VendorError::PaginationRunaway { vendor, .. }
            | VendorError::Config { vendor, .. }
            | VendorError::CircuitOpen { vendor, .. }
            | VendorError::RefusalLatched { vendor, .. }
            | VendorError::RateLimitHeld { vendor, .. }
            | VendorError::Overloaded { vendor, .. }
            | VendorError::Deadline { vendor, .. }
            | VendorError::Replayed { vendor, .. }
            | VendorError::CallBudgetExceeded { vendor, .. } => *vendor,
        }
    }

    /// The stable code reported to API users.
    pub fn code(&self) -> ErrorCode {
        match self {
            VendorError::Timeout { .. } => ErrorCode::VendorTimeout,
            VendorError::Unreachable { .. } => ErrorCode::VendorUnreachable,
            VendorError::RateLimited { .. } => ErrorCode::VendorRateLimited,
            VendorError::HttpStatus { status, .. } => match *status {
                StatusCode::UNAUTHORIZED => ErrorCode::VendorAuthFailed,
                StatusCode::FORBIDDEN => ErrorCode::VendorAccessDenied,
                StatusCode::NOT_FOUND => ErrorCode::VendorNotFound,
                _ => ErrorCode::VendorHttpError,
            },
            VendorError::Malformed { .. } => ErrorCode::VendorMalformedResponse,
            VendorError::Truncated { .. } => ErrorCode::VendorTruncatedResponse,
            VendorError::Request { .. } => ErrorCode::VendorRequestFailed,
            VendorError::Api { error, .. } => match error.kind {
                ApiErrorKind::AuthFailed => ErrorCode::VendorAuthFailed,
                ApiErrorKind::IpBlocked => ErrorCode::VendorIpBlocked,
                ApiErrorKind::AccessDenied => ErrorCode::VendorAccessDenied,
                ApiErrorKind::BadRequest => ErrorCode::VendorBadRequest,
                ApiErrorKind::NotFound => ErrorCode::VendorNotFound,
                ApiErrorKind::AlreadyExists => ErrorCode::VendorAlreadyExists,
                ApiErrorKind::Internal => ErrorCode::VendorInternalError,
                ApiErrorKind::UnknownCall => ErrorCode::VendorUnknownCall,
                ApiErrorKind::RateLimited => ErrorCode::VendorRateLimited,
                ApiErrorKind::Other => ErrorCode::VendorRejected,
            },
            VendorError::PaginationRunaway { .. } => ErrorCode::VendorPaginationRunaway,
            VendorError::Config { .. } => ErrorCode::ConfigInvalid,
            VendorError::CircuitOpen { .. } => ErrorCode::VendorCircuitOpen,
            VendorError::RefusalLatched { refusal, .. } => refusal.code,
            VendorError::RateLimitHeld { .. } => ErrorCode::VendorRateLimited,
            VendorError::Overloaded { .. } => ErrorCode::VendorOverloaded,
            VendorError::Deadline { .. } => ErrorCode::VendorTimeout,
            VendorError::CallBudgetExceeded { .. } => ErrorCode::VendorCallBudgetExceeded,
            VendorError::Replayed { code, .. } => *code,
        }
    }

    /// Whether the same read may succeed if tried again. Refusals (auth, `ipBlocked`,
    /// `accessDenied`, bad request) never are: retrying them gets our address blocked.
    pub fn retryable(&self) -> bool {
        match self {
            VendorError::Timeout { .. }
            | VendorError::Unreachable { .. }
            | VendorError::RateLimited { .. }
            | VendorError::RateLimitHeld { .. }
            | VendorError::Truncated { .. }
            | VendorError::CircuitOpen { .. }
            | VendorError::Overloaded { .. }
            | VendorError::Deadline { .. } => true,
            VendorError::HttpStatus { status, .. } => status.is_server_error(),
            VendorError::Api { error, .. } => {
                matches!(
                    error.kind,
                    ApiErrorKind::Internal | ApiErrorKind::RateLimited
                )
            }
            VendorError::Malformed { .. }
            | VendorError::Request { .. }
            | VendorError::PaginationRunaway { .. }
            | VendorError::Config { .. }
            | VendorError::RefusalLatched { .. }
            | VendorError::Replayed { .. }
            | VendorError::CallBudgetExceeded { .. } => false,
        }
    }

    /// When a rate-limited call may be made again: the vendor's `Retry-After` (or our own rate
    /// limit's wait), or what is left of the hold after the vendor's 429.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            VendorError::RateLimited { retry_after, .. } => *retry_after,
            VendorError::RateLimitHeld { retry_in, .. } => Some(*retry_in),
            _ => None,
        }
    }

    /// What the vendor said when it refused our credentials (auth failed, access denied, IP
    /// blocked: in its envelope or as HTTP 401/403); `None` for any other failure, including a
    /// call held by an earlier refusal (so held calls never extend the latch).
    pub fn credential_refusal(&self) -> Option<String> {
        let refusal = matches!(
            self.code(),
            ErrorCode::VendorAuthFailed
                | ErrorCode::VendorAccessDenied
                | ErrorCode::VendorIpBlocked
        );
        match self {
            VendorError::Api { error, .. } if refusal => {
                Some(format!("{}: {}", error.vendor_code, error.message))
            }
            VendorError::HttpStatus { status, .. } if refusal => Some(format!("HTTP {status}")),
            _ => None,
        }
    }

    /// Whether this failure says the vendor is unwell (what the circuit breaker counts):
    /// no answer, a cut-off one, or an internal error. Refusals and rate limits are answers.
    pub fn vendor_unhealthy(&self) -> bool {
        match self {
            VendorError::Timeout { .. }
            | VendorError::Unreachable { .. }
            | VendorError::Truncated { .. }
            | VendorError::Deadline { .. } => true,
            VendorError::HttpStatus { status, .. } => status.is_server_error(),
            VendorError::Api { error, .. } => error.kind == ApiErrorKind::Internal,
            _ => false,
        }
    }

    /// The vendor's own error, when it sent one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            VendorError::Api { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A vendor's HTTP answer, read whole.
#[derive(Debug)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

/// The HTTP side of one vendor: base URL, timeouts, the reqwest client and the vendor's
/// [`resilience::Resilience`]. Clients build requests with [`Transport::request`] and send them
/// with [`Transport::call`] (writes: one attempt) or [`Transport::call_read`] (reads: retried
/// within the deadline); every transport failure gets its type here.
#[derive(Debug, Clone)]
pub struct Transport {
    vendor: Vendor,
    base_url: String,
    http: reqwest::Client,
    timeout: Duration,
    guard: Arc<Resilience>,
    metrics: Arc<crate::metrics::CallMetrics>,
    traces: Arc<crate::traces::CallTraces>,
    /// Endpoints whose 429 is about the one resource asked for, not our account: it holds no
    /// other call (see [`Transport::with_per_resource_429`]).
    per_resource_429: &'static [&'static str],
}

impl Transport {
    pub fn new(vendor: Vendor, settings: &VendorHttp) -> Result<Self, VendorError> {
        let base_url = settings.base_url.trim_end_matches('/').to_owned();
        if reqwest::Url::parse(&base_url).is_err() {
            return Err(VendorError::Config {
                vendor,
                reason: format!("base_url {base_url:?} is not a URL"),
            });
        }
        let timeout = Duration::from_millis(settings.timeout_ms);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .timeout(timeout)
            .user_agent(concat!("returns-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| VendorError::Config {
                vendor,
                reason: format!("HTTP client: {source}"),
            })?;
        Ok(Transport {
            vendor,
            base_url,
            http,
            timeout,
            guard: Arc::new(Resilience::new(settings)),
            metrics: Arc::new(crate::metrics::CallMetrics::new(vendor)),
            traces: Arc::default(),
            per_resource_429: &[],
        })
    }

    /// `endpoints` answer 429 about the one resource asked for (TrackRU's `realtime`: the same
    /// parcel at most once per two hours), not about our account: their 429s start no
    /// rate-limit hold, and other calls go on.
    pub fn with_per_resource_429(mut self, endpoints: &'static [&'static str]) -> Self {
        self.per_resource_429 = endpoints;
        self
    }

    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.guard.breaker_state()
    }

    /// The refusal of our credentials holding every call to this vendor now, if any.
    pub fn refusal(&self) -> Option<Refusal> {
        self.guard.refusal()
    }

    /// The hold after the vendor's last 429, while it lasts.
    pub fn rate_limit_hold(&self) -> Option<RateLimitHold> {
        self.guard.rate_limit_hold()
    }

    /// Records this transport's calls from now on into `recorder`, for `tenant` (see
    /// [`crate::metrics::CallMetrics::report_to`]).
    pub fn report_metrics_to(
        &self,
        recorder: Arc<dyn metrics::Recorder + Send + Sync>,
        tenant: &str,
    ) -> bool {
        self.metrics.report_to(recorder, tenant)
    }

    /// Records a span per call (made for a request) with a tracer of `provider` from now on
    /// (see [`crate::traces`]).
    pub fn report_traces_to<P>(&self, provider: &P) -> bool
    where
        P: opentelemetry::trace::TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static,
    {
        self.traces.report_to(provider)
    }

    /// A request to `path` (starting with `/`) under the base URL.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.base_url, path))
    }

    /// One guarded attempt, within the vendor's timeout, reading the whole body. A 429
    /// becomes [`VendorError::RateLimited`]; any other status is returned for the vendor's
    /// client to read its own error envelope first.
    pub async fn send(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
    ) -> Result<RawResponse, VendorError> {
        self.attempt(endpoint, request, self.deadline()).await
    }

    /// When a call starting now must have ended: after the vendor's timeout, or at the deadline
    /// of the request it is made for when that comes first.
    fn deadline(&self) -> Instant {
        let own = Instant::now() + self.timeout;
        crate::request_id::deadline().map_or(own, |request| request.min(own))
    }

    /// Fails when a refusal of our credentials holds every call.
    fn not_held(&self, endpoint: &'static str) -> Result<(), VendorError> {
        match self.guard.refusal() {
            Some(refusal) => Err(VendorError::RefusalLatched {
                vendor: self.vendor,
                endpoint,
                retry_in: refusal.remaining(),
                refusal,
            }),
            None => Ok(()),
        }
    }

    /// Holds every call after the vendor answered `endpoint` with a 429 (or its envelope said
    /// "rate limited") asking us to wait `asked`.
    fn hold_after_429(&self, endpoint: &'static str, asked: Option<Duration>) {
        if self.per_resource_429.contains(&endpoint) {
            return;
        }
        // One line when a hold begins, not one per 429 of the calls that were in flight.
        let held_before = self.guard.rate_limit_hold().is_some();
        let hold = self.guard.hold_after_429(endpoint, asked);
        if let Some(hold) = hold.filter(|_| !held_before) {
            tracing::warn!(
                vendor = %self.vendor,
                endpoint,
                retry_after_s = asked.map(|a| a.as_secs()),
                held_ms = hold.remaining().as_millis() as u64,
                "rate limited by the vendor: calls are held"
            );
        }
    }

    fn rate_limit_held(&self, endpoint: &'static str, hold: RateLimitHold) -> VendorError {
        VendorError::RateLimitHeld {
            vendor: self.vendor,
            endpoint,
            retry_in: hold.remaining(),
            hold,
        }
    }

    /// Unless a refusal of our credentials holds calls, the deadline has passed or the request's
    /// budget of vendor calls is spent, waits for the end of a rate-limit hold, for the rate
    /// limit and a bulkhead permit, asks the breaker, sends, and tells the breaker how it went.
    /// Nothing waits past `deadline`.
    async fn attempt(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
        deadline: Instant,
    ) -> Result<RawResponse, VendorError> {
        let vendor = self.vendor;
        self.not_held(endpoint)?;
        // A call past its request's deadline is not made, and the breaker hears nothing of it.
        if Instant::now() >= deadline {
            return Err(VendorError::Deadline { vendor, endpoint });
        }
        if !crate::request_id::take_vendor_call() {
            return Err(VendorError::CallBudgetExceeded { vendor, endpoint });
        }
        if let Err(hold) = self.guard.wait_out_rate_limit_hold(deadline).await {
            return Err(self.rate_limit_held(endpoint, hold));
        }
        if let Err(wait) = self.guard.rate_pace(endpoint, deadline).await {
            return Err(VendorError::RateLimited {
                vendor,
                endpoint,
                retry_after: Some(wait),
            });
        }
        let permit = tokio::time::timeout_at(deadline.into(), self.guard.permits.acquire())
            .await
            .map_err(|_| VendorError::Overloaded { vendor, endpoint })?
            .map_err(|_| VendorError::Overloaded { vendor, endpoint })?;
        // A refusal, or a 429 and its hold, may have landed while this call waited.
        self.not_held(endpoint)?;
        if let Some(hold) = self.guard.rate_limit_hold() {
            return Err(self.rate_limit_held(endpoint, hold));
        }
        let admitted = match self.guard.admit() {
            Admission::Go(admitted) => admitted,
            Admission::Refused(retry_in) => {
                return Err(VendorError::CircuitOpen {
                    vendor,
                    endpoint,
                    retry_in,
                })
            }
        };
        self.guard.earn_budget();
        let started = Instant::now();
        let remaining = deadline.saturating_duration_since(started);
        let outcome = if remaining.is_zero() {
            Err(VendorError::Deadline { vendor, endpoint })
        } else {
            self.send_once(endpoint, request.timeout(remaining)).await
        };
        drop(permit);
        let label = match &outcome {
            Ok(raw) if raw.status.is_server_error() => ErrorCode::VendorHttpError.as_str(),
            Ok(_) => "ok",
            Err(e) => e.code().as_str(),
        };
        self.metrics.record(endpoint, label, started.elapsed());
        admitted.record(match &outcome {
            Ok(raw) => raw.status.is_server_error(),
            Err(e) => e.vendor_unhealthy(),
        });
        outcome
    }

    /// Sends the request once, with the request id and trace context, in the call's span.
    async fn send_once(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
    ) -> Result<RawResponse, VendorError> {
        let vendor = self.vendor;
        let (client, built) = request.build_split();
        let mut built = built.map_err(|source| VendorError::Request {
            vendor,
            endpoint,
            source,
        })?;
        let span = self
            .traces
            .start(vendor, endpoint, built.method().as_str(), built.url());
        let headers = built.headers_mut();
        if let Some(context) = &span.context {
            let traceparent = crate::traces::traceparent(context);
            if let Ok(value) = traceparent.parse() {
                headers.insert(crate::traces::TRACEPARENT, value);
            }
            let state = context.trace_state().header();
            if let (false, Ok(value)) = (state.is_empty(), state.parse()) {
                headers.insert(crate::traces::TRACESTATE, value);
            }
        }
        let request_id = crate::request_id::current();
        if let Some(value) = request_id.as_deref().and_then(|id| id.parse().ok()) {
            headers.insert(crate::request_id::HEADER, value);
        }
        let outcome = self
            .send_built(endpoint, client, built, request_id.as_deref())
            .await;
        match &outcome {
            Ok(raw) => span.end(
                Some(raw.status.as_u16()),
                raw.status
                    .is_server_error()
                    .then_some(ErrorCode::VendorHttpError.as_str()),
            ),
            Err(e) => span.end(None, Some(e.code().as_str())),
        }
        outcome
    }

    /// [`Transport::send_once`]'s exchange: sends, reads the whole answer, types the failures.
    async fn send_built(
        &self,
        endpoint: &'static str,
        client: reqwest::Client,
        request: reqwest::Request,
        request_id: Option<&str>,
    ) -> Result<RawResponse, VendorError> {
        let vendor = self.vendor;
        let response = client.execute(request).await.map_err(|source| {
            if source.is_timeout() {
                VendorError::Timeout {
                    vendor,
                    endpoint,
                    source,
                }
            } else if source.is_connect() {
                VendorError::Unreachable {
                    vendor,
                    endpoint,
                    source,
                }
            } else {
                VendorError::Request {
                    vendor,
                    endpoint,
                    source,
                }
            }
        })?;
        let status = response.status();
        tracing::debug!(
            %vendor,
            endpoint,
            request_id = request_id.unwrap_or("-"),
            status = status.as_u16(),
            "vendor answered"
        );
        let headers = response.headers().clone();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let asked = retry_after(&headers);
            self.hold_after_429(endpoint, asked);
            return Err(VendorError::RateLimited {
                vendor,
                endpoint,
                retry_after: asked,
            });
        }
        let body = response.bytes().await.map_err(|source| {
            if source.is_timeout() {
                VendorError::Timeout {
                    vendor,
                    endpoint,
                    source,
                }
            } else {
                VendorError::Truncated {
                    vendor,
                    endpoint,
                    source,
                }
            }
        })?;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// A write: one attempt, never repeated automatically. Then decodes the answer: first the
    /// vendor's error envelope (`api_error` sees every answer, since some vendors report errors
    /// with HTTP 200), then the HTTP status, then the success body as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
        api_error: impl Fn(StatusCode, &[u8]) -> Option<ApiError>,
    ) -> Result<T, VendorError> {
        let raw = self.send(endpoint, request).await?;
        self.read_answer(endpoint, &raw, api_error)
    }

    /// A read: like [`Transport::call`], but a failure that may pass (see
    /// [`VendorError::retryable`]) is retried with backoff while the deadline, the retry
    /// budget and `read_retries` allow. A request whose body cannot be replayed (a multipart
    /// stream) is sent once.
    pub async fn call_read<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        mut request: RequestBuilder,
        api_error: impl Fn(StatusCode, &[u8]) -> Option<ApiError>,
    ) -> Result<T, VendorError> {
        let deadline = self.deadline();
        let mut retries = 0;
        loop {
            let spare = request.try_clone();
            // Boxed: a read's future nests several vendors' deep; on the heap it keeps the
            // polling stack small (debug builds overflowed the test threads' 2 MiB).
            let outcome = match Box::pin(self.attempt(endpoint, request, deadline)).await {
                Ok(raw) => self.read_answer(endpoint, &raw, &api_error),
                Err(e) => Err(e),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            let wait = error
                .retry_after()
                .unwrap_or_else(|| self.guard.backoff(retries + 1));
            // Checked: a `Retry-After` is the vendor's number, as large as it likes.
            let may_retry = error.retryable()
                && !matches!(error, VendorError::CircuitOpen { .. })
                && retries < self.guard.read_retries
                && Instant::now()
                    .checked_add(wait)
                    .is_some_and(|at| at < deadline);
            match spare {
                Some(next) if may_retry && self.guard.spend_budget() => {
                    tracing::debug!(
                        vendor = %self.vendor,
                        endpoint,
                        error = %Escaped(&error),
                        ?wait,
                        "retrying read"
                    );
                    tokio::time::sleep(wait).await;
                    retries += 1;
                    request = next;
                }
                _ => return Err(error),
            }
        }
    }

    /// [`Transport::decode`], latching a refusal of our credentials (see [`Refusal`]) and
    /// holding calls when the vendor's envelope says "rate limited" (see [`RateLimitHold`]).
    fn read_answer<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        raw: &RawResponse,
        api_error: impl Fn(StatusCode, &[u8]) -> Option<ApiError>,
    ) -> Result<T, VendorError> {
        let answer = self.decode(endpoint, raw, api_error);
        if let Err(error) = &answer {
            if error
                .api_error()
                .is_some_and(|e| e.kind == ApiErrorKind::RateLimited)
            {
                self.hold_after_429(endpoint, retry_after(&raw.headers));
            }
            if let Some(said) = error.credential_refusal() {
                tracing::warn!(
                    vendor = %self.vendor,
                    endpoint,
                    error = %Escaped(error),
                    "credentials refused: calls to the vendor are held"
                );
                self.guard.latch_refusal(error.code(), said);
            }
        }
        answer
    }

    /// The decoding half of [`Transport::call`], for clients that need the raw answer too.
    pub fn decode<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        raw: &RawResponse,
        api_error: impl Fn(StatusCode, &[u8]) -> Option<ApiError>,
    ) -> Result<T, VendorError> {
        let vendor = self.vendor;
        if let Some(error) = api_error(raw.status, &raw.body) {
            return Err(VendorError::Api {
                vendor,
                endpoint,
                error,
            });
        }
        if !raw.status.is_success() {
            return Err(VendorError::HttpStatus {
                vendor,
                endpoint,
                status: raw.status,
                body_excerpt: String::from_utf8_lossy(&raw.body[..raw.body.len().min(512)])
                    .into_owned(),
            });
        }
        serde_json::from_slice(&raw.body).map_err(|source| VendorError::Malformed {
            vendor,
            endpoint,
            source,
        })
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// One page of a paginated listing and where the next one starts (`None`: this was the last).
pub struct Page<C, T> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

/// Reads every page of a listing, in order, each exactly once, and collects them. `fetch` gets
/// the cursor of the page to read (offset, page number or last id, as the vendor paginates) and
/// says where the next page starts. A listing longer than `max_pages` is an error, not a silent
/// cut.
pub async fn collect_pages<C, T, F, Fut>(
    vendor: Vendor,
    endpoint: &'static str,
    first: C,
    max_pages: usize,
    fetch: F,
) -> Result<Vec<T>, VendorError>
where
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<C, T>, VendorError>>,
{
    let mut items = Vec::new();
    for_each_page(
        vendor,
        endpoint,
        first,
        max_pages,
        fetch,
        into_vec(&mut items),
    )
    .await?;
    Ok(items)
}

/// Reads the pages as [`collect_pages`] does, but hands each to `deliver` as it arrives, so a
/// long listing is never held whole (the index's sync writes page by page). `deliver` can stop
/// the reading early with [`ControlFlow::Break`] (its receiver has gone).
pub async fn for_each_page<C, T, F, Fut, D, DFut>(
    vendor: Vendor,
    endpoint: &'static str,
    first: C,
    max_pages: usize,
    mut fetch: F,
    mut deliver: D,
) -> Result<(), VendorError>
where
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<C, T>, VendorError>>,
    D: FnMut(Vec<T>) -> DFut,
    DFut: Future<Output = ControlFlow<()>>,
{
    let mut cursor = Some(first);
    let mut pages = 0;
    while let Some(at) = cursor {
        if pages == max_pages {
            return Err(VendorError::PaginationRunaway {
                vendor,
                endpoint,
                pages,
            });
        }
        let page = fetch(at).await?;
        pages += 1;
        cursor = page.next;
        if deliver(page.items).await.is_break() {
            break;
        }
    }
    Ok(())
}

/// A page receiver for [`for_each_page`] that appends every page to `all`.
pub fn into_vec<T>(all: &mut Vec<T>) -> impl FnMut(Vec<T>) -> Ready<ControlFlow<()>> + '_ {
    |page| {
        all.extend(page);
        std::future::ready(ControlFlow::Continue(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_are_read_in_order_until_the_last() {
        let data: Vec<u32> = (0..250).collect();
        let got = collect_pages(Vendor::MerchantPro, "test", 0usize, 10, |start| {
            let data = &data;
            async move {
                let end = (start + 100).min(data.len());
                Ok(Page {
                    items: data[start..end].to_vec(),
                    next: (end < data.len()).then_some(end),
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(got, data);
    }

    #[tokio::test]
    async fn a_listing_that_never_ends_is_an_error() {
        let err = collect_pages(Vendor::Rrr, "test", 1u32, 5, |page| async move {
            Ok(Page {
                items: vec![page],
                next: Some(page + 1),
            })
        })
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::VendorPaginationRunaway);
    }

    /// A transport to an address nothing listens on (port 1): a call that were sent would fail
    /// with `VENDOR_UNREACHABLE`.
    fn unreachable() -> Transport {
        let settings = VendorHttp {
            base_url: "http://127.0.0.1:1".into(),
            connect_timeout_ms: 1000,
            timeout_ms: 60_000,
            resilience: Default::default(),
        };
        Transport::new(Vendor::ProCarrier, &settings).unwrap()
    }

    #[tokio::test]
    async fn calls_past_the_requests_budget_or_deadline_are_not_made() {
        use crate::request_id::{limited, Limits};
        let transport = unreachable();
        let call = || transport.send("test", transport.request(Method::GET, "/"));
        let in_time = Instant::now() + Duration::from_secs(60);
        let codes = limited(Limits::new(in_time, 1), async {
            let first = call().await.unwrap_err().code();
            (first, call().await.unwrap_err().code())
        })
        .await;
        assert_eq!(
            codes,
            (
                ErrorCode::VendorUnreachable,
                ErrorCode::VendorCallBudgetExceeded
            )
        );
        let past = limited(Limits::new(Instant::now(), 1), call()).await;
        assert_eq!(past.unwrap_err().code(), ErrorCode::VendorTimeout);
        assert_eq!(
            transport.breaker_state(),
            BreakerState::Closed,
            "calls not made are no failures"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}

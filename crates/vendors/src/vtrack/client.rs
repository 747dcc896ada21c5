//! HTTP client for V-Track's one documented endpoint, the returns report.
//!
//! The report is slow (the vendor's own client waits up to 360 s, our default timeout), has no
//! filters and no pagination: one call returns every row. Callers should cache it long and
//! refresh it in the background rather than wait on it in a user's request.

use reqwest::{Method, StatusCode};

use super::mapping::{self, Report};
use super::wire::{self, ErrorBody};
use crate::settings::Secret;
use crate::settings::VTrackSettings;
use crate::{ApiError, ApiErrorKind, Transport, Vendor, VendorError};

/// Endpoint name in errors and metrics.
pub const ENDPOINT_RETURNS: &str = "statistics/returns";

/// HTTP status of an `{"error": "..."}` answer → what it means. The doc documents no error
/// answer at all; this is the shape the simulator uses (401 for wrong or missing credentials)
/// and our best guess at the real one. The raw status is kept as the `vendor_code`.
const ERROR_KINDS: &[(u16, ApiErrorKind)] = &[
    (400, ApiErrorKind::BadRequest),
    (401, ApiErrorKind::AuthFailed),
    (403, ApiErrorKind::AccessDenied),
    (404, ApiErrorKind::UnknownCall),
    (429, ApiErrorKind::RateLimited),
    (500, ApiErrorKind::Internal),
    (503, ApiErrorKind::Internal),
];

/// Reads V-Track's error body, `{"error": "..."}`, from any answer (also an HTTP 200, as PHP
/// services sometimes send). A success body has `rows` instead and gives `None`.
pub fn api_error(status: StatusCode, body: &[u8]) -> Option<ApiError> {
    let ErrorBody { error } = serde_json::from_slice(body).ok()?;
    let kind = ERROR_KINDS
        .iter()
        .find(|(code, _)| *code == status.as_u16())
        .map_or(ApiErrorKind::Other, |(_, kind)| *kind);
    Some(ApiError {
        kind,
        vendor_code: status.as_u16().to_string(),
        message: error,
    })
}

#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    username: String,
    api_key: Secret,
}

impl Client {
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn new(settings: &VTrackSettings) -> Result<Client, VendorError> {
        Ok(Client {
            transport: Transport::new(Vendor::VTrack, &settings.http())?,
            username: settings.username.clone(),
            api_key: settings.api_key.clone(),
        })
    }

    /// `POST /statistics/returns/json.php?f=returns`: the whole report, as the vendor sent it.
    /// Rows or entries that cannot be read come back as `Lenient::Unparsed`; a body that is
    /// not the report at all is [`VendorError::Malformed`].
    pub async fn returns(&self) -> Result<wire::ReturnsResponse, VendorError> {
        let mut request = self
            .transport
            .request(Method::POST, wire::RETURNS_PATH)
            .query(&[("f", wire::RETURNS_FUNCTION)]);
        // Empty credentials are not sent at all: the vendor then refuses with its own error,
        // which says more than a header with an empty value would.
        if !self.username.is_empty() {
            request = request.header(wire::HEADER_PUBLIC, &self.username);
        }
        if !self.api_key.is_empty() {
            request = request.bearer_auth(self.api_key.expose());
        }
        self.transport
            .call_read(ENDPOINT_RETURNS, request, api_error)
            .await
    }

    /// The report mapped into the unified model, with the number of rows and entries skipped
    /// because they could not be read (each logged with `tracing::warn!`).
    pub async fn report(&self) -> Result<Report, VendorError> {
        Ok(mapping::map_report(self.returns().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_map_by_status_row_by_row() {
        let body = br#"{"error":"Invalid credentials"}"#;
        let kind = |status: u16| {
            api_error(StatusCode::from_u16(status).expect("status"), body).map(|e| e.kind)
        };
        assert_eq!(kind(400), Some(ApiErrorKind::BadRequest));
        assert_eq!(kind(401), Some(ApiErrorKind::AuthFailed));
        assert_eq!(kind(403), Some(ApiErrorKind::AccessDenied));
        assert_eq!(kind(404), Some(ApiErrorKind::UnknownCall));
        assert_eq!(kind(429), Some(ApiErrorKind::RateLimited));
        assert_eq!(kind(500), Some(ApiErrorKind::Internal));
        assert_eq!(kind(503), Some(ApiErrorKind::Internal));
        assert_eq!(kind(200), Some(ApiErrorKind::Other));
        assert_eq!(kind(418), Some(ApiErrorKind::Other));
        let e = api_error(StatusCode::UNAUTHORIZED, body).expect("an error");
        assert_eq!(e.vendor_code, "401");
        assert_eq!(e.message, "Invalid credentials");
    }

    #[test]
    fn a_report_or_a_foreign_body_is_no_error_envelope() {
        assert_eq!(api_error(StatusCode::OK, br#"{"rows":[]}"#), None);
        assert_eq!(api_error(StatusCode::BAD_GATEWAY, b"<html>"), None);
    }
}

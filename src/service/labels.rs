//! Return labels: the document ProCarrier produced for a return, for `GET
//! /labels/procarrier/{trackingNumber}` (read fresh with `returns/get`, not cached: a label is
//! read once).

use std::sync::Arc;

use base64::Engine;
use vendors::{ApiErrorKind, ErrorCode, VendorError};

use super::returns::lookup;
use super::Service;

/// A label document, decoded.
#[derive(Debug, Clone)]
pub struct LabelDocument {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why no label could be served.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// ProCarrier knows no return with that tracking number, or it has no label.
    #[error("no label")]
    NotFound,
    #[error(transparent)]
    Vendor(Arc<VendorError>),
    /// The label is not the base64 the vendor documents.
    #[error("the label is not base64")]
    Malformed,
}

impl LabelError {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            LabelError::NotFound => None,
            LabelError::Vendor(e) => Some(e.code()),
            LabelError::Malformed => Some(ErrorCode::VendorMalformedResponse),
        }
    }
}

impl Service {
    /// The label of the ProCarrier return with `tracking_number`.
    pub async fn return_label(&self, tracking_number: &str) -> Result<LabelDocument, LabelError> {
        let record = match self
            .up
            .procarrier_return(&lookup("tracking", tracking_number, true))
            .await
        {
            Ok(record) => record,
            // ProCarrier answers an unknown number with `requestWrong`.
            Err(e)
                if e.api_error().is_some_and(|a| {
                    matches!(a.kind, ApiErrorKind::BadRequest | ApiErrorKind::NotFound)
                }) =>
            {
                return Err(LabelError::NotFound)
            }
            Err(e) => return Err(LabelError::Vendor(Arc::new(e))),
        };
        let image = record
            .label_image
            .filter(|i| !i.is_empty())
            .ok_or(LabelError::NotFound)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(image.trim())
            .map_err(|_| LabelError::Malformed)?;
        Ok(LabelDocument {
            content_type: record
                .label_content_type
                .unwrap_or_else(|| "application/pdf".into()),
            bytes,
        })
    }
}

//! Why a domain operation did not answer. Each kind has its stable code; the schema maps these
//! to GraphQL errors once (`schema::errors`), keeping the vendor's error as it came.

use std::sync::Arc;

use vendors::{ErrorCode, VendorError};

use crate::idempotency::{IdempotencyError, KeyReused};
use crate::index::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// An argument is invalid; nothing was asked of any vendor. `field` is its path as the
    /// caller wrote it (`input.products[0].quantity`).
    #[error("invalid argument `{field}`: {reason}")]
    InvalidArgument { field: String, reason: String },
    /// A change the vendor would refuse in the record's current state.
    #[error("{reason}")]
    InvalidTransition { field: &'static str, reason: String },
    #[error(transparent)]
    KeyReused(#[from] KeyReused),
    #[error(transparent)]
    Vendor(Arc<VendorError>),
    /// The returns index could not be read.
    #[error(transparent)]
    Index(Arc<StoreError>),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        ServiceError::InvalidArgument {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            ServiceError::InvalidTransition { .. } => ErrorCode::InvalidTransition,
            ServiceError::KeyReused(_) => ErrorCode::IdempotencyKeyReused,
            ServiceError::Vendor(e) => e.code(),
            ServiceError::Index(_) => ErrorCode::IndexUnavailable,
        }
    }
}

impl From<Arc<VendorError>> for ServiceError {
    fn from(e: Arc<VendorError>) -> Self {
        ServiceError::Vendor(e)
    }
}

impl From<IdempotencyError> for ServiceError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::KeyReused(k) => ServiceError::KeyReused(k),
            IdempotencyError::Store(s) => s.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "the returns index failed");
        ServiceError::Index(Arc::new(e))
    }
}

impl From<VendorError> for ServiceError {
    fn from(e: VendorError) -> Self {
        ServiceError::Vendor(Arc::new(e))
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

//! Errors as GraphQL reports them: a message and `extensions { code, vendor?, retryable,
//! retryAfterSeconds?, field? }` with a stable code. Vendor failures keep their type until this
//! point.

use std::fmt::Display;
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions};

use crate::auth::{Caller, Scope};
use crate::service::ServiceError;
use vendors::{ErrorCode, VendorError};

/// A vendor failure as a GraphQL error. The message names the vendor and endpoint, never a
/// credential or a vendor's body. A rate-limited call says when to try again, in whole seconds
/// rounded up (`retryAfterSeconds`).
pub fn vendor_error(error: &VendorError) -> async_graphql::Error {
    async_graphql::Error::new(error.to_string()).extend_with(|_, ext| {
        ext.set("code", error.code().as_str());
        ext.set("vendor", error.vendor().as_str());
        ext.set("retryable", error.retryable());
        if let Some(wait) = error.retry_after() {
            ext.set("retryAfterSeconds", wait.as_millis().div_ceil(1000) as u64);
        }
    })
}

/// A fresh read refused by the tenant's budget (the index's row was answered instead).
pub fn fresh_read_limited(retry_after: std::time::Duration) -> async_graphql::Error {
    async_graphql::Error::new(
        "fresh reads are capped per tenant: this answer is the index's; try `fresh` again later",
    )
    .extend_with(|_, ext| {
        ext.set("code", ErrorCode::FreshReadLimited.as_str());
        ext.set("retryable", true);
        ext.set(
            "retryAfterSeconds",
            retry_after.as_millis().div_ceil(1000) as u64,
        );
    })
}

/// A bad argument, named: nothing was asked of any vendor.
pub fn invalid_argument(field: &str, reason: impl Display) -> async_graphql::Error {
    async_graphql::Error::new(format!("invalid argument `{field}`: {reason}")).extend_with(
        |_, ext| {
            ext.set("code", ErrorCode::InvalidArgument.as_str());
            ext.set("field", field);
            ext.set("retryable", false);
        },
    )
}

/// A service error as GraphQL reports it. Use this, never `?` on a [`ServiceError`]:
/// async-graphql's blanket conversion would keep the message and drop the code.
pub fn service_error(error: ServiceError) -> async_graphql::Error {
    match error {
        ServiceError::InvalidArgument { field, reason } => invalid_argument(&field, reason),
        ServiceError::Vendor(e) => vendor_error(&e),
        // The store's own message stays in the log (it may name files and statements).
        ServiceError::Index(_) => async_graphql::Error::new(
            "the returns index cannot be read right now; try again shortly",
        )
        .extend_with(|_, ext| {
            ext.set("code", ErrorCode::IndexUnavailable.as_str());
            ext.set("retryable", true);
        }),
        other @ (ServiceError::InvalidTransition { .. } | ServiceError::KeyReused(_)) => {
            let code = other.code();
            let field = match &other {
                ServiceError::InvalidTransition { field, .. } => Some(*field),
                _ => None,
            };
            async_graphql::Error::new(other.to_string()).extend_with(|_, ext| {
                ext.set("code", code.as_str());
                if let Some(field) = field {
                    ext.set("field", field);
                }
                ext.set("retryable", false);
            })
        }
    }
}

/// A service answer for a field: its error with its code.
pub trait Answered<T> {
    fn answered(self) -> async_graphql::Result<T>;
    /// A vendor's failure nulls the field (reported at its path, the rest of the response is
    /// kept); other errors fail it.
    fn partial(self, ctx: &Context<'_>) -> async_graphql::Result<Option<T>>;
}

impl<T> Answered<T> for Result<T, ServiceError> {
    fn answered(self) -> async_graphql::Result<T> {
        self.map_err(service_error)
    }

    fn partial(self, ctx: &Context<'_>) -> async_graphql::Result<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(ServiceError::Vendor(e)) => {
                report_partial(ctx, &e);
                Ok(None)
            }
            Err(other) => Err(service_error(other)),
        }
    }
}

/// Adds a vendor failure to the response's `errors` at this field's path. Fields report vendor
/// failures this way and answer `null` (or what the other vendors gave) rather than returning
/// `Err`: async-graphql leaves a failed field out of `data` altogether, and a failed non-null
/// field would null its parent.
pub fn report_partial(ctx: &Context<'_>, error: &VendorError) {
    let server_error = vendor_error(error).into_server_error(ctx.item.pos);
    ctx.add_error(ctx.set_error_path(server_error));
}

/// The value, or `None` with the failure reported: a vendor-fed field answers `null` and the
/// response says why, while every other field keeps its data.
pub fn reported<T>(ctx: &Context<'_>, outcome: Result<T, Arc<VendorError>>) -> Option<T> {
    outcome.map_err(|e| report_partial(ctx, &e)).ok()
}

/// Reports every vendor failure at this field's path.
pub fn report_all(ctx: &Context<'_>, failures: &[Arc<VendorError>]) {
    for e in failures {
        report_partial(ctx, e);
    }
}

/// A missing scope: the caller's token does not grant it.
pub fn forbidden(scope: Scope) -> async_graphql::Error {
    async_graphql::Error::new(format!("this needs the `{}` scope", scope.as_str())).extend_with(
        |_, ext| {
            ext.set("code", ErrorCode::Forbidden.as_str());
            ext.set("scope", scope.as_str());
            ext.set("retryable", false);
        },
    )
}

/// The caller of this request (every request carries one; the HTTP layer adds it).
pub fn caller<'a>(ctx: &Context<'a>) -> Option<&'a Caller> {
    ctx.data_opt::<Caller>()
}

/// Whether the caller has `scope`; when not, the field's error is reported (the field then
/// answers `null`, the rest of the response is kept).
pub fn permitted(ctx: &Context<'_>, scope: Scope) -> bool {
    let ok = caller(ctx).is_some_and(|c| c.may(scope));
    if !ok {
        ctx.add_error(ctx.set_error_path(forbidden(scope).into_server_error(ctx.item.pos)));
    }
    ok
}

/// Top-level fields and mutations refuse a caller without the scope.
pub struct ScopeGuard(pub Scope);

impl async_graphql::Guard for ScopeGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        match caller(ctx) {
            Some(c) if c.may(self.0) => Ok(()),
            _ => Err(forbidden(self.0)),
        }
    }
}

//! HTTP client of the RRR order-returns API.
//!
//! Both calls are `POST`s whose form body carries `username`, `password` and `user_token`, sent
//! as `multipart/form-data` like the doc's PHP example (`CURLOPT_POSTFIELDS` with an array).
//! Every answer is the envelope `{"list", "msg", "status_code"}`; anything but `R200` is an
//! error, whatever the HTTP status, so the envelope is read before the status.

use std::future::Future;
use std::ops::ControlFlow;

use chrono::NaiveDate;
use reqwest::multipart::Form;
use reqwest::{Method, StatusCode};

use super::wire::{Credentials, OrderReturn, OrderReturnResponse, OrderReturnsQuery, Status};
use crate::settings::RrrSettings;
use crate::{
    for_each_page, into_vec, ApiError, ApiErrorKind, Page, Transport, Vendor, VendorError,
};

/// The success code of the envelope.
pub const OK_CODE: &str = "R200";

/// RRR's error codes and what they mean to us. The doc documents only `R200`; these are our
/// plausible guesses, in one table so a real RRR answer is mapped by editing this and nothing
/// else. The simulator answers `R400`, `R401`, `R404` (with that HTTP status) and `R405` (HTTP
/// 404 for an unknown path, 405 for a wrong method). Unlisted codes are `Other`, kept raw.
pub const ERROR_CODES: &[(&str, ApiErrorKind)] = &[
    // Bad `date_from`/`date_to` (not `Y-m-d`, or from after to), `page` below 1, bad id.
    ("R400", ApiErrorKind::BadRequest),
    // Missing or wrong `username` / `password` / `user_token`.
    ("R401", ApiErrorKind::AuthFailed),
    // Valid credentials without access to the returns API.
    ("R403", ApiErrorKind::AccessDenied),
    // No order return with that id.
    ("R404", ApiErrorKind::NotFound),
    // No such method (unknown path, or not a POST).
    ("R405", ApiErrorKind::UnknownCall),
    ("R429", ApiErrorKind::RateLimited),
    ("R500", ApiErrorKind::Internal),
];

/// Endpoint names, as they appear in errors and metrics.
const LIST: &str = "get/order_returns";
const GET: &str = "get/order_return";

/// Stops a listing that never comes back empty (RRR gives no page count to check against).
const MAX_PAGES: usize = 10_000;

/// What an `ApiErrorKind` an RRR `status_code` is (see [`ERROR_CODES`]).
pub fn error_kind(code: &str) -> ApiErrorKind {
    ERROR_CODES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code.trim()))
        .map_or(ApiErrorKind::Other, |(_, kind)| *kind)
}

/// Reads RRR's envelope from any answer: a `status_code` other than `R200` is the vendor's
/// refusal. A body that is not the envelope is left to the HTTP status and the body decoder.
pub fn api_error(_status: StatusCode, body: &[u8]) -> Option<ApiError> {
    let status: Status = serde_json::from_slice(body).ok()?;
    let code = status.status_code?.trim().to_owned();
    if code.eq_ignore_ascii_case(OK_CODE) || code.is_empty() {
        return None;
    }
    Some(ApiError {
        kind: error_kind(&code),
        message: status.msg.unwrap_or_default(),
        vendor_code: code,
    })
}

/// The filters of `get/order_returns`; both dates inclusive, on the return's `created_at`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReturnsFilter {
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
}

impl ReturnsFilter {
    fn query(&self, page: u32) -> OrderReturnsQuery {
        let ymd = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        OrderReturnsQuery {
            date_from: self.date_from.map(ymd),
            date_to: self.date_to.map(ymd),
            page: Some(page),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    credentials: Credentials,
}

impl Client {
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn new(settings: &RrrSettings) -> Result<Client, VendorError> {
        Ok(Client {
            transport: Transport::new(Vendor::Rrr, &settings.http())?,
            credentials: Credentials {
                username: settings.username.clone(),
                password: settings.password.expose().to_owned(),
                user_token: settings.user_token.expose().to_owned(),
            },
        })
    }

    /// The credentials as form fields, fresh for each request (a multipart form is consumed).
    fn form(&self) -> Form {
        Form::new()
            .text("username", self.credentials.username.clone())
            .text("password", self.credentials.password.clone())
            .text("user_token", self.credentials.user_token.clone())
    }

    /// One page (from 1) of `get/order_returns`. An empty page means the listing has ended.
    pub async fn order_returns_page(
        &self,
        filter: &ReturnsFilter,
        page: u32,
    ) -> Result<Vec<OrderReturn>, VendorError> {
        let request = self
            .transport
            .request(Method::POST, "/get/order_returns")
            .query(&filter.query(page))
            .multipart(self.form());
        let answer: super::wire::OrderReturnsResponse =
            self.transport.call_read(LIST, request, api_error).await?;
        Ok(answer.list)
    }

    /// Every order return matching `filter`, each exactly once: pages from 1 until the first
    /// empty one (RRR tells neither the page size nor the page count).
    pub async fn order_returns(
        &self,
        filter: &ReturnsFilter,
    ) -> Result<Vec<OrderReturn>, VendorError> {
        let mut all = Vec::new();
        self.order_returns_pages(filter, into_vec(&mut all)).await?;
        Ok(all)
    }

    /// The pages of [`Client::order_returns`], each handed to `deliver` as it is read.
    pub async fn order_returns_pages<D, DFut>(
        &self,
        filter: &ReturnsFilter,
        deliver: D,
    ) -> Result<(), VendorError>
    where
        D: FnMut(Vec<OrderReturn>) -> DFut,
        DFut: Future<Output = ControlFlow<()>>,
    {
        for_each_page(
            Vendor::Rrr,
            LIST,
            1u32,
            MAX_PAGES,
            |page| async move {
                let items = self.order_returns_page(filter, page).await?;
                let next = (!items.is_empty()).then_some(page + 1);
                Ok(Page { items, next })
            },
            deliver,
        )
        .await
    }

    /// One order return by id (`get/order_return/{id}`). An unknown id is RRR's `R404`
    /// ([`ApiErrorKind::NotFound`]); `None` when RRR answers `R200` with nothing in `list`.
    pub async fn order_return(&self, id: u64) -> Result<Option<OrderReturn>, VendorError> {
        let request = self
            .transport
            .request(Method::POST, &format!("/get/order_return/{id}"))
            .multipart(self.form());
        let answer: OrderReturnResponse = self.transport.call_read(GET, request, api_error).await?;
        Ok(answer.list.into_vec().into_iter().find(|r| r.id == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_row_by_row() {
        assert_eq!(error_kind("R400"), ApiErrorKind::BadRequest);
        assert_eq!(error_kind("R401"), ApiErrorKind::AuthFailed);
        assert_eq!(error_kind("R403"), ApiErrorKind::AccessDenied);
        assert_eq!(error_kind("R404"), ApiErrorKind::NotFound);
        assert_eq!(error_kind("R405"), ApiErrorKind::UnknownCall);
        assert_eq!(error_kind("R429"), ApiErrorKind::RateLimited);
        assert_eq!(error_kind("R500"), ApiErrorKind::Internal);
        assert_eq!(error_kind("r401"), ApiErrorKind::AuthFailed);
        assert_eq!(error_kind("R999"), ApiErrorKind::Other);
    }

    #[test]
    fn the_envelope_is_read_whatever_the_http_status() {
        let body = br#"{"list":[],"msg":"Wrong credentials","status_code":"R401"}"#;
        let err = api_error(StatusCode::OK, body).expect("an error");
        assert_eq!(err.kind, ApiErrorKind::AuthFailed);
        assert_eq!(err.vendor_code, "R401");
        assert_eq!(err.message, "Wrong credentials");
        assert!(api_error(StatusCode::UNAUTHORIZED, body).is_some());
        let ok = br#"{"list":[],"msg":"OK","status_code":"R200"}"#;
        assert_eq!(api_error(StatusCode::OK, ok), None);
        assert_eq!(api_error(StatusCode::BAD_GATEWAY, b"<html>"), None);
    }
}

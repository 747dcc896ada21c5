//! HTTP client of the MerchantPro Orders API v2: HTTP Basic auth, JSON both ways, every
//! documented endpoint under `{base_url}/api/v2`.

use std::collections::BTreeSet;
use std::future::Future;
use std::ops::ControlFlow;

use chrono::{DateTime, FixedOffset};
use reqwest::header::ACCEPT;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;

use super::wire::{
    Ack, ErrorAnswer, ErrorBody, ListCount, ListQuery, NestedErrorBody, NewOrder, Order, OrderList,
    OrderUpdate, PaymentStatus, ShippingStatus, Sort, Transition,
};
use crate::settings::{MerchantProSettings, Secret};
use crate::{
    for_each_page, into_vec, ApiError, ApiErrorKind, Page, Transport, Vendor, VendorError,
};

/// Path prefix of the API under the shop's origin.
pub const API_PREFIX: &str = "/api/v2";
/// Most records a page may hold: the doc caps `limit` at 100, so we never ask for more.
pub const PAGE_LIMIT: u32 = 100;
/// A million orders; a listing longer than that is a vendor fault, not data.
const MAX_PAGES: usize = 10_000;

const EP_LIST: &str = "GET /orders";
const EP_GET: &str = "GET /orders/{id}";
const EP_CREATE: &str = "POST /orders";
const EP_UPDATE: &str = "PATCH /orders/{id}";
const EP_DELETE: &str = "DELETE /orders/{id}";

fn transition_endpoint(t: Transition) -> &'static str {
    match t {
        Transition::InProcess => "PATCH /orders/{id}/in_process",
        Transition::Shipped => "PATCH /orders/{id}/shipped",
        Transition::Delivered => "PATCH /orders/{id}/delivered",
        Transition::Returned => "PATCH /orders/{id}/returned",
        Transition::Cancelled => "PATCH /orders/{id}/cancelled",
        Transition::CreateInvoice => "PATCH /orders/{id}/create_invoice",
    }
}

/// What each HTTP status of an error answer means. The status decides the kind for both error
/// shapes: a nested answer's own `code` is kept as the vendor code, but it is not a documented
/// list we could table.
pub fn error_kind(status: StatusCode) -> ApiErrorKind {
    match status.as_u16() {
        400 => ApiErrorKind::BadRequest,
        401 => ApiErrorKind::AuthFailed,
        403 => ApiErrorKind::AccessDenied,
        404 => ApiErrorKind::NotFound,
        405 => ApiErrorKind::UnknownCall,
        409 => ApiErrorKind::AlreadyExists,
        422 => ApiErrorKind::BadRequest,
        429 => ApiErrorKind::RateLimited,
        500..=599 => ApiErrorKind::Internal,
        _ => ApiErrorKind::Other,
    }
}

/// Reads MerchantPro's error answer, in either shape: `{"message": …, "errors": …}` or
/// `{"error": {"code": …, "message": …}}`. The vendor code is the nested answer's `code` when it
/// has one, else the HTTP status. Only a non-2xx answer in one of those shapes is the vendor
/// speaking; any other failing body (a proxy's HTML page) is left to the HTTP status.
pub fn api_error(status: StatusCode, body: &[u8]) -> Option<ApiError> {
    if status.is_success() {
        return None;
    }
    let (code, message) = match serde_json::from_slice(body).ok()? {
        ErrorAnswer::Nested(NestedErrorBody { error }) => {
            (error.code.filter(|c| !c.trim().is_empty()), error.message)
        }
        ErrorAnswer::Flat(ErrorBody {
            message,
            errors: Some(errors),
        }) if !is_empty_json(&errors) => (None, format!("{message} ({errors})")),
        ErrorAnswer::Flat(ErrorBody { message, .. }) => (None, message),
    };
    Some(ApiError {
        kind: error_kind(status),
        vendor_code: code.unwrap_or_else(|| status.as_u16().to_string()),
        message,
    })
}

fn is_empty_json(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        serde_json::Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The filters, field selection, inclusion and sort of `GET /api/v2/orders`, typed.
/// Pagination (`start`, `limit`) is the client's business, not the filter's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    pub id: Option<u64>,
    pub ids: Vec<u64>,
    pub payment_status: Option<PaymentStatus>,
    pub payment_substatus_id: Option<u64>,
    pub payment_method_code: Option<String>,
    pub payment_transaction_id: Option<String>,
    pub shipping_status: Option<ShippingStatus>,
    pub shipping_substatus_id: Option<u64>,
    pub shipping_method_id: Option<u64>,
    pub shipping_awb: Option<String>,
    pub customer_id: Option<u64>,
    pub customer_email: Option<String>,
    pub created_after: Option<DateTime<FixedOffset>>,
    pub created_before: Option<DateTime<FixedOffset>>,
    pub tag_name: Option<String>,
    pub tag_ids: Vec<u64>,
    /// Only these fields (`id` always comes too); empty: the list's default fields.
    pub fields: Vec<String>,
    /// `include=line_items`: lists leave the lines out otherwise.
    pub include_line_items: bool,
    pub sort: Option<Sort>,
}

fn comma_list<T: ToString>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

impl OrderFilter {
    /// The query string for the page starting at `start`.
    pub fn query(&self, start: u64, limit: u32) -> ListQuery {
        let s = |v: &Option<u64>| v.map(|v| v.to_string());
        ListQuery {
            id: s(&self.id),
            ids: comma_list(&self.ids),
            payment_status: self.payment_status.map(|p| p.as_str().to_owned()),
            payment_substatus_id: s(&self.payment_substatus_id),
            payment_method_code: self.payment_method_code.clone(),
            payment_transaction_id: self.payment_transaction_id.clone(),
            shipping_status: self.shipping_status.map(|p| p.as_str().to_owned()),
            shipping_substatus_id: s(&self.shipping_substatus_id),
            shipping_method_id: s(&self.shipping_method_id),
            shipping_awb: self.shipping_awb.clone(),
            customer_id: s(&self.customer_id),
            customer_email: self.customer_email.clone(),
            created_after: self.created_after.map(|d| d.to_rfc3339()),
            created_before: self.created_before.map(|d| d.to_rfc3339()),
            tag_name: self.tag_name.clone(),
            tag_ids: comma_list(&self.tag_ids),
            fields: comma_list(&self.fields),
            include: self.include_line_items.then(|| "line_items".to_owned()),
            sort: self.sort.map(|s| s.as_str().to_owned()),
            start: Some(start.to_string()),
            limit: Some(limit.min(PAGE_LIMIT).to_string()),
        }
    }
}

/// Where the page after one that started at `start` and brought `received` records starts;
/// `None` after the last. Counting what arrived (not what was asked) stays right when the shop
/// serves fewer per page than asked; an empty page ends the walk, so a wrong `total` cannot
/// loop.
pub fn next_start(start: u64, received: usize, count: &ListCount) -> Option<u64> {
    let end = start + received as u64;
    (received > 0 && end < count.total.0).then_some(end)
}

/// `GET /orders/{id}` answers one order; the doc's `fields=` example shows a list envelope
/// instead, so both are read.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrList {
    List(OrderList),
    One(Box<Order>),
}

#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    /// `/api/v2`, or empty when `base_url` already ends with it.
    prefix: &'static str,
    username: String,
    password: Secret,
}

impl Client {
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn new(settings: &MerchantProSettings) -> Result<Client, VendorError> {
        let transport = Transport::new(Vendor::MerchantPro, &settings.http())?;
        let prefix = if transport.base_url().ends_with(API_PREFIX) {
            ""
        } else {
            API_PREFIX
        };
        Ok(Client {
            transport,
            prefix,
            username: settings.username.clone(),
            password: settings.password.clone(),
        })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.transport
            .request(method, &format!("{}{path}", self.prefix))
            .basic_auth(&self.username, Some(self.password.expose()))
            .header(ACCEPT, "application/json")
    }

    /// One page of `GET /orders`: at most [`PAGE_LIMIT`] records from `start`.
    pub async fn list(
        &self,
        filter: &OrderFilter,
        start: u64,
        limit: u32,
    ) -> Result<OrderList, VendorError> {
        let request = self
            .request(Method::GET, "/orders")
            .query(&filter.query(start, limit));
        self.transport.call_read(EP_LIST, request, api_error).await
    }

    /// Every order matching `filter`, reading each page once, in order.
    pub async fn list_all(&self, filter: &OrderFilter) -> Result<Vec<Order>, VendorError> {
        let mut all = Vec::new();
        self.list_pages(filter, into_vec(&mut all)).await?;
        Ok(all)
    }

    /// Every order matching `filter`, each page handed to `deliver` as it is read.
    pub async fn list_pages<D, DFut>(
        &self,
        filter: &OrderFilter,
        deliver: D,
    ) -> Result<(), VendorError>
    where
        D: FnMut(Vec<Order>) -> DFut,
        DFut: Future<Output = ControlFlow<()>>,
    {
        for_each_page(
            Vendor::MerchantPro,
            EP_LIST,
            0u64,
            MAX_PAGES,
            |start| async move {
                let page = self.list(filter, start, PAGE_LIMIT).await?;
                let next = next_start(start, page.data.len(), &page.meta.count);
                Ok(Page {
                    items: page.data,
                    next,
                })
            },
            deliver,
        )
        .await
    }

    /// The orders with these ids, with their lines, in as few calls as `ids=` allows (one per
    /// [`PAGE_LIMIT`] ids). Unknown ids are simply absent from the answer.
    pub async fn get_many(&self, ids: &[u64]) -> Result<Vec<Order>, VendorError> {
        let unique: Vec<u64> = ids
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut orders = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(PAGE_LIMIT as usize) {
            let filter = OrderFilter {
                ids: chunk.to_vec(),
                include_line_items: true,
                ..OrderFilter::default()
            };
            orders.extend(self.list_all(&filter).await?);
        }
        Ok(orders)
    }

    /// `GET /orders/{id}`, all fields or only `fields` (`id` always comes).
    pub async fn get(&self, id: u64, fields: &[&str]) -> Result<Order, VendorError> {
        let mut request = self.request(Method::GET, &format!("/orders/{id}"));
        if let Some(fields) = comma_list(fields) {
            request = request.query(&[("fields", fields)]);
        }
        match self.transport.call_read(EP_GET, request, api_error).await? {
            OneOrList::One(order) => Ok(*order),
            OneOrList::List(list) => {
                list.data
                    .into_iter()
                    .find(|o| o.id.0 == id)
                    .ok_or_else(|| VendorError::Api {
                        vendor: Vendor::MerchantPro,
                        endpoint: EP_GET,
                        error: ApiError {
                            kind: ApiErrorKind::NotFound,
                            vendor_code: "200".into(),
                            message: format!("order {id} is not in the list answered"),
                        },
                    })
            }
        }
    }

    /// `POST /orders`: the created order as the shop stored it.
    pub async fn create(&self, order: &NewOrder) -> Result<Order, VendorError> {
        let request = self.request(Method::POST, "/orders").json(order);
        self.transport.call(EP_CREATE, request, api_error).await
    }

    /// `PATCH /orders/{id}`: the order after the change.
    pub async fn update(&self, id: u64, change: &OrderUpdate) -> Result<Order, VendorError> {
        let request = self
            .request(Method::PATCH, &format!("/orders/{id}"))
            .json(change);
        self.transport.call(EP_UPDATE, request, api_error).await
    }

    /// `DELETE /orders/{id}`, with everything attached to the order.
    pub async fn delete(&self, id: u64) -> Result<Ack, VendorError> {
        let request = self.request(Method::DELETE, &format!("/orders/{id}"));
        self.transport.call(EP_DELETE, request, api_error).await
    }

    /// `PATCH /orders/{id}/{request_handler}`.
    pub async fn transition(&self, id: u64, to: Transition) -> Result<Ack, VendorError> {
        let request = self.request(Method::PATCH, &format!("/orders/{id}/{}", to.as_str()));
        self.transport
            .call(transition_endpoint(to), request, api_error)
            .await
    }

    /// `PATCH /orders/{id}/in_process`.
    pub async fn mark_in_process(&self, id: u64) -> Result<Ack, VendorError> {
        self.transition(id, Transition::InProcess).await
    }

    /// `PATCH /orders/{id}/shipped`.
    pub async fn mark_shipped(&self, id: u64) -> Result<Ack, VendorError> {
        self.transition(id, Transition::Shipped).await
    }

    /// `PATCH /orders/{id}/delivered`.
    pub async fn mark_delivered(&self, id: u64) -> Result<Ack, VendorError> {
        self.transition(id, Transition::Delivered).await
    }

    /// `PATCH /orders/{id}/returned`.
    pub async fn mark_returned(&self, id: u64) -> Result<Ack, VendorError> {
        self.transition(id, Transition::Returned).await
    }

    /// `PATCH /orders/{id}/cancelled`.
    pub async fn cancel(&self, id: u64) -> Result<Ack, VendorError> {
        self.transition(id, Transition::Cancelled).await
    }

    /// `PATCH /orders/{id}/create_invoice`.
    pub async fn create_invoice(&self, id: u64) -> Result<Ack, VendorError> {
        self.transition(id, Transition::CreateInvoice).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merchantpro::wire::Id;

    #[test]
    fn error_statuses_map_to_kinds() {
        let cases = [
            (400, ApiErrorKind::BadRequest),
            (401, ApiErrorKind::AuthFailed),
            (403, ApiErrorKind::AccessDenied),
            (404, ApiErrorKind::NotFound),
            (405, ApiErrorKind::UnknownCall),
            (409, ApiErrorKind::AlreadyExists),
            (422, ApiErrorKind::BadRequest),
            (429, ApiErrorKind::RateLimited),
            (500, ApiErrorKind::Internal),
            (503, ApiErrorKind::Internal),
            (418, ApiErrorKind::Other),
        ];
        for (status, kind) in cases {
            assert_eq!(
                error_kind(StatusCode::from_u16(status).unwrap()),
                kind,
                "{status}"
            );
        }
    }

    #[test]
    fn only_the_vendors_envelope_on_a_failure_is_an_api_error() {
        let body = br#"{"message":"Invalid data","errors":{"limit":["must be at least 1"]}}"#;
        let e = api_error(StatusCode::UNPROCESSABLE_ENTITY, body).unwrap();
        assert_eq!(e.kind, ApiErrorKind::BadRequest);
        assert_eq!(e.vendor_code, "422");
        assert!(e.message.contains("Invalid data") && e.message.contains("limit"));
        assert!(api_error(StatusCode::OK, br#"{"message":"hi"}"#).is_none());
        assert!(api_error(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>").is_none());
    }

    #[test]
    fn the_nested_error_shape_keeps_the_vendors_code_and_message() {
        let body = br#"{"error":{"code":"order_not_found","message":"Order 7 not found"}}"#;
        let e = api_error(StatusCode::NOT_FOUND, body).unwrap();
        assert_eq!(e.kind, ApiErrorKind::NotFound);
        assert_eq!(e.vendor_code, "order_not_found");
        assert_eq!(e.message, "Order 7 not found");

        // A numeric code is kept as its text; without a code the status stands in.
        let numeric = api_error(
            StatusCode::UNAUTHORIZED,
            br#"{"error":{"code":1001,"message":"Bad key"}}"#,
        )
        .unwrap();
        assert_eq!(numeric.kind, ApiErrorKind::AuthFailed);
        assert_eq!(numeric.vendor_code, "1001");
        for body in [
            &br#"{"error":{"message":"Slow down"}}"#[..],
            &br#"{"error":{"code":"","message":"Slow down"}}"#[..],
            &br#"{"error":{"code":null,"message":"Slow down"}}"#[..],
        ] {
            let e = api_error(StatusCode::TOO_MANY_REQUESTS, body).unwrap();
            assert_eq!(e.kind, ApiErrorKind::RateLimited);
            assert_eq!(e.vendor_code, "429");
            assert_eq!(e.message, "Slow down");
        }
        assert!(api_error(StatusCode::NOT_FOUND, br#"{"error":"nope"}"#).is_none());
    }

    #[test]
    fn pages_advance_by_what_arrived() {
        let count = |total| ListCount {
            total: Id(total),
            current: Id(100),
            start: Id(0),
            limit: Id(100),
        };
        assert_eq!(next_start(0, 100, &count(250)), Some(100));
        assert_eq!(next_start(200, 50, &count(250)), None);
        assert_eq!(next_start(100, 0, &count(250)), None);
    }

    #[test]
    fn the_filter_never_asks_for_more_than_a_page() {
        let q = OrderFilter {
            ids: vec![1, 2, 3],
            include_line_items: true,
            ..OrderFilter::default()
        }
        .query(200, 500);
        assert_eq!(q.limit.as_deref(), Some("100"));
        assert_eq!(q.start.as_deref(), Some("200"));
        assert_eq!(q.ids.as_deref(), Some("1,2,3"));
        assert_eq!(q.include.as_deref(), Some("line_items"));
    }
}

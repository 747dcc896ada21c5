//! HTTP client of TrackRU: every endpoint of its doc, `Api-Key` header auth, the
//! `{"meta","data"}` envelope read on every answer (errors come with HTTP 200, 4xx alike).

use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;

use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::{DeserializeOwned, IgnoredAny};

use super::wire::{
    BatchResult, CreateTracking, Envelope, ListPage, ListQuery, MetaOnly, RealtimeRequest,
    RealtimeResult, Tracking, UpdateTracking,
};
use crate::settings::TrackRuSettings;
use crate::{
    for_each_page, into_vec, ApiError, ApiErrorKind, Page, Transport, Vendor, VendorError,
};

/// At most this many trackings per `POST /trackings/batch` (TrackingMore's limit, which TrackRU
/// mirrors); more is refused with [`OVER_BATCH_LIMIT`].
pub const BATCH_LIMIT: usize = 40;
/// The vendor's answer to a batch over [`BATCH_LIMIT`] (TrackingMore 4020, "up to N at a time").
pub const OVER_BATCH_LIMIT: i64 = 4020;
/// The list's own page size ceiling (TrackingMore v2: `limit` at most 2000).
pub const MAX_PAGE_SIZE: u32 = 2000;
/// A listing longer than this many pages is a runaway, not data.
const MAX_PAGES: usize = 10_000;
/// The live lookup's endpoint name (in errors and metrics); the vendor allows it once per parcel
/// per two hours.
const REALTIME: &str = "trackings/realtime";

/// `meta.code`s that mean success.
const SUCCESS_CODES: [i64; 2] = [200, 201];

/// Every `meta.code` TrackingMore documents (TrackRU mirrors them) and what it means to us.
/// Codes not listed map to [`ApiErrorKind::Other`] with the raw code kept.
pub const ERROR_CODES: &[(i64, ApiErrorKind)] = &[
    // "The request was successful but exceeding the limit."
    (202, ApiErrorKind::BadRequest),
    (400, ApiErrorKind::BadRequest),
    (401, ApiErrorKind::AuthFailed),
    // Payment required: the account may not make this call.
    (402, ApiErrorKind::AccessDenied),
    (403, ApiErrorKind::AccessDenied),
    // A path the vendor does not serve.
    (404, ApiErrorKind::UnknownCall),
    (405, ApiErrorKind::UnknownCall),
    (409, ApiErrorKind::Other),
    (429, ApiErrorKind::RateLimited),
    (500, ApiErrorKind::Internal),
    (503, ApiErrorKind::Internal),
    // Invalid API key.
    (4001, ApiErrorKind::AuthFailed),
    // API key has been deleted.
    (4002, ApiErrorKind::AuthFailed),
    // Request not understood / required parameters missing.
    (4012, ApiErrorKind::BadRequest),
    // tracking_number is required.
    (4013, ApiErrorKind::BadRequest),
    // tracking_number is invalid.
    (4014, ApiErrorKind::BadRequest),
    // carrier_code is invalid.
    (4015, ApiErrorKind::BadRequest),
    (4016, ApiErrorKind::AlreadyExists),
    (4017, ApiErrorKind::NotFound),
    // Feature needs custom activation.
    (4018, ApiErrorKind::AccessDenied),
    // Balance insufficient.
    (4019, ApiErrorKind::AccessDenied),
    // Too many numbers in one call.
    (OVER_BATCH_LIMIT, ApiErrorKind::BadRequest),
    // Quota used up / trial expired.
    (4021, ApiErrorKind::AccessDenied),
    // Number never added: POST it first.
    (4031, ApiErrorKind::NotFound),
    // Carrier could not be detected.
    (4032, ApiErrorKind::BadRequest),
    // Invalid `status` value.
    (4033, ApiErrorKind::BadRequest),
];

/// The kind of a TrackRU `meta.code`.
pub fn error_kind(code: i64) -> ApiErrorKind {
    ERROR_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(ApiErrorKind::Other, |(_, kind)| *kind)
}

/// Reads TrackRU's error envelope from any answer, whatever its HTTP status: `Some` when the
/// body is an envelope whose `meta.code` is not a success code.
pub fn api_error(_status: StatusCode, body: &[u8]) -> Option<ApiError> {
    let MetaOnly { meta } = serde_json::from_slice(body).ok()?;
    if SUCCESS_CODES.contains(&meta.code) {
        return None;
    }
    Some(ApiError {
        kind: error_kind(meta.code),
        vendor_code: meta.code.to_string(),
        message: meta.message,
    })
}

/// What became of one tracking sent through [`Client::create_many`].
#[derive(Debug, Clone)]
pub enum BatchOutcome {
    /// Created.
    Accepted,
    /// The vendor already tracks this number (4016); nothing changed.
    AlreadyExists,
    /// The vendor refused this number, with its reason.
    Rejected(ApiError),
    /// Its batch call failed as a whole (or an earlier one did, which stops the run): not sent
    /// or not known to have been created.
    NotSent(Arc<VendorError>),
}

/// One parcel's result of [`Client::create_many`], in the order the parcels were given.
#[derive(Debug, Clone)]
pub struct BatchItemResult {
    pub tracking_number: String,
    pub carrier_code: Option<String>,
    pub outcome: BatchOutcome,
}

#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    api_key: HeaderValue,
}

impl Client {
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn new(settings: &TrackRuSettings) -> Result<Client, VendorError> {
        // A realtime 429 says that parcel was looked up within two hours; other calls are fine.
        let transport =
            Transport::new(Vendor::TrackRu, &settings.http())?.with_per_resource_429(&[REALTIME]);
        if settings.api_key.is_empty() {
            return Err(VendorError::Config {
                vendor: Vendor::TrackRu,
                reason: "vendors.trackru.api_key is empty".into(),
            });
        }
        let mut api_key =
            HeaderValue::from_str(settings.api_key.expose()).map_err(|_| VendorError::Config {
                vendor: Vendor::TrackRu,
                reason: "vendors.trackru.api_key is not a valid header value".into(),
            })?;
        // Kept out of logs and `Debug` output.
        api_key.set_sensitive(true);
        Ok(Client { transport, api_key })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.transport
            .request(method, path)
            .header("Api-Key", self.api_key.clone())
            .header(CONTENT_TYPE, "application/json")
    }

    /// A write: sent once.
    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
    ) -> Result<T, VendorError> {
        let envelope: Envelope<T> = self.transport.call(endpoint, request, api_error).await?;
        Ok(envelope.data)
    }

    /// A read: retried within the deadline when the failure may pass.
    async fn call_read<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
    ) -> Result<T, VendorError> {
        let envelope: Envelope<T> = self
            .transport
            .call_read(endpoint, request, api_error)
            .await?;
        Ok(envelope.data)
    }

    /// `POST /trackings/post`: start tracking one parcel.
    pub async fn create(&self, tracking: &CreateTracking) -> Result<Tracking, VendorError> {
        let request = self.request(Method::POST, "/trackings/post").json(tracking);
        self.call("trackings/post", request).await
    }

    /// `GET /trackings/{carrier_code}/{tracking_number}`.
    pub async fn get(
        &self,
        carrier_code: &str,
        tracking_number: &str,
    ) -> Result<Tracking, VendorError> {
        let request = self.request(Method::GET, &item_path(carrier_code, tracking_number));
        self.call_read("trackings/get-one", request).await
    }

    /// `PUT /trackings/{carrier_code}/{tracking_number}`: change its details or set a manual
    /// status (see [`super::wire::status_command`]).
    pub async fn update(
        &self,
        carrier_code: &str,
        tracking_number: &str,
        update: &UpdateTracking,
    ) -> Result<Tracking, VendorError> {
        let request = self
            .request(Method::PUT, &item_path(carrier_code, tracking_number))
            .json(update);
        self.call("trackings/update", request).await
    }

    /// `DELETE /trackings/{carrier_code}/{tracking_number}`. The answer's `data` is `[]`.
    pub async fn delete(
        &self,
        carrier_code: &str,
        tracking_number: &str,
    ) -> Result<(), VendorError> {
        let request = self.request(Method::DELETE, &item_path(carrier_code, tracking_number));
        let _: Option<IgnoredAny> = self.call("trackings/delete", request).await?;
        Ok(())
    }

    /// `POST /trackings/batch`: one call as documented (at most [`BATCH_LIMIT`] trackings; the
    /// vendor refuses more). [`Client::create_many`] splits larger sets.
    pub async fn create_batch(
        &self,
        trackings: &[CreateTracking],
    ) -> Result<BatchResult, VendorError> {
        let request = self
            .request(Method::POST, "/trackings/batch")
            .json(trackings);
        self.call("trackings/batch", request).await
    }

    /// Creates any number of trackings in batches of [`BATCH_LIMIT`], and says per parcel what
    /// happened. Writes are never retried; a batch that fails as a whole stops the run and
    /// marks its parcels and all later ones [`BatchOutcome::NotSent`].
    pub async fn create_many(&self, trackings: &[CreateTracking]) -> Vec<BatchItemResult> {
        let mut results = Vec::with_capacity(trackings.len());
        let mut failed: Option<Arc<VendorError>> = None;
        for chunk in trackings.chunks(BATCH_LIMIT) {
            let answer = match &failed {
                Some(error) => Err(error.clone()),
                None => self.create_batch(chunk).await.map_err(Arc::new),
            };
            if let Err(error) = &answer {
                failed = Some(error.clone());
            }
            for sent in chunk {
                let outcome = match &answer {
                    Ok(answer) => batch_outcome(answer, sent),
                    Err(error) => BatchOutcome::NotSent(error.clone()),
                };
                results.push(BatchItemResult {
                    tracking_number: sent.tracking_number.clone(),
                    carrier_code: sent.carrier_code.clone(),
                    outcome,
                });
            }
        }
        results
    }

    /// `GET /trackings/get`: one page.
    pub async fn list(&self, query: &ListQuery) -> Result<ListPage, VendorError> {
        let request = self.request(Method::GET, "/trackings/get").query(query);
        self.call_read("trackings/get", request).await
    }

    /// Every tracking matching `filters` (its `page` is ignored), reading each page exactly once,
    /// `page_size` per page (capped at [`MAX_PAGE_SIZE`]).
    pub async fn list_all(
        &self,
        filters: &ListQuery,
        page_size: u32,
    ) -> Result<Vec<Tracking>, VendorError> {
        let mut all = Vec::new();
        self.list_pages(filters, page_size, into_vec(&mut all))
            .await?;
        Ok(all)
    }

    /// The pages of [`Client::list_all`], each handed to `deliver` as it is read.
    pub async fn list_pages<D, DFut>(
        &self,
        filters: &ListQuery,
        page_size: u32,
        deliver: D,
    ) -> Result<(), VendorError>
    where
        D: FnMut(Vec<Tracking>) -> DFut,
        DFut: Future<Output = ControlFlow<()>>,
    {
        let limit = page_size.clamp(1, MAX_PAGE_SIZE);
        for_each_page(
            Vendor::TrackRu,
            "trackings/get",
            1u32,
            MAX_PAGES,
            |page| {
                let query = ListQuery {
                    page: Some(page),
                    limit: Some(limit),
                    ..filters.clone()
                };
                async move {
                    let answer = self.list(&query).await?;
                    let next = next_page(page, limit, &answer);
                    Ok(Page {
                        items: answer.items,
                        next,
                    })
                }
            },
            deliver,
        )
        .await
    }

    /// `POST /trackings/realtime`: the carrier asked live for one parcel. Slow and expensive;
    /// the vendor allows the same parcel once per two hours (HTTP 429 otherwise), so it is
    /// sent once, never retried: a repeat after a lost answer would only spend the window or
    /// meet the 429.
    pub async fn realtime(&self, request: &RealtimeRequest) -> Result<RealtimeResult, VendorError> {
        let http = self
            .request(Method::POST, "/trackings/realtime")
            .json(request);
        self.call(REALTIME, http).await
    }
}

/// The page after `page` of a listing, if there is one. The page size is the one the vendor
/// says it served (it may cap ours); with `total` the listing ends exactly on a full last page
/// (no request for an empty page), without it a short page is the last.
fn next_page(page: u32, requested_limit: u32, answer: &ListPage) -> Option<u32> {
    if answer.items.is_empty() {
        return None;
    }
    let limit = answer
        .limit
        .filter(|l| *l > 0)
        .unwrap_or(u64::from(requested_limit));
    let more = match answer.total {
        Some(total) => u64::from(page) * limit < total,
        None => answer.items.len() as u64 >= limit,
    };
    more.then_some(page + 1)
}

/// What the batch answer says about one of the trackings sent.
fn batch_outcome(answer: &BatchResult, sent: &CreateTracking) -> BatchOutcome {
    let same_carrier = |carrier: Option<&str>| match (carrier, sent.carrier_code.as_deref()) {
        (Some(got), Some(want)) => got.eq_ignore_ascii_case(want),
        // Either side left the carrier out: the number alone identifies it.
        _ => true,
    };
    if answer.trackings.iter().any(|t| {
        t.tracking_number == sent.tracking_number && same_carrier(Some(t.carrier_code.as_str()))
    }) {
        return BatchOutcome::Accepted;
    }
    match answer.errors.iter().find(|e| {
        e.tracking_number == sent.tracking_number && same_carrier(e.carrier_code.as_deref())
    }) {
        Some(e) if error_kind(e.code) == ApiErrorKind::AlreadyExists => BatchOutcome::AlreadyExists,
        Some(e) => BatchOutcome::Rejected(ApiError {
            kind: error_kind(e.code),
            vendor_code: e.code.to_string(),
            message: e.message.clone(),
        }),
        None => BatchOutcome::Rejected(ApiError {
            kind: ApiErrorKind::Other,
            vendor_code: String::new(),
            message: "the vendor's batch answer does not mention this tracking".into(),
        }),
    }
}

/// `/trackings/{carrier_code}/{tracking_number}` with both segments percent-encoded.
fn item_path(carrier_code: &str, tracking_number: &str) -> String {
    format!(
        "/trackings/{}/{}",
        encode_segment(carrier_code),
        encode_segment(tracking_number)
    )
}

fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_kinds() {
        let cases = [
            (4001, ApiErrorKind::AuthFailed),
            (4002, ApiErrorKind::AuthFailed),
            (4012, ApiErrorKind::BadRequest),
            (4013, ApiErrorKind::BadRequest),
            (4016, ApiErrorKind::AlreadyExists),
            (4017, ApiErrorKind::NotFound),
            (4020, ApiErrorKind::BadRequest),
            (4021, ApiErrorKind::AccessDenied),
            (4031, ApiErrorKind::NotFound),
            (4032, ApiErrorKind::BadRequest),
            (4033, ApiErrorKind::BadRequest),
            (429, ApiErrorKind::RateLimited),
            (404, ApiErrorKind::UnknownCall),
            (9999, ApiErrorKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(error_kind(code), kind, "{code}");
        }
    }

    #[test]
    fn success_envelopes_are_not_errors() {
        let ok = br#"{"meta":{"code":200,"type":"Success","message":"Success"},"data":{}}"#;
        assert_eq!(api_error(StatusCode::OK, ok), None);
        let created = br#"{"meta":{"code":201,"type":"Created","message":"Created"},"data":{}}"#;
        assert_eq!(api_error(StatusCode::OK, created), None);
        let bad = br#"{"meta":{"code":4001,"type":"Unauthorized","message":"Invalid API key."},"data":[]}"#;
        let e = api_error(StatusCode::UNAUTHORIZED, bad).unwrap();
        assert_eq!(e.kind, ApiErrorKind::AuthFailed);
        assert_eq!(e.vendor_code, "4001");
        assert_eq!(api_error(StatusCode::INTERNAL_SERVER_ERROR, b"oops"), None);
    }

    #[test]
    fn paging_ends_on_total_or_a_short_page() {
        let page_of = |n: usize, limit: Option<u64>, total: Option<u64>| ListPage {
            page: None,
            limit,
            total,
            items: vec![Tracking::default(); n],
        };
        // By total: 250 in pages of 100.
        assert_eq!(
            next_page(1, 100, &page_of(100, Some(100), Some(250))),
            Some(2)
        );
        assert_eq!(next_page(3, 100, &page_of(50, Some(100), Some(250))), None);
        // A full last page ends the listing without asking for an empty one.
        assert_eq!(next_page(2, 100, &page_of(100, Some(100), Some(200))), None);
        // The vendor capped our page size: its own limit counts.
        assert_eq!(
            next_page(1, 5000, &page_of(2000, Some(2000), Some(2500))),
            Some(2)
        );
        // No total: a short page is the last.
        assert_eq!(next_page(1, 100, &page_of(100, None, None)), Some(2));
        assert_eq!(next_page(2, 100, &page_of(99, None, None)), None);
        // An empty page always ends it.
        assert_eq!(next_page(2, 100, &page_of(0, Some(100), Some(500))), None);
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(
            item_path("sto", "402934299065"),
            "/trackings/sto/402934299065"
        );
        assert_eq!(item_path("dhl", "A B/1"), "/trackings/dhl/A%20B%2F1");
    }
}

//! HTTP client of ProCarrier Returns: every documented method, `POST {base}/{method}/json` with
//! `{"ApiKey", "Request"}`, answers read through the `Success` / `Error` envelope whatever the
//! HTTP status.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::mapping::format_filter_date;
use super::wire::{self, error_code, ApiMethod, ApiRequest, Envelope};
use crate::model::Vendor;
use crate::settings::ProCarrierSettings;
use crate::{collect_pages, ApiError, ApiErrorKind, Page, Transport, VendorError};

/// Page budget of the walking helpers: far above any real listing (1000 returns or up to 20000
/// events a page), low enough to stop a vendor that never ends.
const MAX_PAGES: usize = 10_000;

/// Each documented error code and what it means to us. `ipBlocked` and `accessDenied` are never
/// retried ([`VendorError::retryable`]): retrying a wrong key is what gets the IP blocked.
pub const ERROR_KINDS: &[(&str, ApiErrorKind)] = &[
    (error_code::INTERNAL, ApiErrorKind::Internal),
    (error_code::REQUEST_WRONG, ApiErrorKind::BadRequest),
    (error_code::API_KEY_EMPTY, ApiErrorKind::AuthFailed),
    (error_code::IP_BLOCKED, ApiErrorKind::IpBlocked),
    (error_code::ACCESS_DENIED, ApiErrorKind::AccessDenied),
    (error_code::REQUEST_EMPTY, ApiErrorKind::BadRequest),
    (error_code::JSON_INVALID, ApiErrorKind::BadRequest),
    (error_code::UNKNOWN_CALL, ApiErrorKind::UnknownCall),
];

/// The kind of a vendor error code (matched case-insensitively); an undocumented code is
/// `Other`, its raw text kept in [`ApiError::vendor_code`].
pub fn error_kind(code: &str) -> ApiErrorKind {
    ERROR_KINDS
        .iter()
        .find(|(raw, _)| raw.eq_ignore_ascii_case(code.trim()))
        .map_or(ApiErrorKind::Other, |(_, kind)| *kind)
}

fn get_ci<'a>(object: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Reads ProCarrier's error envelope `{"Error": {"Code", "Message": [..]}}` (keys in any case),
/// on any HTTP status. `None` when the body is not one: the caller then judges the status and
/// the success body.
pub fn api_error(_status: StatusCode, body: &[u8]) -> Option<ApiError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = get_ci(value.as_object()?, "error")?;
    let (code, message) = match error {
        Value::Object(e) => {
            let code = match get_ci(e, "code") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            let message = match get_ci(e, "message") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (code, message)
        }
        // `{"Error": "..."}`: not documented, but still a refusal.
        Value::String(s) => (String::new(), s.clone()),
        _ => return None,
    };
    Some(ApiError {
        kind: error_kind(&code),
        vendor_code: code,
        message,
    })
}

/// The typed client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    api_key: String,
    tracking_range_max: chrono::Duration,
}

impl Client {
    /// An empty API key is allowed here (`check/available` needs none); the vendor answers
    /// `apiKeyEmpty` to every other call.
    pub fn new(settings: &ProCarrierSettings) -> Result<Client, VendorError> {
        Ok(Client {
            transport: Transport::new(Vendor::ProCarrier, &settings.http())?,
            api_key: settings.api_key.expose().to_owned(),
            tracking_range_max: chrono::Duration::days(i64::from(
                settings.tracking_range_max_days.max(1),
            )),
        })
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    async fn call<R: Serialize, T: DeserializeOwned>(
        &self,
        method: ApiMethod,
        request: &R,
    ) -> Result<T, VendorError> {
        let body = ApiRequest {
            api_key: self.api_key.clone(),
            request,
        };
        let builder = self
            .transport
            .request(Method::POST, &method.path())
            .json(&body);
        let Envelope(success) = if method.is_read() {
            self.transport
                .call_read::<Envelope<T>>(method.name(), builder, api_error)
                .await?
        } else {
            self.transport
                .call::<Envelope<T>>(method.name(), builder, api_error)
                .await?
        };
        Ok(success)
    }

    /// Any method by name with any `Request` value, for methods or shapes the typed calls do
    /// not cover. Answers the `Success` payload as JSON.
    pub async fn call_raw(&self, method: &str, request: Value) -> Result<Value, VendorError> {
        let body = serde_json::json!({ "ApiKey": self.api_key, "Request": request });
        let builder = self
            .transport
            .request(Method::POST, &format!("/{method}/{}", wire::FORMAT))
            .json(&body);
        let Envelope(success) = self
            .transport
            .call::<Envelope<Value>>("raw", builder, api_error)
            .await?;
        Ok(success)
    }

    // -- Orders ----------------------------------------------------------------------------

    pub async fn create_order(&self, order: &wire::Order) -> Result<wire::OrderSaved, VendorError> {
        self.call(ApiMethod::OrdersCreate, &wire::OrderRequest { order })
            .await
    }

    /// Updates the order `order.id`. The doc spells the MRN `IxportMRN` in this method: an
    /// `ExportMRN` given here is sent under that name.
    pub async fn update_order(&self, order: &wire::Order) -> Result<wire::OrderSaved, VendorError> {
        let mut order = order.clone();
        if order.ixport_mrn.is_none() {
            order.ixport_mrn = order.export_mrn.take();
        }
        self.call(ApiMethod::OrdersUpdate, &wire::OrderRequest { order })
            .await
    }

    /// By `field` (e.g. `reference`) and `value`.
    pub async fn get_order(&self, field: &str, value: &str) -> Result<wire::Order, VendorError> {
        let order = wire::FieldValue {
            field: field.into(),
            value: value.into(),
        };
        self.call(ApiMethod::OrdersGet, &wire::OrderRequest { order })
            .await
    }

    pub async fn delete_order(
        &self,
        field: &str,
        value: &str,
    ) -> Result<wire::MessageResult, VendorError> {
        let order = wire::FieldValue {
            field: field.into(),
            value: value.into(),
        };
        self.call(ApiMethod::OrdersDelete, &wire::OrderRequest { order })
            .await
    }

    /// Order ids matching `filter` (`DateFrom`, `DateTo`, `FullTextSearch`).
    pub async fn search_orders(
        &self,
        filter: &wire::SearchFilter,
    ) -> Result<wire::IdList, VendorError> {
        self.call(ApiMethod::OrdersSearch, &wire::FilterRequest { filter })
            .await
    }

    // -- Services and drop-off points -------------------------------------------------------

    /// `ServicesRequest::default()` (an empty request) lists every service of the account.
    pub async fn get_services(
        &self,
        request: &wire::ServicesRequest,
    ) -> Result<wire::ServicesResult, VendorError> {
        self.call(ApiMethod::ServicesGet, request).await
    }

    /// Sent as the doc nests it, `Request.Request`.
    pub async fn dropoff_points(
        &self,
        filter: &wire::DropOffFilter,
    ) -> Result<wire::DropOffResult, VendorError> {
        let request = wire::DropOffRequest {
            request: filter.clone(),
        };
        self.call(ApiMethod::DropoffPoints, &request).await
    }

    // -- Returns ----------------------------------------------------------------------------

    pub async fn create_return(
        &self,
        new: &wire::NewReturn,
    ) -> Result<wire::ReturnCreated, VendorError> {
        self.call(
            ApiMethod::ReturnsCreate,
            &wire::ReturnRequest { r#return: new },
        )
        .await
    }

    /// Return ids matching `filter`, nested as the vendor answers (`NestedIdList::ids`).
    pub async fn find_returns(
        &self,
        filter: &wire::SearchFilter,
    ) -> Result<wire::NestedIdList, VendorError> {
        self.call(ApiMethod::ReturnsFind, &wire::FilterRequest { filter })
            .await
    }

    /// One return with its label, by `lookup.field` (`tracking`, `orderReference`, `id`, …).
    pub async fn get_return(
        &self,
        lookup: &wire::ReturnLookup,
    ) -> Result<wire::ReturnRecord, VendorError> {
        self.call(
            ApiMethod::ReturnsGet,
            &wire::ReturnRequest { r#return: lookup },
        )
        .await
    }

    /// One page: up to 1000 returns with an `Id` above `filter.id_last`, without labels.
    pub async fn search_returns(
        &self,
        filter: &wire::ReturnSearchFilter,
    ) -> Result<wire::ReturnSearchResult, VendorError> {
        self.call(ApiMethod::ReturnsSearch, &wire::FilterRequest { filter })
            .await
    }

    /// Every return matching `filter`, walking the `IdLast` cursor from `filter.id_last`. A
    /// page shorter than the vendor's limit is the last. Each return comes once: a row whose
    /// id is not above the cursor would mean the vendor ignored it, and ends the walk with an
    /// error rather than a loop.
    pub async fn search_all_returns(
        &self,
        filter: &wire::ReturnSearchFilter,
    ) -> Result<Vec<wire::ReturnRecord>, VendorError> {
        let endpoint = ApiMethod::ReturnsSearch.name();
        collect_pages(
            Vendor::ProCarrier,
            endpoint,
            filter.id_last,
            MAX_PAGES,
            |id_last| {
                let filter = wire::ReturnSearchFilter {
                    id_last,
                    ..filter.clone()
                };
                async move {
                    let page = self.search_returns(&filter).await?;
                    let rows = page.r#return;
                    if let Some(stale) = rows
                        .iter()
                        .find(|r| id_last.is_some_and(|last| r.id <= last))
                    {
                        return Err(VendorError::Api {
                            vendor: Vendor::ProCarrier,
                            endpoint,
                            error: ApiError {
                                kind: ApiErrorKind::Other,
                                vendor_code: String::new(),
                                message: format!(
                                    "IdLast {id_last:?} ignored: row {} repeats",
                                    stale.id
                                ),
                            },
                        });
                    }
                    let next = (rows.len() >= wire::RETURNS_SEARCH_LIMIT)
                        .then(|| rows.iter().map(|r| r.id).max())
                        .flatten()
                        .map(Some);
                    Ok(Page { items: rows, next })
                }
            },
        )
        .await
    }

    /// Cancel by `ExternalId` or `TrackingNumber`.
    pub async fn cancel_return(
        &self,
        key: &wire::ReturnCancel,
    ) -> Result<wire::ReturnCancelled, VendorError> {
        self.call(
            ApiMethod::ReturnsCancel,
            &wire::ReturnRequest { r#return: key },
        )
        .await
    }

    // -- Tracking ---------------------------------------------------------------------------

    pub async fn get_tracking(
        &self,
        tracking_number: &str,
    ) -> Result<wire::TrackingRecord, VendorError> {
        let request = wire::TrackingGetRequest {
            tracking_number: wire::TrackingCode {
                code: tracking_number.into(),
            },
        };
        self.call(ApiMethod::TrackingGet, &request).await
    }

    /// One page of tracking by event date.
    pub async fn tracking_range(
        &self,
        filter: &wire::TrackingRangeFilter,
    ) -> Result<wire::TrackingPage, VendorError> {
        self.call(ApiMethod::TrackingRange, &wire::FilterRequest { filter })
            .await
    }

    /// One page of tracking by the date events were added.
    pub async fn tracking_added(
        &self,
        filter: &wire::TrackingRangeFilter,
    ) -> Result<wire::TrackingPage, VendorError> {
        self.call(ApiMethod::TrackingAdded, &wire::FilterRequest { filter })
            .await
    }

    /// Every page of [`Client::tracking_range`] from `filter.page` (default 1).
    pub async fn tracking_range_all(
        &self,
        filter: &wire::TrackingRangeFilter,
    ) -> Result<Vec<wire::TrackingRecord>, VendorError> {
        self.tracking_pages(ApiMethod::TrackingRange, filter).await
    }

    /// Every parcel with events between `from` and `to` (inclusive), read with `tracking/range`
    /// in windows of at most `tracking_range_max_days`, each window always with its `DateFrom`
    /// and `DateTo`; a parcel seen in several windows comes back once, with all its events.
    pub async fn tracking_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<wire::TrackingRecord>, VendorError> {
        self.tracking_windows(ApiMethod::TrackingRange, from, to)
            .await
    }

    /// Every parcel with events *added* between `from` and `to` (inclusive), with those events
    /// only: `tracking/added` in the same windows as [`Client::tracking_between`]. What the
    /// returns index reads to learn which parcels moved since its last read.
    pub async fn tracking_added_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<wire::TrackingRecord>, VendorError> {
        self.tracking_windows(ApiMethod::TrackingAdded, from, to)
            .await
    }

    async fn tracking_windows(
        &self,
        method: ApiMethod,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<wire::TrackingRecord>, VendorError> {
        let filters: Vec<wire::TrackingRangeFilter> =
            date_windows(from, to, self.tracking_range_max)
                .into_iter()
                .map(|(start, end)| wire::TrackingRangeFilter {
                    date_from: Some(format_filter_date(start.fixed_offset())),
                    date_to: Some(format_filter_date(end.fixed_offset())),
                    count_per_page: Some(i64::from(wire::TRACKING_MAX_PER_PAGE)),
                    ..Default::default()
                })
                .collect();
        let reads = filters
            .iter()
            .map(|filter| self.tracking_pages(method, filter));
        let records = futures_util::future::try_join_all(reads).await?;
        Ok(merge_tracking(records.into_iter().flatten().collect()))
    }

    /// Every page of [`Client::tracking_added`] from `filter.page` (default 1).
    pub async fn tracking_added_all(
        &self,
        filter: &wire::TrackingRangeFilter,
    ) -> Result<Vec<wire::TrackingRecord>, VendorError> {
        self.tracking_pages(ApiMethod::TrackingAdded, filter).await
    }

    /// Walks `Page` 1.. up to `TotalPagesCount`. Pages hold events, so a parcel whose events
    /// straddle two pages comes on both: its records are merged into one, each event once.
    async fn tracking_pages(
        &self,
        method: ApiMethod,
        filter: &wire::TrackingRangeFilter,
    ) -> Result<Vec<wire::TrackingRecord>, VendorError> {
        let pages = collect_pages(
            Vendor::ProCarrier,
            method.name(),
            filter.page.unwrap_or(1).max(1),
            MAX_PAGES,
            |page| {
                let filter = wire::TrackingRangeFilter {
                    page: Some(page),
                    ..filter.clone()
                };
                async move {
                    let answer: wire::TrackingPage = self
                        .call(method, &wire::FilterRequest { filter: &filter })
                        .await?;
                    let total = answer.total_pages_count.unwrap_or(0);
                    let next =
                        (page < total && !answer.tracking_data.is_empty()).then_some(page + 1);
                    Ok(Page {
                        items: answer.tracking_data,
                        next,
                    })
                }
            },
        )
        .await?;
        Ok(merge_tracking(pages))
    }

    pub async fn add_tracking(
        &self,
        status: &wire::NewTrackingStatus,
    ) -> Result<wire::Acknowledgement, VendorError> {
        let request = wire::TrackingAddRequest {
            tracking_status: status.clone(),
        };
        self.call(ApiMethod::TrackingAdd, &request).await
    }

    // -- Availability -----------------------------------------------------------------------

    /// `check/available`: no key, body ignored (sent as `null`, as the doc shows).
    pub async fn check_available(&self) -> Result<wire::Availability, VendorError> {
        let method = ApiMethod::CheckAvailable;
        let builder = self
            .transport
            .request(Method::POST, &method.path())
            .json(&Value::Null);
        let Envelope(success) = self
            .transport
            .call::<Envelope<wire::Availability>>(method.name(), builder, api_error)
            .await?;
        Ok(success)
    }
}

/// `[from, to]` cut into consecutive windows at most `span` long (a window ends a second
/// before the next begins: filter dates have whole seconds and both ends are inclusive).
fn date_windows(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    span: chrono::Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let second = chrono::Duration::seconds(1);
    let mut windows = Vec::new();
    let mut start = from;
    loop {
        let end = start + span - second;
        if end >= to {
            windows.push((start, to));
            return windows;
        }
        windows.push((start, end));
        start = end + second;
    }
}

/// Records of the same parcel (by tracking number) merged in first-seen order; events deduped
/// by id (events without one are kept).
fn merge_tracking(records: Vec<wire::TrackingRecord>) -> Vec<wire::TrackingRecord> {
    let mut order: Vec<String> = Vec::new();
    let mut by_number: BTreeMap<String, wire::TrackingRecord> = BTreeMap::new();
    for record in records {
        match by_number.get_mut(&record.tracking_number) {
            Some(seen) => {
                for event in record.events {
                    let duplicate =
                        event.id.is_some() && seen.events.iter().any(|e| e.id == event.id);
                    if !duplicate {
                        seen.events.push(event);
                    }
                }
            }
            None => {
                order.push(record.tracking_number.clone());
                by_number.insert(record.tracking_number.clone(), record);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|n| by_number.remove(&n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_range_is_read_in_windows_that_touch_but_do_not_overlap() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let day = chrono::Duration::days(1);
        assert_eq!(
            date_windows(
                at("2026-01-01T00:00:00Z"),
                at("2026-01-02T12:00:00Z"),
                day * 31
            ),
            vec![(at("2026-01-01T00:00:00Z"), at("2026-01-02T12:00:00Z"))]
        );
        assert_eq!(
            date_windows(
                at("2026-01-01T00:00:00Z"),
                at("2026-01-20T06:00:00Z"),
                day * 7
            ),
            vec![
                (at("2026-01-01T00:00:00Z"), at("2026-01-07T23:59:59Z")),
                (at("2026-01-08T00:00:00Z"), at("2026-01-14T23:59:59Z")),
                (at("2026-01-15T00:00:00Z"), at("2026-01-20T06:00:00Z")),
            ]
        );
    }

    #[test]
    fn every_documented_error_code_has_its_kind() {
        let expected = [
            ("internal", ApiErrorKind::Internal),
            ("requestWrong", ApiErrorKind::BadRequest),
            ("apiKeyEmpty", ApiErrorKind::AuthFailed),
            ("ipBlocked", ApiErrorKind::IpBlocked),
            ("accessDenied", ApiErrorKind::AccessDenied),
            ("requestEmpty", ApiErrorKind::BadRequest),
            ("jsonInvalid", ApiErrorKind::BadRequest),
            ("unknownCall", ApiErrorKind::UnknownCall),
        ];
        for (code, kind) in expected {
            assert_eq!(error_kind(code), kind, "{code}");
        }
        assert_eq!(error_kind("somethingNew"), ApiErrorKind::Other);
    }

    #[test]
    fn the_error_envelope_is_read_in_any_case_and_status() {
        let body = br#"{"error":{"code":"accessDenied","message":["Wrong key","Try again"]}}"#;
        let e = api_error(StatusCode::OK, body).unwrap();
        assert_eq!(e.kind, ApiErrorKind::AccessDenied);
        assert_eq!(e.vendor_code, "accessDenied");
        assert_eq!(e.message, "Wrong key; Try again");
        let e = api_error(
            StatusCode::OK,
            br#"{"Error":{"Code":"brandNew","Message":"one"}}"#,
        )
        .unwrap();
        assert_eq!(
            (e.kind, e.vendor_code.as_str()),
            (ApiErrorKind::Other, "brandNew")
        );
        assert!(api_error(StatusCode::OK, br#"{"Success":{"Date":1}}"#).is_none());
        assert!(api_error(StatusCode::BAD_GATEWAY, b"<html>").is_none());
    }

    #[test]
    fn tracking_pages_merge_a_parcel_split_across_pages() {
        let record = |ids: &[i64]| wire::TrackingRecord {
            tracking_number: "TRC1".into(),
            events: ids
                .iter()
                .map(|&id| wire::TrackingEvent {
                    id: Some(id),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let other = wire::TrackingRecord {
            tracking_number: "TRC2".into(),
            ..Default::default()
        };
        let merged = merge_tracking(vec![record(&[1, 2]), other, record(&[2, 3])]);
        assert_eq!(merged.len(), 2);
        let ids: Vec<_> = merged[0].events.iter().filter_map(|e| e.id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
    }
}

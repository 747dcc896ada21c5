//! Wire types: exactly as the ProCarrier Returns doc shows them (`001_*.txt`).
//!
//! Every call is `POST {base}/{method}/json` with `{"ApiKey": "...", "Request": {...}}`
//! ([`ApiRequest`]); answers are `{"Success": {...}}` ([`Envelope`]) or
//! `{"Error": {"Code": "...", "Message": ["..."]}}` ([`ErrorEnvelope`]). Field names keep the
//! doc's spelling, typos included (`LabelContentYype`, `IxportMRN`). Numbers are read from
//! numbers or numeric strings and strings from strings or numbers ([`lenient`]), since the
//! doc's own PHP example and webhook send `"5"` for 5 and a phone as a number.

use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::lenient;

/// Every ProCarrier method, with its path under the base URL. The doc names only
/// `orders/create` and `check/available`; the rest follow the same style (see the digest). Keep
/// this the one place that knows the paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiMethod {
    OrdersCreate,
    OrdersUpdate,
    OrdersGet,
    OrdersDelete,
    OrdersSearch,
    ServicesGet,
    DropoffPoints,
    ReturnsCreate,
    ReturnsFind,
    ReturnsGet,
    ReturnsSearch,
    ReturnsCancel,
    TrackingGet,
    TrackingRange,
    TrackingAdded,
    TrackingAdd,
    CheckAvailable,
}

impl ApiMethod {
    pub const ALL: [ApiMethod; 17] = [
        ApiMethod::OrdersCreate,
        ApiMethod::OrdersUpdate,
        ApiMethod::OrdersGet,
        ApiMethod::OrdersDelete,
        ApiMethod::OrdersSearch,
        ApiMethod::ServicesGet,
        ApiMethod::DropoffPoints,
        ApiMethod::ReturnsCreate,
        ApiMethod::ReturnsFind,
        ApiMethod::ReturnsGet,
        ApiMethod::ReturnsSearch,
        ApiMethod::ReturnsCancel,
        ApiMethod::TrackingGet,
        ApiMethod::TrackingRange,
        ApiMethod::TrackingAdded,
        ApiMethod::TrackingAdd,
        ApiMethod::CheckAvailable,
    ];

    /// The method name as it appears in the URL (`{base}/{name}/json`).
    /// Reads may be retried; writes never are.
    pub fn is_read(self) -> bool {
        !matches!(
            self,
            ApiMethod::OrdersCreate
                | ApiMethod::OrdersUpdate
                | ApiMethod::OrdersDelete
                | ApiMethod::ReturnsCreate
                | ApiMethod::ReturnsCancel
                | ApiMethod::TrackingAdd
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            ApiMethod::OrdersCreate => "orders/create",
            ApiMethod::OrdersUpdate => "orders/update",
            ApiMethod::OrdersGet => "orders/get",
            ApiMethod::OrdersDelete => "orders/delete",
            ApiMethod::OrdersSearch => "orders/search",
            ApiMethod::ServicesGet => "services/get",
            ApiMethod::DropoffPoints => "dropoff/points",
            ApiMethod::ReturnsCreate => "returns/create",
            ApiMethod::ReturnsFind => "returns/find",
            ApiMethod::ReturnsGet => "returns/get",
            ApiMethod::ReturnsSearch => "returns/search",
            ApiMethod::ReturnsCancel => "returns/cancel",
            ApiMethod::TrackingGet => "tracking/get",
            ApiMethod::TrackingRange => "tracking/range",
            ApiMethod::TrackingAdded => "tracking/added",
            ApiMethod::TrackingAdd => "tracking/add",
            ApiMethod::CheckAvailable => "check/available",
        }
    }

    /// The path under the base URL, with the only documented format, `json`.
    pub fn path(self) -> String {
        format!("/{}/{}", self.name(), FORMAT)
    }
}

/// The `{format}` segment of every URL.
pub const FORMAT: &str = "json";

/// Most rows `returns/search` answers at once (doc: "up to 1000 returns records at once").
pub const RETURNS_SEARCH_LIMIT: usize = 1000;
/// Largest `CountPerPage` of `tracking/range` and `tracking/added` (doc: "up to 20000").
pub const TRACKING_MAX_PER_PAGE: u32 = 20_000;

/// The documented error codes, as the vendor spells them.
pub mod error_code {
    pub const INTERNAL: &str = "internal";
    pub const REQUEST_WRONG: &str = "requestWrong";
    pub const API_KEY_EMPTY: &str = "apiKeyEmpty";
    pub const IP_BLOCKED: &str = "ipBlocked";
    pub const ACCESS_DENIED: &str = "accessDenied";
    pub const REQUEST_EMPTY: &str = "requestEmpty";
    pub const JSON_INVALID: &str = "jsonInvalid";
    pub const UNKNOWN_CALL: &str = "unknownCall";
}

// ---------------------------------------------------------------------------------------------
// Envelopes

/// The body of every authenticated call. The doc's PHP example sends `Request` as a JSON string;
/// we send the object, as its reference does (the simulator accepts both).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiRequest<R> {
    #[serde(rename = "ApiKey")]
    pub api_key: String,
    #[serde(rename = "Request")]
    pub request: R,
}

/// `{"Success": T}`. The key's case varies by method (`orders/update` answers `success`), so it
/// is matched case-insensitively; a body without it is not the documented answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Envelope<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        let success = map
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("success"))
            .map(|(_, v)| v)
            .ok_or_else(|| D::Error::custom("no `Success` in the answer"))?;
        T::deserialize(success)
            .map(Envelope)
            .map_err(D::Error::custom)
    }
}

impl<T: Serialize> Serialize for Envelope<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Success<'a, T> {
            #[serde(rename = "Success")]
            success: &'a T,
        }
        Success { success: &self.0 }.serialize(s)
    }
}

/// `{"Error": {"Code": "accessDenied", "Message": ["..."]}}`, possibly with HTTP 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    #[serde(rename = "Error", alias = "error")]
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "Code", alias = "code")]
    pub code: String,
    /// A list of messages; a single string is read as a list of one.
    #[serde(
        rename = "Message",
        alias = "message",
        default,
        deserialize_with = "string_list"
    )]
    pub message: Vec<String>,
}

/// `tracking/add`'s answer: `{"Code": "success", "Message": ["..."]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    #[serde(rename = "Code", alias = "code", default)]
    pub code: Option<String>,
    #[serde(
        rename = "Message",
        alias = "message",
        default,
        deserialize_with = "string_list"
    )]
    pub message: Vec<String>,
}

/// `{"Message": "..."}` (`orders/delete`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageResult {
    #[serde(rename = "Message", alias = "message", default)]
    pub message: Option<String>,
}

/// `check/available`: `{"Date": <unix seconds>}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    #[serde(rename = "Date", default, deserialize_with = "lenient::opt_i64")]
    pub date: Option<i64>,
}

/// `{Field, Value}`: how `orders/get`, `orders/delete` and `returns/get` pick one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldValue {
    #[serde(rename = "Field")]
    pub field: String,
    #[serde(rename = "Value", deserialize_with = "lenient::string")]
    pub value: String,
}

/// Search filter with dates as `YYYY/MM/DD HH:MM:SS` (`orders/search`, `returns/find`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchFilter {
    #[serde(rename = "DateFrom", default, skip_serializing_if = "Option::is_none")]
    pub date_from: Option<String>,
    #[serde(rename = "DateTo", default, skip_serializing_if = "Option::is_none")]
    pub date_to: Option<String>,
    #[serde(
        rename = "FullTextSearch",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub full_text_search: Option<String>,
    /// `returns/find` only.
    #[serde(
        rename = "TrackingNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tracking_number: Option<String>,
    /// `returns/find` only.
    #[serde(
        rename = "OrderReference",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub order_reference: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterRequest<F> {
    #[serde(rename = "Filter")]
    pub filter: F,
}

/// `{"Id": [10, 12, …]}` (`orders/search`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdList {
    #[serde(rename = "Id", default, deserialize_with = "flat_ids")]
    pub id: Vec<i64>,
}

/// `{"Id": [[351, 373, 409]]}` (`returns/find`): ids nested one level deeper. Read at any
/// nesting depth; written as the doc shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NestedIdList {
    #[serde(rename = "Id", default, deserialize_with = "nested_ids")]
    pub id: Vec<Vec<i64>>,
}

impl NestedIdList {
    pub fn ids(&self) -> Vec<i64> {
        self.id.iter().flatten().copied().collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Shared shapes

/// Address fields as every method writes them (flattened into orders and returns).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    #[serde(rename = "Country", default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(rename = "State", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(
        rename = "Zip",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub zip: Option<String>,
    #[serde(rename = "City", default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(
        rename = "AddressLine1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub address_line1: Option<String>,
    #[serde(
        rename = "AddressLine2",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub address_line2: Option<String>,
    #[serde(
        rename = "AddressLine3",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub address_line3: Option<String>,
    #[serde(
        rename = "Neighborhood",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub neighborhood: Option<String>,
}

/// A product line of an order or a return. Dimensions and prices are numbers in the reference
/// and strings in the PHP example: both are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// `orders/update` only: the product's id.
    #[serde(
        rename = "Id",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub id: Option<i64>,
    #[serde(
        rename = "Sku",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub sku: Option<String>,
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    #[serde(
        rename = "Quantity",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub quantity: Option<i64>,
    #[serde(
        rename = "Price",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub price: Option<f64>,
    #[serde(
        rename = "Weight",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub weight: Option<f64>,
    #[serde(rename = "WeightUom", default, skip_serializing_if = "Option::is_none")]
    pub weight_uom: Option<String>,
    #[serde(
        rename = "Length",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub length: Option<f64>,
    #[serde(
        rename = "Width",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub width: Option<f64>,
    #[serde(
        rename = "Height",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub height: Option<f64>,
    #[serde(
        rename = "DimensionsUom",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dimensions_uom: Option<String>,
    #[serde(
        rename = "CountryCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub country_code: Option<String>,
    #[serde(rename = "HsCode", default, skip_serializing_if = "Option::is_none")]
    pub hs_code: Option<String>,
    /// `"Yes"` / `"No"`.
    #[serde(
        rename = "DangerousGoods",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dangerous_goods: Option<String>,
    /// Unix seconds (a product's; the order's own `ExportDate` is `MM/DD/YYYY`).
    #[serde(
        rename = "ExportDate",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub export_date: Option<i64>,
    #[serde(rename = "ExportAwb", default, skip_serializing_if = "Option::is_none")]
    pub export_awb: Option<String>,
    #[serde(
        rename = "ExportCarrierName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub export_carrier_name: Option<String>,
    /// Orders only.
    #[serde(
        rename = "NonReturnable",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub non_returnable: Option<bool>,
    /// Orders only.
    #[serde(
        rename = "DaysForReturn",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub days_for_return: Option<i64>,
    /// Returns only (`return`, …).
    #[serde(
        rename = "FinalDisposition",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub final_disposition: Option<String>,
    /// In the PHP example only.
    #[serde(rename = "ImgUrl", default, skip_serializing_if = "Option::is_none")]
    pub img_url: Option<String>,
    #[serde(
        rename = "CustomFields",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_fields: Option<Value>,
    /// Returns only: why the item goes back.
    #[serde(rename = "Reason", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    #[serde(rename = "Action", default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(rename = "Reason", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(rename = "Wish", default, skip_serializing_if = "Option::is_none")]
    pub wish: Option<String>,
    #[serde(
        rename = "Additional",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional: Option<ReasonAdditional>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReasonAdditional {
    #[serde(rename = "Title", default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Contact fields flattened into orders and returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "Company", default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(
        rename = "Phone",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub phone: Option<String>,
    #[serde(rename = "Email", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Orders

/// `{"Order": …}`: the request of `orders/create`, `orders/update` (an [`Order`]) and
/// `orders/get`, `orders/delete` (a [`FieldValue`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest<O> {
    #[serde(rename = "Order")]
    pub order: O,
}

/// An order as `orders/create` takes it and `orders/get` answers it; `orders/update` adds `Id`
/// and spells the MRN `IxportMRN` (sic), so both spellings are fields here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// `orders/update` only.
    #[serde(
        rename = "Id",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub id: Option<i64>,
    #[serde(
        rename = "OrderReference",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub order_reference: Option<String>,
    /// `MM/DD/YYYY`.
    #[serde(rename = "OrderDate", default, skip_serializing_if = "Option::is_none")]
    pub order_date: Option<String>,
    #[serde(rename = "Currency", default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(
        rename = "Rma",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub rma: Option<String>,
    #[serde(
        rename = "FreeReturn",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub free_return: Option<bool>,
    #[serde(
        rename = "CustomFields",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_fields: Option<Value>,
    /// `MM/DD/YYYY` on the order (unix seconds on its products).
    #[serde(
        rename = "ExportDate",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub export_date: Option<String>,
    #[serde(rename = "ExportAwb", default, skip_serializing_if = "Option::is_none")]
    pub export_awb: Option<String>,
    #[serde(
        rename = "ExportCarrierName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub export_carrier_name: Option<String>,
    #[serde(
        rename = "TrackingNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tracking_number: Option<String>,
    #[serde(
        rename = "InvoiceNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invoice_number: Option<String>,
    /// `orders/create` and `orders/get`.
    #[serde(rename = "ExportMRN", default, skip_serializing_if = "Option::is_none")]
    pub export_mrn: Option<String>,
    /// `orders/update`'s spelling of `ExportMRN` (sic, as documented).
    #[serde(rename = "IxportMRN", default, skip_serializing_if = "Option::is_none")]
    pub ixport_mrn: Option<String>,
    #[serde(rename = "Products", default)]
    pub products: Vec<Product>,
    #[serde(flatten)]
    pub contact: Contact,
    #[serde(flatten)]
    pub address: Address,
}

/// `orders/create` (`Message`, `OrderReference`, `OrderId`) and `orders/update` (the same in
/// lower camel case: `message`, `orderReference`, `orderId`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderSaved {
    #[serde(rename = "Message", alias = "message", default)]
    pub message: Option<String>,
    #[serde(
        rename = "OrderReference",
        alias = "orderReference",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub order_reference: Option<String>,
    #[serde(
        rename = "OrderId",
        alias = "orderId",
        default,
        deserialize_with = "lenient::opt_i64"
    )]
    pub order_id: Option<i64>,
}

/// `orders/update`'s answer as the vendor writes it, lower camel case throughout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderUpdatedLower {
    pub success: OrderUpdatedLowerBody,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderUpdatedLowerBody {
    pub message: String,
    #[serde(rename = "orderReference")]
    pub order_reference: String,
    #[serde(rename = "orderId")]
    pub order_id: i64,
}

// ---------------------------------------------------------------------------------------------
// Services and drop-off points

/// `services/get`: empty (`{}`) for every service, or an address and a parcel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServicesRequest {
    #[serde(rename = "Service", default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Address>,
    #[serde(rename = "Parcel", default, skip_serializing_if = "Option::is_none")]
    pub parcel: Option<Parcel>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parcel {
    #[serde(
        rename = "Weight",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServicesResult {
    #[serde(rename = "Services", default)]
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    #[serde(rename = "Carrier", default)]
    pub carrier: Option<String>,
    #[serde(rename = "ServiceId", deserialize_with = "lenient::i64")]
    pub service_id: i64,
    #[serde(rename = "ServiceName", default)]
    pub service_name: Option<String>,
    /// e.g. `home_collection`.
    #[serde(rename = "ServiceType", default)]
    pub service_type: Option<String>,
    #[serde(rename = "ServiceLogo", default)]
    pub service_logo: Option<String>,
    #[serde(rename = "CommercialService", default)]
    pub commercial_service: Option<CommercialService>,
    #[serde(rename = "LocalCarrier", default)]
    pub local_carrier: Option<LocalCarrier>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommercialService {
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    #[serde(rename = "BillingCode", default)]
    pub billing_code: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LocalCarrier {
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    #[serde(rename = "Logo", default)]
    pub logo: Option<String>,
    #[serde(rename = "PudoLocatorUrl", default)]
    pub pudo_locator_url: Option<String>,
}

/// `dropoff/points`: the doc nests the filter in a second `Request` (`Request.Request`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DropOffRequest {
    #[serde(rename = "Request")]
    pub request: DropOffFilter,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DropOffFilter {
    /// Service ids.
    #[serde(rename = "Services", default, deserialize_with = "flat_ids")]
    pub services: Vec<i64>,
    #[serde(rename = "Address", default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(
        rename = "Coordinates",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub coordinates: Option<Coordinates>,
    /// Kilometres around `Coordinates`.
    #[serde(
        rename = "Radius",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub radius: Option<f64>,
}

/// `Lat` is a string and `Lng` a number in the doc (request and answer alike).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    #[serde(rename = "Lat", deserialize_with = "lenient::string")]
    pub lat: String,
    #[serde(rename = "Lng", deserialize_with = "lenient::f64")]
    pub lng: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DropOffResult {
    #[serde(rename = "Carriers", default)]
    pub carriers: Vec<DropOffCarrier>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DropOffCarrier {
    #[serde(rename = "Id", default, deserialize_with = "lenient::opt_i64")]
    pub id: Option<i64>,
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    #[serde(rename = "Services", default)]
    pub services: Vec<DropOffService>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DropOffService {
    #[serde(rename = "Id", default, deserialize_with = "lenient::opt_i64")]
    pub id: Option<i64>,
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    #[serde(rename = "Points", default)]
    pub points: Vec<DropOffPoint>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DropOffPoint {
    /// A string in the doc (`"123AC"`).
    #[serde(rename = "Id", deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(rename = "Title", default)]
    pub title: Option<String>,
    #[serde(rename = "AddressDetail", default)]
    pub address_detail: Option<Address>,
    /// Free text, e.g. `monday-saturday 10:00-14:00 …`.
    #[serde(rename = "Hours", default)]
    pub hours: Option<String>,
    #[serde(rename = "DetailHours", default)]
    pub detail_hours: Option<DetailHours>,
    #[serde(rename = "Lat", deserialize_with = "lenient::string")]
    pub lat: String,
    #[serde(rename = "Lng", deserialize_with = "lenient::f64")]
    pub lng: f64,
}

/// Opening hours per weekday, `Mo` to `Su`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetailHours {
    #[serde(rename = "Mo", default)]
    pub mo: DayHours,
    #[serde(rename = "Tu", default)]
    pub tu: DayHours,
    #[serde(rename = "We", default)]
    pub we: DayHours,
    #[serde(rename = "Th", default)]
    pub th: DayHours,
    #[serde(rename = "Fr", default)]
    pub fr: DayHours,
    #[serde(rename = "Sa", default)]
    pub sa: DayHours,
    #[serde(rename = "Su", default)]
    pub su: DayHours,
}

impl DetailHours {
    /// Monday first.
    pub fn days(&self) -> [&DayHours; 7] {
        [
            &self.mo, &self.tu, &self.we, &self.th, &self.fr, &self.sa, &self.su,
        ]
    }
}

/// One weekday: `["10:00-14:00", "17:00-20:30"]`, or `false` when closed (also read: `null`,
/// missing, an empty list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DayHours {
    #[default]
    Closed,
    Open(Vec<String>),
}

impl Serialize for DayHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DayHours::Closed => s.serialize_bool(false),
            DayHours::Open(ranges) => ranges.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for DayHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(false) | Value::Null => Ok(DayHours::Closed),
            Value::String(s) if s.trim().is_empty() => Ok(DayHours::Closed),
            Value::String(s) => Ok(DayHours::Open(vec![s])),
            Value::Array(items) if items.is_empty() => Ok(DayHours::Closed),
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(D::Error::custom(format!(
                        "an opening range is not a string: {other}"
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(DayHours::Open),
            other => Err(D::Error::custom(format!(
                "opening hours are neither a list nor false: {other}"
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Returns

/// `{"Return": …}`: `returns/create` (a [`NewReturn`]), `returns/get` (a [`ReturnLookup`]),
/// `returns/cancel` (a [`ReturnCancel`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRequest<R> {
    #[serde(rename = "Return")]
    pub r#return: R,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewReturn {
    #[serde(flatten)]
    pub address: Address,
    #[serde(flatten)]
    pub contact: Contact,
    #[serde(
        rename = "ServiceId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub service_id: Option<i64>,
    #[serde(
        rename = "ServiceTrackable",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub service_trackable: Option<bool>,
    #[serde(
        rename = "OrderReference",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub order_reference: Option<String>,
    #[serde(
        rename = "OrderReference2",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub order_reference2: Option<String>,
    /// Unix seconds here (but `MM/DD/YYYY HH:MM:SS` in answers).
    #[serde(
        rename = "DateAdded",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub date_added: Option<i64>,
    #[serde(rename = "Currency", default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(
        rename = "DisplayId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub display_id: Option<String>,
    #[serde(
        rename = "ExternalId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub external_id: Option<String>,
    #[serde(
        rename = "DangerousGoods",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dangerous_goods: Option<String>,
    #[serde(
        rename = "FinalDisposition",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub final_disposition: Option<String>,
    #[serde(
        rename = "CollectionDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub collection_date: Option<CollectionDate>,
    #[serde(
        rename = "SpecialInstruction",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub special_instruction: Option<String>,
    #[serde(rename = "Order", default, skip_serializing_if = "Option::is_none")]
    pub order: Option<ReturnOrderRef>,
    #[serde(rename = "Products", default)]
    pub products: Vec<Product>,
    #[serde(rename = "Lang", default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// e.g. `pdf`.
    #[serde(
        rename = "LabelFormat",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub label_format: Option<String>,
    #[serde(
        rename = "TrackingNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tracking_number: Option<String>,
    #[serde(rename = "SecondaryBarcodes", default)]
    pub secondary_barcodes: Vec<String>,
    #[serde(
        rename = "PreAdvisedCarrierName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_advised_carrier_name: Option<String>,
    #[serde(
        rename = "Destination",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub destination: Option<Destination>,
}

/// `{"date": "YYYY/MM/DD", "timeFrom": "HH:MM", "timeTo": "HH:MM"}` (lower camel case).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectionDate {
    pub date: String,
    #[serde(rename = "timeFrom", default, skip_serializing_if = "Option::is_none")]
    pub time_from: Option<String>,
    #[serde(rename = "timeTo", default, skip_serializing_if = "Option::is_none")]
    pub time_to: Option<String>,
}

/// The outbound order a return refers to (lower camel case in the doc).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnOrderRef {
    /// `MM/DD/YYYY`.
    #[serde(
        rename = "exportDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub export_date: Option<String>,
    #[serde(
        rename = "trackingNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tracking_number: Option<String>,
    #[serde(
        rename = "invoiceNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invoice_number: Option<String>,
    #[serde(rename = "exportMRN", default, skip_serializing_if = "Option::is_none")]
    pub export_mrn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    #[serde(rename = "Address", default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(rename = "Contact", default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// `returns/create`'s answer. `LabelContentYype` is the doc's spelling (also read:
/// `LabelContentType`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnCreated {
    #[serde(rename = "TrackingNumber")]
    pub tracking_number: String,
    #[serde(rename = "FirstMileAddress", default)]
    pub first_mile_address: Option<Address>,
    #[serde(rename = "SecondaryBarcode", default)]
    pub secondary_barcode: Option<String>,
    #[serde(rename = "SecondaryBarcodes", default)]
    pub secondary_barcodes: Vec<String>,
    #[serde(rename = "LabelContentYype", alias = "LabelContentType", default)]
    pub label_content_yype: Option<String>,
    /// Base64.
    #[serde(rename = "LabelImage", default)]
    pub label_image: Option<String>,
}

/// `returns/get`: `{Value, Field, LabelFormat}`. Fields: `id`, `tracking`, `orderReference`,
/// `displayId`, `externalId` (the doc shows `orderReference`; public client code uses `tracking`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnLookup {
    #[serde(rename = "Value", deserialize_with = "lenient::string")]
    pub value: String,
    #[serde(rename = "Field")]
    pub field: String,
    #[serde(
        rename = "LabelFormat",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub label_format: Option<String>,
}

/// `returns/search`'s filter: dates as `YYYY/MM/DD HH:MM:SS`, `IdLast` the cursor (rows with a
/// greater `Id`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnSearchFilter {
    #[serde(rename = "DateFrom", default, skip_serializing_if = "Option::is_none")]
    pub date_from: Option<String>,
    #[serde(rename = "DateTo", default, skip_serializing_if = "Option::is_none")]
    pub date_to: Option<String>,
    #[serde(
        rename = "FullTextSearch",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub full_text_search: Option<String>,
    #[serde(
        rename = "OrderReference",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub order_reference: Option<String>,
    #[serde(
        rename = "Status",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub status: Option<i64>,
    #[serde(
        rename = "CurrentTrackingStatus",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub current_tracking_status: Option<i64>,
    #[serde(
        rename = "ServiceId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub service_id: Option<i64>,
    #[serde(rename = "Country", default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(
        rename = "IdLast",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub id_last: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnSearchResult {
    #[serde(rename = "Total", default, deserialize_with = "lenient::opt_i64")]
    pub total: Option<i64>,
    #[serde(rename = "Return", default)]
    pub r#return: Vec<ReturnRecord>,
}

/// One return as `returns/get` (with its label) and `returns/search` (without) answer it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnRecord {
    #[serde(rename = "Id", deserialize_with = "lenient::i64")]
    pub id: i64,
    #[serde(
        rename = "LabelContentType",
        alias = "LabelContentYype",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub label_content_type: Option<String>,
    #[serde(
        rename = "LabelImage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub label_image: Option<String>,
    #[serde(
        rename = "OrderReference",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub order_reference: Option<String>,
    /// `MM/DD/YYYY HH:MM:SS`.
    #[serde(rename = "DateAdded", default)]
    pub date_added: Option<String>,
    #[serde(
        rename = "DisplayId",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub display_id: Option<String>,
    #[serde(rename = "Carrier", default)]
    pub carrier: Option<String>,
    /// Unix seconds.
    #[serde(rename = "ExportDate", default, deserialize_with = "lenient::opt_i64")]
    pub export_date: Option<i64>,
    #[serde(rename = "ExportAwb", default)]
    pub export_awb: Option<String>,
    #[serde(rename = "ExportCarrierName", default)]
    pub export_carrier_name: Option<String>,
    #[serde(rename = "Products", default)]
    pub products: Vec<Product>,
    #[serde(rename = "CustomFields", default)]
    pub custom_fields: Option<Value>,
    #[serde(rename = "Phone", default, deserialize_with = "lenient::opt_string")]
    pub phone: Option<String>,
    #[serde(rename = "Email", default)]
    pub email: Option<String>,
    /// `returns/get` only in the doc's examples.
    #[serde(
        rename = "TrackingNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tracking_number: Option<String>,
    /// Unix seconds.
    #[serde(
        rename = "TrackingLastUpdate",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub tracking_last_update: Option<i64>,
    /// A tracking status code (see the table in `mapping.rs`).
    #[serde(
        rename = "CurrentTrackingStatus",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub current_tracking_status: Option<i64>,
    #[serde(flatten)]
    pub address: Address,
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    #[serde(rename = "Company", default)]
    pub company: Option<String>,
}

/// `returns/cancel`: either key identifies the return.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnCancel {
    #[serde(
        rename = "ExternalId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub external_id: Option<String>,
    #[serde(
        rename = "TrackingNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnCancelled {
    #[serde(rename = "Result")]
    pub result: ReturnCancelDetail,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnCancelDetail {
    #[serde(rename = "Message", default)]
    pub message: Option<String>,
    #[serde(rename = "TrackingNumber", default)]
    pub tracking_number: Option<String>,
    #[serde(
        rename = "ExternalId",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub external_id: Option<String>,
    #[serde(rename = "Status", default)]
    pub status: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Tracking

/// `tracking/get`: `{"TrackingNumber": {"Code": "…"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingGetRequest {
    #[serde(rename = "TrackingNumber")]
    pub tracking_number: TrackingCode,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingCode {
    #[serde(rename = "Code", deserialize_with = "lenient::string")]
    pub code: String,
}

/// One return parcel's tracking, with its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingRecord {
    #[serde(rename = "Id", default, deserialize_with = "lenient::opt_i64")]
    pub id: Option<i64>,
    #[serde(rename = "PalletNumber", default)]
    pub pallet_number: Option<String>,
    #[serde(rename = "SourceCountry", default)]
    pub source_country: Option<String>,
    #[serde(rename = "CarrierName", default)]
    pub carrier_name: Option<String>,
    #[serde(rename = "ServiceId", default, deserialize_with = "lenient::opt_i64")]
    pub service_id: Option<i64>,
    #[serde(
        rename = "ExternalId",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub external_id: Option<String>,
    #[serde(
        rename = "OrderReference",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub order_reference: Option<String>,
    #[serde(rename = "TrackingNumber")]
    pub tracking_number: String,
    #[serde(rename = "SecondaryBarcode", default)]
    pub secondary_barcode: Option<String>,
    #[serde(rename = "Events", default)]
    pub events: Vec<TrackingEvent>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingEvent {
    #[serde(rename = "Id", default, deserialize_with = "lenient::opt_i64")]
    pub id: Option<i64>,
    /// Unix seconds.
    #[serde(rename = "Dt", deserialize_with = "lenient::i64")]
    pub dt: i64,
    /// A tracking status code.
    #[serde(rename = "Status", deserialize_with = "lenient::i64")]
    pub status: i64,
    #[serde(rename = "Description", default)]
    pub description: Option<String>,
    #[serde(rename = "Location", default)]
    pub location: Option<EventLocation>,
    /// `tracking/added` only: unix seconds.
    #[serde(
        rename = "DateAdded",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub date_added: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventLocation {
    #[serde(rename = "Country", default)]
    pub country: Option<String>,
    #[serde(rename = "State", default)]
    pub state: Option<String>,
    #[serde(rename = "City", default)]
    pub city: Option<String>,
}

/// `tracking/range` (by event date) and `tracking/added` (by date added): dates as
/// `YYYY/MM/DD HH:MM:SS`; pages from 1 of `CountPerPage` events (at most 20000), after `LastId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingRangeFilter {
    #[serde(
        rename = "LastId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub last_id: Option<i64>,
    #[serde(rename = "DateFrom", default, skip_serializing_if = "Option::is_none")]
    pub date_from: Option<String>,
    #[serde(rename = "DateTo", default, skip_serializing_if = "Option::is_none")]
    pub date_to: Option<String>,
    #[serde(
        rename = "SourceCountry",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_country: Option<String>,
    #[serde(
        rename = "Page",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub page: Option<i64>,
    #[serde(
        rename = "CountPerPage",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub count_per_page: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingPage {
    #[serde(rename = "TrackingData", default)]
    pub tracking_data: Vec<TrackingRecord>,
    #[serde(
        rename = "TotalEventsCount",
        default,
        deserialize_with = "lenient::opt_i64"
    )]
    pub total_events_count: Option<i64>,
    #[serde(rename = "CurrentPage", default, deserialize_with = "lenient::opt_i64")]
    pub current_page: Option<i64>,
    #[serde(
        rename = "TotalPagesCount",
        default,
        deserialize_with = "lenient::opt_i64"
    )]
    pub total_pages_count: Option<i64>,
    #[serde(
        rename = "CountPerPage",
        default,
        deserialize_with = "lenient::opt_i64"
    )]
    pub count_per_page: Option<i64>,
}

/// `tracking/add`: `{"TrackingStatus": {…}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingAddRequest {
    #[serde(rename = "TrackingStatus")]
    pub tracking_status: NewTrackingStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewTrackingStatus {
    #[serde(rename = "TrackingNumber")]
    pub tracking_number: String,
    /// `YYYY/MM/DD HH:MM:SS`.
    #[serde(rename = "Date")]
    pub date: String,
    #[serde(rename = "Status", deserialize_with = "lenient::i64")]
    pub status: i64,
    /// `YYYY/MM/DD HH:MM:SS`.
    #[serde(rename = "DateAdded", default, skip_serializing_if = "Option::is_none")]
    pub date_added: Option<String>,
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    #[serde(
        rename = "CarrierStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub carrier_status: Option<String>,
    #[serde(rename = "Location", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<EventLocation>,
}

// ---------------------------------------------------------------------------------------------
// Webhook (vendor → us)

/// `return_updated` webhook body: snake_case, numbers often as strings, phone as a number.
/// Signed with `X-Hmac-Sha256-Signature` (HMAC-SHA256 of the raw body, our API key as secret).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnUpdatedWebhook {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub company_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub zip: Option<String>,
    #[serde(default)]
    pub addr1: Option<String>,
    #[serde(default)]
    pub addr2: Option<String>,
    #[serde(default)]
    pub addr3: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(deserialize_with = "lenient::i64")]
    pub id: i64,
    #[serde(default)]
    pub tracking: Option<String>,
    /// Unix seconds, as a string or a number.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub tracking_last_update: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub current_tracking_status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub barcode_number: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub order_reference: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub date_added: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub display_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub service_id: Option<i64>,
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub item: Vec<WebhookItem>,
    #[serde(default)]
    pub custom_fields: Option<Value>,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub events: Vec<WebhookEvent>,
    #[serde(default)]
    pub order: Option<WebhookOrder>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub current_timestamp: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookItem {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub sku_code: Option<String>,
    #[serde(default)]
    pub sku_desc: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub quantity: Option<i64>,
    /// Kept as the vendor wrote it (`"9.99"`), so money is read without a float.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub price: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub weight: Option<f64>,
    #[serde(default)]
    pub weight_uom: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub length: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub width: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub height: Option<f64>,
    #[serde(default)]
    pub dimensions_uom: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default)]
    pub hs_code: Option<String>,
    #[serde(default)]
    pub dangerous_goods: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub export_date: Option<i64>,
    #[serde(default)]
    pub export_awb: Option<String>,
    #[serde(default)]
    pub export_carrier_name: Option<String>,
    #[serde(default)]
    pub final_disposition: Option<String>,
    /// Order items only.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub non_returnable: Option<bool>,
    /// Order items only.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub days_for_return: Option<i64>,
    #[serde(default)]
    pub custom_fields: Option<Value>,
    /// A list here (one object in the API's `Reason`).
    #[serde(default)]
    pub reason: Vec<WebhookReason>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookReason {
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub wish: Option<String>,
    #[serde(default)]
    pub additional: Option<WebhookReasonAdditional>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookReasonAdditional {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    #[serde(deserialize_with = "lenient::i64")]
    pub dt: i64,
    #[serde(deserialize_with = "lenient::i64")]
    pub status: i64,
    #[serde(default)]
    pub location: Option<WebhookLocation>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookLocation {
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookOrder {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub contact_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub company_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub zip: Option<String>,
    #[serde(default)]
    pub addr1: Option<String>,
    #[serde(default)]
    pub addr2: Option<String>,
    #[serde(default)]
    pub addr3: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub order_reference: Option<String>,
    /// Unix seconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub order_date: Option<i64>,
    #[serde(default)]
    pub currency_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub rma: Option<String>,
    /// `"false"` in the doc.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub free_return: Option<bool>,
    #[serde(default)]
    pub custom_fields: Option<Value>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub export_date: Option<i64>,
    #[serde(default)]
    pub export_awb: Option<String>,
    #[serde(default)]
    pub export_carrier_name: Option<String>,
    #[serde(default)]
    pub item: Vec<WebhookItem>,
}

// ---------------------------------------------------------------------------------------------

/// ProCarrier's own list shapes, built on the shared [`lenient`] readers.
///
/// `Message`: a list of messages, or one message as a list of one. Strings are trimmed, a number
/// or boolean is read as its text, anything else kept as its JSON text.
fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    fn text(v: Value) -> String {
        match lenient::opt_string(&v) {
            Ok(Some(s)) => s.trim().to_owned(),
            _ => v.to_string(),
        }
    }
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items.into_iter().map(text).collect()),
        v => Ok(vec![text(v)]),
    }
}

/// Every integer in `v` (a number or numeric string, or arrays of them at any depth), in
/// order; `null` and `""` are skipped, anything else is an error.
fn collect_ids<E: serde::de::Error>(v: Value, into: &mut Vec<i64>) -> Result<(), E> {
    match v {
        Value::Array(items) => items.into_iter().try_for_each(|i| collect_ids(i, into)),
        other => {
            into.extend(lenient::opt_i64(other).map_err(E::custom)?);
            Ok(())
        }
    }
}

/// Ids as a list, flattening any nesting.
fn flat_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    let mut ids = Vec::new();
    collect_ids::<D::Error>(Value::deserialize(d)?, &mut ids)?;
    Ok(ids)
}

/// `[[1, 2], [3]]` as documented; a flat `[1, 2]` is read as one group.
fn nested_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<i64>>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) if items.iter().all(Value::is_array) => items
            .into_iter()
            .map(|group| {
                let mut ids = Vec::new();
                collect_ids::<D::Error>(group, &mut ids)?;
                Ok(ids)
            })
            .collect(),
        other => {
            let mut ids = Vec::new();
            collect_ids::<D::Error>(other, &mut ids)?;
            Ok(vec![ids])
        }
    }
}

impl fmt::Display for ApiMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_are_a_list_or_one_string() {
        let read = |v| serde_json::from_value::<ErrorBody>(json!({"Code": "x", "Message": v}));
        assert_eq!(read(json!(" Denied ")).unwrap().message, ["Denied"]);
        assert_eq!(
            read(json!(["a", 5, true])).unwrap().message,
            ["a", "5", "true"]
        );
        assert!(read(json!(null)).unwrap().message.is_empty());
    }

    #[test]
    fn ids_are_read_flat_or_nested() {
        let flat: IdList = serde_json::from_value(json!({"Id": [10, "12", [13], null]})).unwrap();
        assert_eq!(flat.id, [10, 12, 13]);
        assert!(serde_json::from_value::<IdList>(json!({"Id": [1, "x"]})).is_err());
        assert!(serde_json::from_value::<IdList>(json!({"Id": [{}]})).is_err());

        let nested: NestedIdList =
            serde_json::from_value(json!({"Id": [[351, "373"], [409]]})).unwrap();
        assert_eq!(nested.id, [vec![351, 373], vec![409]]);
        assert_eq!(nested.ids(), [351, 373, 409]);
        let one_group: NestedIdList = serde_json::from_value(json!({"Id": [1, 2]})).unwrap();
        assert_eq!(one_group.id, [vec![1, 2]]);
        assert!(serde_json::from_value::<NestedIdList>(json!({"Id": [[true]]})).is_err());
    }
}

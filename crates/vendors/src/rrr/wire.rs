//! Wire types: exactly as the vendor documents them (`002_cf0b193918d1c08a.txt`).
//!
//! RRR has two calls, both `POST` with the credentials as form fields:
//! `get/order_returns?date_from&date_to&page` (documented with a sample) and
//! `get/order_return/{id}` (named in the digest, no sample: see [`OrderReturnResponse`]).
//! Every answer is the envelope `{"list": …, "msg": "OK", "status_code": "R200"}`.
//!
//! The same types serve the client (deserialise answers, serialise requests) and the simulator
//! (the reverse). Amounts are JSON floats in the doc; ids and amounts are also accepted as
//! numeric strings, since marketplaces built on PHP drift between the two ([`lenient`]).

use serde::{Deserialize, Serialize, Serializer};

use crate::lenient;

/// The form fields every call carries (the doc's PHP `$post` array, sent as
/// `multipart/form-data`). Missing fields deserialise as empty, so the simulator can answer a
/// request without them with RRR's own auth error instead of a framework rejection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub user_token: String,
}

/// The query string of `get/order_returns`. Dates are `Y-m-d` strings on the wire (the
/// simulator must see a malformed one to refuse it as RRR would).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderReturnsQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_to: Option<String>,
    /// From 1. The answer carries no page count: the listing ends at the first empty page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

/// Just the status part of the envelope: what the client reads first on every answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub msg: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub status_code: Option<String>,
}

/// The envelope every answer comes in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    #[serde(default)]
    pub list: T,
    #[serde(default)]
    pub msg: String,
    #[serde(default)]
    pub status_code: String,
}

/// `get/order_returns`.
pub type OrderReturnsResponse = Envelope<Vec<OrderReturn>>;

/// `get/order_return/{id}`. The doc shows no answer for it; we take the same envelope, with the
/// return as the one element of `list` (what the simulator serves), and accept a bare object
/// under `list` too, since a single-resource read may well drop the array.
pub type OrderReturnResponse = Envelope<OneOrMany>;

/// `list` as an array or a single object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    Many(Vec<OrderReturn>),
    One(Box<OrderReturn>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<OrderReturn> {
        match self {
            OneOrMany::Many(list) => list,
            OneOrMany::One(one) => vec![*one],
        }
    }
}

/// One order return. Amounts come twice: in the buyer's `currency` and, in the
/// `*_in_seller_currency` fields, in `seller_currency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderReturn {
    #[serde(deserialize_with = "lenient::u64")]
    pub id: u64,
    /// The marketplace's own number of the order returned: no shop (MerchantPro) id and no
    /// channel reference.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub order_id: Option<u64>,
    #[serde(default)]
    pub order_return_items: Vec<OrderReturnItem>,
    /// `New`, `Returned`, … (see `mapping::RETURN_STATUSES`).
    #[serde(default)]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub shipping_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub returnable_shipping_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub total_paid_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub total_returnable_amount: Option<f64>,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub seller_currency: String,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub total_returnable_amount_in_seller_currency: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub returnable_shipping_amount_in_seller_currency: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub shipping_price_in_seller_currency: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub total_paid_price_in_seller_currency: Option<f64>,
    /// ISO 8601 with offset, e.g. `2023-07-10T20:14:39+03:00`.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub customer: Option<ReturnCustomer>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
}

/// One returned part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderReturnItem {
    #[serde(deserialize_with = "lenient::u64")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub part_id: Option<u64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub return_reason: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub price: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub returnable_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub returnable_amount_in_seller_currency: Option<f64>,
    /// The buyer's currency of `price` and `returnable_amount`.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub price_in_seller_currency: Option<f64>,
    /// Percent, e.g. `23`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        serialize_with = "whole_as_integer"
    )]
    pub vat_rate: Option<f64>,
}

/// The buyer. No e-mail: RRR keeps it to itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnCustomer {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub first_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub last_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub postal_code: Option<String>,
    /// E.164 in the doc (`+37060000000`).
    #[serde(deserialize_with = "lenient::opt_string")]
    pub telephone: Option<String>,
    /// ISO alpha-2.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub country: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub address: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub region: Option<String>,
}

/// A refund paid (or to be paid) against the return, with its credit invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    #[serde(deserialize_with = "lenient::u64")]
    pub id: u64,
    /// `PAID_OUT`, … (see `mapping::REFUND_STATUSES`).
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub seller_currency: String,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub total_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub total_amount_in_seller_currency: Option<f64>,
    /// ISO 8601, in UTC with `Z` in the doc.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub paid_at: Option<String>,
    #[serde(default)]
    pub refund_items: Vec<RefundItem>,
    #[serde(default)]
    pub invoice: Option<Invoice>,
}

/// One refunded line: a part, or `Delivery` (with `part_id: null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundItem {
    #[serde(deserialize_with = "lenient::u64")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub order_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub part_id: Option<u64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub refund_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub refund_amount_in_seller_currency: Option<f64>,
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub price_in_seller_currency: Option<f64>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        serialize_with = "whole_as_integer"
    )]
    pub vat_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Invoice {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub number: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub download_url: Option<String>,
}

/// `23`, not `23.0`, as the doc writes VAT rates.
fn whole_as_integer<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match *v {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => s.serialize_i64(f as i64),
        Some(f) => s.serialize_f64(f),
        None => s.serialize_none(),
    }
}

//! Wire types of the MerchantPro Orders API v2, named and shaped as the doc's JSON examples.
//!
//! The doc is machine-translated; field names come from its JSON examples and query strings
//! (the Greek field table translates them, e.g. "Κωδικός πελάτη" is `customer_id`). The same
//! types serve the client (responses in, requests out) and the simulator (the reverse).
//!
//! Tolerances: numbers may come as strings (`"15"`, `"12345001"`), amounts as integers or
//! floats, `tags`/`meta_fields`/`invoice` as `null`, `customer_notification` as `""` or `null`,
//! `customer_ip_country` in either case, and line items without `item_type` (create response).

use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lenient;

/// An integer id the doc shows as a JSON number; a numeric string is accepted too
/// ([`lenient::u64`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::u64(d).map(Id)
    }
}

/// A decimal amount or quantity (the doc's "float"). Read exactly from the JSON text of a
/// number (`30.23` stays `30.23`) or from a string ([`lenient::decimal`]); written back as a
/// JSON number, without a fraction when it has none (`15`, as the doc shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub Decimal);

impl Amount {
    /// An amount from integer cents.
    pub fn from_cents(cents: i64) -> Self {
        Amount(Decimal::new(cents, 2).normalize())
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0.normalize();
        if d.fract().is_zero() {
            if let Some(i) = d.to_i64() {
                return s.serialize_i64(i);
            }
        }
        // Shortest float that reads back as this decimal (two-decimal money always does).
        match d.to_f64() {
            Some(f) => s.serialize_f64(f),
            None => Err(serde::ser::Error::custom(format!(
                "amount {d} does not fit a JSON number"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::decimal(d).map(Amount)
    }
}

/// `payment_status` values the doc lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Temporary,
    Awaiting,
    Paid,
    Failed,
    Cancelled,
    Refunded,
    Rejected,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::Temporary,
        PaymentStatus::Awaiting,
        PaymentStatus::Paid,
        PaymentStatus::Failed,
        PaymentStatus::Cancelled,
        PaymentStatus::Refunded,
        PaymentStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Temporary => "temporary",
            PaymentStatus::Awaiting => "awaiting",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// `shipping_status` values the doc lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingStatus {
    Awaiting,
    Confirmed,
    InProcess,
    Shipped,
    Delivered,
    Returned,
    Cancelled,
}

impl ShippingStatus {
    pub const ALL: [ShippingStatus; 7] = [
        ShippingStatus::Awaiting,
        ShippingStatus::Confirmed,
        ShippingStatus::InProcess,
        ShippingStatus::Shipped,
        ShippingStatus::Delivered,
        ShippingStatus::Returned,
        ShippingStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ShippingStatus::Awaiting => "awaiting",
            ShippingStatus::Confirmed => "confirmed",
            ShippingStatus::InProcess => "in_process",
            ShippingStatus::Shipped => "shipped",
            ShippingStatus::Delivered => "delivered",
            ShippingStatus::Returned => "returned",
            ShippingStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// The `{request_handler}` of `PATCH /api/v2/orders/{id}/{request_handler}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    InProcess,
    Shipped,
    Delivered,
    Returned,
    Cancelled,
    CreateInvoice,
}

impl Transition {
    pub const ALL: [Transition; 6] = [
        Transition::InProcess,
        Transition::Shipped,
        Transition::Delivered,
        Transition::Returned,
        Transition::Cancelled,
        Transition::CreateInvoice,
    ];

    /// The path segment.
    /// The shipping statuses a shop lets this transition start from (the simulator enforces
    /// them; the gateway checks them before calling the vendor).
    pub fn allowed_from(self) -> &'static [ShippingStatus] {
        use ShippingStatus::*;
        match self {
            Transition::InProcess => &[Awaiting, Confirmed],
            Transition::Shipped => &[Awaiting, Confirmed, InProcess],
            Transition::Delivered => &[InProcess, Shipped],
            Transition::Returned => &[Shipped, Delivered],
            Transition::Cancelled => &[Awaiting, Confirmed, InProcess],
            // Any order but a cancelled one can be invoiced, once.
            Transition::CreateInvoice => {
                &[Awaiting, Confirmed, InProcess, Shipped, Delivered, Returned]
            }
        }
    }

    /// The shipping status after the transition (`None`: unchanged, an invoice).
    pub fn leads_to(self) -> Option<ShippingStatus> {
        match self {
            Transition::InProcess => Some(ShippingStatus::InProcess),
            Transition::Shipped => Some(ShippingStatus::Shipped),
            Transition::Delivered => Some(ShippingStatus::Delivered),
            Transition::Returned => Some(ShippingStatus::Returned),
            Transition::Cancelled => Some(ShippingStatus::Cancelled),
            Transition::CreateInvoice => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::InProcess => "in_process",
            Transition::Shipped => "shipped",
            Transition::Delivered => "delivered",
            Transition::Returned => "returned",
            Transition::Cancelled => "cancelled",
            Transition::CreateInvoice => "create_invoice",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// `sort=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sort {
    DateCreated,
    DateCreatedDesc,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::DateCreated => "date_created",
            Sort::DateCreatedDesc => "date_created.desc",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "date_created" => Some(Sort::DateCreated),
            "date_created.desc" => Some(Sort::DateCreatedDesc),
            _ => None,
        }
    }
}

/// The query string of `GET /api/v2/orders` (and `fields` of `GET /api/v2/orders/{id}`),
/// every parameter as the doc writes it. Values stay strings: the simulator validates them
/// and answers a bad one in the vendor's error shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Comma-separated order ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_substatus_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_transaction_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_substatus_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_method_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_awb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    /// ISO 8601 date or date-time. The doc's example writes `create_after`; read as the same.
    #[serde(alias = "create_after", skip_serializing_if = "Option::is_none")]
    pub created_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_name: Option<String>,
    /// Comma-separated tag ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_ids: Option<String>,
    /// Comma-separated field names; `id` is always included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<String>,
    /// Comma-separated extra fields, e.g. `line_items`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// A list resource: `{"data": [...], "meta": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderList {
    #[serde(default)]
    pub data: Vec<Order>,
    pub meta: ListMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListMeta {
    pub count: ListCount,
    #[serde(default)]
    pub links: ListLinks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCount {
    pub total: Id,
    pub current: Id,
    #[serde(default = "zero")]
    pub start: Id,
    #[serde(default = "zero")]
    pub limit: Id,
}

fn zero() -> Id {
    Id(0)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListLinks {
    pub prev: Option<String>,
    pub current: Option<String>,
    pub next: Option<String>,
}

/// An order as `GET /orders`, `GET /orders/{id}`, `POST` and `PATCH` return it. Every field but
/// `id` may be absent (`fields=` selects them). Fields the doc's examples show are written even
/// when `null`, as the vendor does; fields only its field table names are left out when unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Id>,
    /// For a return (RMA) order: the order it returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_source_id: Option<Id>,
    /// Return orders raised against this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rma_orders: Option<Vec<RmaOrder>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_name: Option<String>,
    /// The order's id in its sales channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_ref_id: Option<String>,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub payment_status_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_substatus_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_substatus_text: Option<String>,
    #[serde(default)]
    pub payment_method_code: Option<String>,
    #[serde(default)]
    pub payment_method_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_transaction_id: Option<String>,
    #[serde(default)]
    pub shipping_status: Option<String>,
    #[serde(default)]
    pub shipping_status_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_substatus_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_substatus_text: Option<String>,
    #[serde(default)]
    pub shipping_method_id: Option<Id>,
    #[serde(default)]
    pub shipping_method_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_delivery_info: Option<DeliveryInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_carrier_id: Option<String>,
    /// The courier's tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_awb: Option<String>,
    #[serde(default)]
    pub shipping_amount: Option<Amount>,
    #[serde(default)]
    pub shipping_tax_amount: Option<Amount>,
    #[serde(default)]
    pub total_amount: Option<Amount>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_rate: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<String>,
    #[serde(default)]
    pub customer_id: Option<Id>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub customer_ip_address: Option<String>,
    /// ISO alpha-2, upper- or lower-case (`"RO"`, `"ro"`), or `""`.
    #[serde(default)]
    pub customer_ip_country: Option<String>,
    #[serde(default)]
    pub customer_device: Option<String>,
    #[serde(default)]
    pub customer_lang: Option<String>,
    #[serde(default)]
    pub customer_note: Option<String>,
    /// `null` or `""` when there is none.
    #[serde(default)]
    pub customer_notification: Option<String>,
    /// ISO 8601 with offset.
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_shipped: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_delivered: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub meta_fields: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<Vec<InternalNote>>,
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
    #[serde(default)]
    pub billing_type: Option<String>,
    #[serde(default)]
    pub billing_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_identity_number: Option<String>,
    #[serde(default)]
    pub billing_company_name: Option<String>,
    #[serde(default)]
    pub billing_company_number: Option<String>,
    #[serde(default)]
    pub billing_company_vat: Option<String>,
    #[serde(default)]
    pub billing_company_bank_name: Option<String>,
    #[serde(default)]
    pub billing_company_bank_account: Option<String>,
    #[serde(default)]
    pub billing_country_code: Option<String>,
    #[serde(default)]
    pub billing_country_name: Option<String>,
    #[serde(default)]
    pub billing_state: Option<String>,
    #[serde(default)]
    pub billing_city: Option<String>,
    #[serde(default)]
    pub billing_address: Option<String>,
    #[serde(default)]
    pub billing_postal_code: Option<String>,
    #[serde(default)]
    pub billing_phone: Option<String>,
    #[serde(default)]
    pub shipping_name: Option<String>,
    #[serde(default)]
    pub shipping_country_code: Option<String>,
    #[serde(default)]
    pub shipping_country_name: Option<String>,
    #[serde(default)]
    pub shipping_state: Option<String>,
    #[serde(default)]
    pub shipping_city: Option<String>,
    #[serde(default)]
    pub shipping_address: Option<String>,
    #[serde(default)]
    pub shipping_postal_code: Option<String>,
    #[serde(default)]
    pub shipping_phone: Option<String>,
    /// Only with `include=line_items` in lists; always in a single order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_items: Option<Vec<LineItem>>,
    #[serde(default)]
    pub invoice: Option<Invoice>,
    #[serde(default)]
    pub info_url: Option<String>,
    #[serde(default)]
    pub proforma_url: Option<String>,
}

impl Order {
    /// An order with only its id; the simulator fills in the rest.
    pub fn with_id(id: u64) -> Self {
        Order {
            id: Id(id),
            parent_id: None,
            return_source_id: None,
            rma_orders: None,
            channel_name: None,
            channel_ref_id: None,
            payment_status: None,
            payment_status_text: None,
            payment_substatus_id: None,
            payment_substatus_text: None,
            payment_method_code: None,
            payment_method_name: None,
            payment_transaction_id: None,
            shipping_status: None,
            shipping_status_text: None,
            shipping_substatus_id: None,
            shipping_substatus_text: None,
            shipping_method_id: None,
            shipping_method_name: None,
            shipping_delivery_info: None,
            shipping_carrier_id: None,
            shipping_awb: None,
            shipping_amount: None,
            shipping_tax_amount: None,
            total_amount: None,
            currency: None,
            original_currency: None,
            currency_rate: None,
            coupon_code: None,
            customer_id: None,
            customer_email: None,
            customer_ip_address: None,
            customer_ip_country: None,
            customer_device: None,
            customer_lang: None,
            customer_note: None,
            customer_notification: None,
            date_created: None,
            date_modified: None,
            date_shipped: None,
            date_delivered: None,
            created_by: None,
            meta_fields: None,
            internal_notes: None,
            tags: None,
            billing_type: None,
            billing_name: None,
            billing_identity_number: None,
            billing_company_name: None,
            billing_company_number: None,
            billing_company_vat: None,
            billing_company_bank_name: None,
            billing_company_bank_account: None,
            billing_country_code: None,
            billing_country_name: None,
            billing_state: None,
            billing_city: None,
            billing_address: None,
            billing_postal_code: None,
            billing_phone: None,
            shipping_name: None,
            shipping_country_code: None,
            shipping_country_name: None,
            shipping_state: None,
            shipping_city: None,
            shipping_address: None,
            shipping_postal_code: None,
            shipping_phone: None,
            line_items: None,
            invoice: None,
            info_url: None,
            proforma_url: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RmaOrder {
    pub id: Id,
    /// Kind of return, e.g. `return`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryInfo {
    pub delivery_time: Option<String>,
    pub pickup_address: Option<PickupAddress>,
}

/// A locker, easybox or office the customer collects from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PickupAddress {
    pub id: Option<Id>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InternalNote {
    pub id: Option<Id>,
    pub text: Option<String>,
}

/// A tag: `{id, name}` in answers; `{name}` alone when a request sets tags by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tag {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Id>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Invoice {
    pub prefix: Option<String>,
    pub number: Option<String>,
    pub app: Option<String>,
    pub cancelled: bool,
    pub url: Option<String>,
}

/// A product line of an order, in answers and in `POST /orders`. The create answer leaves out
/// `item_type`, `variant_name` and `variant_options`; lists may leave out `variant_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LineItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_options: Option<Vec<VariantOption>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_sku: Option<String>,
    pub product_sku: Option<String>,
    pub product_ean: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_image_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_tax_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_tax_percent: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price_net: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_tax_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price_gross: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_subtotal_net: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_tax_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_subtotal_gross: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VariantOption {
    pub id: Option<Id>,
    pub name: Option<String>,
    pub value: Option<String>,
}

/// Body of `POST /api/v2/orders`, with the fields the doc's example sends (and the address
/// fields of the field table). Unset fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewOrder {
    /// For a return (RMA) order, e.g. an exchange: the original order it is raised against
    /// (the field table's `return_source_id`). The shop links the two both ways.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_source_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_ref_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_method_id: Option<Id>,
    /// The doc's example sends `"shipping_amount": null`; `None` is left out instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_awb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_country_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_country_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    pub line_items: Vec<LineItem>,
}

/// Body of `PATCH /api/v2/orders/{id}`: only the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_ref_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_transaction_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_method_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_awb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_notification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_phone: Option<String>,
    /// Replaces the order's tags; tags are named, ids are the shop's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Answer of `DELETE /orders/{id}` and of every status transition: `{"ok": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub ok: bool,
}

/// The error answer: `{"message": "...", "errors": {...}}` with a 4xx/5xx status. The doc
/// shows no error example; this is the shape MerchantPro answers with, `errors` (per-field
/// messages on a validation failure) being optional and read as any JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<serde_json::Value>,
}

/// The other error answer MerchantPro servers send: `{"error": {"code": ..., "message": ...}}`,
/// the code being the vendor's own (a string or a number, read as text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NestedErrorBody {
    pub error: NestedError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NestedError {
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<String>,
    pub message: String,
}

/// Either error answer, as read by the client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ErrorAnswer {
    Nested(NestedErrorBody),
    Flat(ErrorBody),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_read_numbers_and_numeric_strings_and_write_numbers() {
        for v in [
            json!(12345001),
            json!("12345001"),
            json!(" 12345001 "),
            json!(12345001.0),
        ] {
            assert_eq!(
                serde_json::from_value::<Id>(v.clone()).unwrap(),
                Id(12345001),
                "{v}"
            );
        }
        for bad in [
            json!(-1),
            json!(""),
            json!("x"),
            json!(1.5),
            json!(null),
            json!({}),
        ] {
            assert!(serde_json::from_value::<Id>(bad.clone()).is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::from_value::<Option<Id>>(json!(null)).unwrap(),
            None
        );
        assert_eq!(serde_json::to_value(Id(7)).unwrap(), json!(7));
    }

    #[test]
    fn amounts_are_exact_and_written_as_the_doc_writes_them() {
        let a = |v: serde_json::Value| serde_json::from_value::<Amount>(v).unwrap();
        assert_eq!(a(json!(30.23)).to_string(), "30.23");
        assert_eq!(a(json!("30.230")).to_string(), "30.23");
        assert_eq!(a(json!(15)), Amount::from_cents(1500));
        for bad in [json!(""), json!("abc"), json!(true), json!(null)] {
            assert!(
                serde_json::from_value::<Amount>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        assert_eq!(serde_json::to_value(a(json!("15.00"))).unwrap(), json!(15));
        assert_eq!(serde_json::to_value(a(json!(30.23))).unwrap(), json!(30.23));
    }
}

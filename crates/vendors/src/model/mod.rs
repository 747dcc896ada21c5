//! The unified domain model every vendor is mapped into.
//!
//! No serde wire names live here: each vendor's `mapping.rs` turns its wire types into these.
//! Every normalised status sits beside the vendor's raw code, so nothing the vendor said is lost.

pub mod codes;
mod contact;
mod status;

pub use contact::{normalize_email, normalize_phone};
pub use status::{PaymentStatus, RefundStatus, ReturnStatus, TrackingStatus};

use chrono::{DateTime, FixedOffset, NaiveTime, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The five upstream systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Vendor {
    VTrack,
    ProCarrier,
    Rrr,
    MerchantPro,
    TrackRu,
}

impl Vendor {
    pub const ALL: [Vendor; 5] = [
        Vendor::VTrack,
        Vendor::ProCarrier,
        Vendor::Rrr,
        Vendor::MerchantPro,
        Vendor::TrackRu,
    ];

    /// Short, stable name used in config keys, global ids, metrics and error extensions.
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::VTrack => "vtrack",
            Vendor::ProCarrier => "procarrier",
            Vendor::Rrr => "rrr",
            Vendor::MerchantPro => "merchantpro",
            Vendor::TrackRu => "trackru",
        }
    }
}

impl std::fmt::Display for Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact decimal amount in an ISO-4217 currency. Never f64 arithmetic on money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: String,
}

/// Written as `{"amount": "120.50", "currency": "EUR"}`, the amount as [`Money::amount_text`].
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut money = serializer.serialize_struct("Money", 2)?;
        money.serialize_field("amount", &self.amount_text())?;
        money.serialize_field("currency", &self.currency)?;
        money.end()
    }
}

/// Read back from what [`Serialize`] wrote (the index stores the model as JSON).
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Written {
            amount: String,
            currency: String,
        }
        let written = Written::deserialize(deserializer)?;
        let amount = written
            .amount
            .parse::<Decimal>()
            .map_err(serde::de::Error::custom)?;
        Ok(Money::new(amount, written.currency))
    }
}

impl Money {
    pub fn new(amount: Decimal, currency: impl Into<String>) -> Self {
        Money {
            amount,
            currency: currency.into().trim().to_ascii_uppercase(),
        }
    }

    /// Money from a JSON float as the vendor sent it: `9.99` stays `9.99` (shortest decimal
    /// representation of the float, not its binary expansion).
    pub fn from_f64(amount: f64, currency: impl Into<String>) -> Option<Self> {
        use rust_decimal::prelude::FromPrimitive;
        Decimal::from_f64(amount).map(|d| Money::new(d.normalize(), currency))
    }

    /// The amount as written out: with the currency's ISO-4217 minor units (`120.50` EUR,
    /// `240` JPY, `1.500` KWD; 2 for a currency we don't know). Digits beyond those that carry
    /// a value are kept (`0.125` EUR stays `0.125`): zeros are added, nothing is rounded away.
    pub fn amount_text(&self) -> String {
        let mut amount = self.amount.normalize();
        let units = codes::minor_units(&self.currency);
        if amount.scale() < units {
            amount.rescale(units);
        }
        amount.to_string()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub neighborhood: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO-3166 alpha-2, upper-case.
    pub country: Option<String>,
}

/// A person as one vendor knows them. `email`/`phone` are normalised (lower-case e-mail, E.164
/// phone) so the same person can be joined across vendors; the raw values are kept beside them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub vendor: Option<Vendor>,
    pub vendor_customer_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub email_raw: Option<String>,
    pub phone_raw: Option<String>,
    pub address: Option<Address>,
}

impl Customer {
    /// Builds a customer from raw vendor values, normalising name, e-mail and phone.
    /// `country` (ISO alpha-2) helps place a phone written without its country code.
    pub fn from_raw(
        vendor: Vendor,
        name: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
        country: Option<&str>,
    ) -> Customer {
        let clean = |s: Option<&str>| {
            s.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|s| !s.is_empty())
        };
        Customer {
            vendor: Some(vendor),
            vendor_customer_id: None,
            name: clean(name),
            email: email.and_then(normalize_email),
            phone: phone.and_then(|p| normalize_phone(p, country)),
            email_raw: email.filter(|s| !s.is_empty()).map(str::to_owned),
            phone_raw: phone.filter(|s| !s.is_empty()).map(str::to_owned),
            address: None,
        }
    }
}

/// Why an item goes back, as the customer or the marketplace said it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnReason {
    /// ProCarrier `Action` (e.g. `Exchange`, `Refund`).
    pub action: Option<String>,
    pub reason: Option<String>,
    pub wish: Option<String>,
    pub additional_title: Option<String>,
    pub additional_value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnItem {
    pub id: Option<String>,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub quantity: u32,
    pub unit_price: Option<Money>,
    /// The same price in the seller's currency where the vendor gives both (RRR).
    pub unit_price_seller: Option<Money>,
    pub returnable_amount: Option<Money>,
    pub returnable_amount_seller: Option<Money>,
    pub vat_rate: Option<Decimal>,
    pub reason: Option<ReturnReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub vendor: Vendor,
    pub id: String,
    pub status: RefundStatus,
    pub status_raw: String,
    pub amount: Option<Money>,
    pub amount_seller: Option<Money>,
    pub created_at: Option<DateTime<FixedOffset>>,
    pub paid_at: Option<DateTime<FixedOffset>>,
    pub invoice_number: Option<String>,
    pub invoice_url: Option<String>,
    /// Ids of the return items this refund covers.
    pub item_ids: Vec<String>,
}

/// A return label as the vendor produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub content_type: String,
    pub base64: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    pub vendor: Vendor,
    /// The vendor's own id (ProCarrier `Id`, RRR `id`, V-Track voucher).
    pub id: String,
    pub display_id: Option<String>,
    /// The shop order's channel reference (MerchantPro `channel_ref_id`), which links the
    /// return to its shop order.
    pub order_reference: Option<String>,
    /// The marketplace's own order number (RRR `order_id`): neither a shop order id nor a
    /// channel reference, so it links to no shop order.
    pub marketplace_order_id: Option<String>,
    pub tracking_number: Option<String>,
    pub status: ReturnStatus,
    pub status_raw: String,
    /// Where the parcel is, when the vendor tracks it.
    pub tracking_status: Option<TrackingStatus>,
    pub tracking_status_raw: Option<String>,
    pub created_at: Option<DateTime<FixedOffset>>,
    pub updated_at: Option<DateTime<FixedOffset>>,
    pub customer: Option<Customer>,
    pub address: Option<Address>,
    pub items: Vec<ReturnItem>,
    pub refunds: Vec<Refund>,
    /// The recipient refused the parcel (V-Track `with_refusal`).
    pub refused: bool,
    pub carrier: Option<String>,
    pub service_id: Option<String>,
    pub total: Option<Money>,
    pub total_seller: Option<Money>,
    pub shipping: Option<Money>,
    pub shipping_seller: Option<Money>,
    pub label: Option<Label>,
    pub first_mile_address: Option<String>,
    pub secondary_barcodes: Vec<String>,
    pub invoice_id: Option<String>,
}

impl Return {
    /// A return with only its identity and status set; mappings fill in the rest.
    pub fn new(
        vendor: Vendor,
        id: impl Into<String>,
        status: ReturnStatus,
        raw: impl Into<String>,
    ) -> Self {
        Return {
            vendor,
            id: id.into(),
            display_id: None,
            order_reference: None,
            marketplace_order_id: None,
            tracking_number: None,
            status,
            status_raw: raw.into(),
            tracking_status: None,
            tracking_status_raw: None,
            created_at: None,
            updated_at: None,
            customer: None,
            address: None,
            items: Vec::new(),
            refunds: Vec::new(),
            refused: false,
            carrier: None,
            service_id: None,
            total: None,
            total_seller: None,
            shipping: None,
            shipping_seller: None,
            label: None,
            first_mile_address: None,
            secondary_barcodes: Vec::new(),
            invoice_id: None,
        }
    }
}

/// A parcel delivered to the customer (V-Track `delivered[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub vendor: Vendor,
    pub tracking_number: String,
    pub order_reference: Option<String>,
    pub invoice_id: Option<String>,
    pub finalized_at: Option<DateTime<FixedOffset>>,
    pub delivered_at: Option<DateTime<FixedOffset>>,
    pub customer: Option<Customer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub id: Option<String>,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub quantity: Decimal,
    pub unit_price: Option<Money>,
    pub total: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub vendor: Vendor,
    pub id: String,
    /// The order's id in the sales channel (MerchantPro `channel_ref_id`), which other vendors
    /// use as their order reference.
    pub reference: Option<String>,
    pub created_at: Option<DateTime<FixedOffset>>,
    pub updated_at: Option<DateTime<FixedOffset>>,
    pub payment_status: PaymentStatus,
    pub payment_status_raw: String,
    pub shipping_status: TrackingStatus,
    pub shipping_status_raw: String,
    pub customer: Option<Customer>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub lines: Vec<OrderLine>,
    pub total: Option<Money>,
    pub shipping_total: Option<Money>,
    pub tracking_number: Option<String>,
    pub shipping_method: Option<String>,
    /// For a return order: the order it returns.
    pub return_source_id: Option<String>,
    /// Return (RMA) orders raised against this one.
    pub rma_order_ids: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    /// Free text when the vendor gives no structure.
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub vendor: Vendor,
    pub id: Option<String>,
    pub tracking_number: String,
    pub at: DateTime<FixedOffset>,
    pub status: TrackingStatus,
    pub status_raw: String,
    pub description: Option<String>,
    pub location: Option<Location>,
}

/// One parcel as a tracking vendor knows it, with its events in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub vendor: Vendor,
    pub id: Option<String>,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub status: TrackingStatus,
    pub status_raw: String,
    pub order_reference: Option<String>,
    pub customer: Option<Customer>,
    pub destination_country: Option<String>,
    pub created_at: Option<DateTime<FixedOffset>>,
    pub updated_at: Option<DateTime<FixedOffset>>,
    pub archived: bool,
    /// `status` was set by hand at the vendor (TrackRU's overrides `4`/`7`): it stands over
    /// what the events say until the override is reverted.
    pub manual_status: bool,
    pub events: Vec<TrackingEvent>,
}

/// Opening ranges of one weekday; empty means closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    pub weekday: Weekday,
    pub ranges: Vec<(NaiveTime, NaiveTime)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropOffPoint {
    pub vendor: Vendor,
    pub id: String,
    pub carrier: Option<String>,
    pub service_id: Option<String>,
    pub title: String,
    pub address: String,
    pub hours_text: Option<String>,
    /// Monday to Sunday, always seven entries when the vendor sent detailed hours.
    pub opening_hours: Vec<DayHours>,
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnService {
    pub vendor: Vendor,
    pub id: String,
    pub name: String,
    /// e.g. `home_collection`, `drop_off`.
    pub kind: Option<String>,
    pub carrier: Option<String>,
    pub logo_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn text(amount: &str, currency: &str) -> String {
        Money::new(Decimal::from_str(amount).expect("decimal"), currency).amount_text()
    }

    #[test]
    fn amounts_are_written_with_their_currencys_minor_units() {
        for (amount, currency, written) in [
            ("120.5", "EUR", "120.50"),
            ("240", "EUR", "240.00"),
            ("7.5", "eur", "7.50"),
            ("275.11", "EUR", "275.11"),
            ("0", "EUR", "0.00"),
            ("-7.5", "EUR", "-7.50"),
            ("240", "JPY", "240"),
            ("240.00", "JPY", "240"),
            ("1.5", "KWD", "1.500"),
            ("12", "BHD", "12.000"),
            ("3.25", "TND", "3.250"),
            ("3", "XYZ", "3.00"),
        ] {
            assert_eq!(text(amount, currency), written, "{amount} {currency}");
        }
    }

    #[test]
    fn digits_beyond_the_minor_units_are_kept_never_rounded() {
        assert_eq!(text("0.125", "EUR"), "0.125");
        assert_eq!(text("120.500", "EUR"), "120.50");
        assert_eq!(text("240.5", "JPY"), "240.5");
        assert_eq!(text("1.23456", "KWD"), "1.23456");
    }

    #[test]
    fn money_serialises_with_the_same_text() {
        let money = Money::from_f64(120.5, "EUR").expect("finite");
        assert_eq!(
            serde_json::to_value(&money).expect("serialise"),
            serde_json::json!({"amount": "120.50", "currency": "EUR"})
        );
    }
}

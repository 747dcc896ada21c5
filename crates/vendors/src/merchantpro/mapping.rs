//! MerchantPro wire types → the unified model.

use chrono::{DateTime, FixedOffset};

use super::wire;
use crate::escaped::Escaped;
use crate::model::{
    Address, Customer, Money, Order, OrderLine, PaymentStatus, TrackingStatus, Vendor,
};

/// `payment_status` → [`PaymentStatus`], every value the doc lists.
pub const PAYMENT_STATUSES: &[(&str, PaymentStatus)] = &[
    ("temporary", PaymentStatus::Pending),
    ("awaiting", PaymentStatus::Pending),
    ("paid", PaymentStatus::Paid),
    ("failed", PaymentStatus::Failed),
    ("cancelled", PaymentStatus::Cancelled),
    ("refunded", PaymentStatus::Refunded),
    ("rejected", PaymentStatus::Rejected),
];

/// `shipping_status` → [`TrackingStatus`], every value the doc lists. `awaiting` and
/// `confirmed` are orders not yet prepared; `in_process` is being packed, the courier has (at
/// most) the shipment's data.
pub const SHIPPING_STATUSES: &[(&str, TrackingStatus)] = &[
    ("awaiting", TrackingStatus::Pending),
    ("confirmed", TrackingStatus::Pending),
    ("in_process", TrackingStatus::InfoReceived),
    ("shipped", TrackingStatus::InTransit),
    ("delivered", TrackingStatus::Delivered),
    ("returned", TrackingStatus::ReturnToSender),
    ("cancelled", TrackingStatus::Cancelled),
];

pub fn payment_status(raw: &str) -> Option<PaymentStatus> {
    let raw = raw.trim();
    PAYMENT_STATUSES
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(raw))
        .map(|&(_, s)| s)
}

pub fn shipping_status(raw: &str) -> Option<TrackingStatus> {
    let raw = raw.trim();
    SHIPPING_STATUSES
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(raw))
        .map(|&(_, s)| s)
}

/// `None` for a missing or blank text: the shop writes "no value" as `null` or `""`.
fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// ISO 8601 with offset, as the doc's `date_*` fields; `None` (and a warning) otherwise.
pub fn date(raw: &Option<String>) -> Option<DateTime<FixedOffset>> {
    let raw = text(raw)?;
    match DateTime::parse_from_rfc3339(&raw) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(vendor = "merchantpro", value = %Escaped(&raw), error = %e, "unreadable date");
            None
        }
    }
}

fn money(amount: Option<wire::Amount>, currency: Option<&str>) -> Option<Money> {
    Some(Money::new(amount?.0, currency?))
}

fn country(code: &Option<String>) -> Option<String> {
    text(code).map(|c| c.to_ascii_uppercase())
}

fn billing_address(o: &wire::Order) -> Option<Address> {
    let a = Address {
        name: text(&o.billing_name),
        company: text(&o.billing_company_name),
        line1: text(&o.billing_address),
        city: text(&o.billing_city),
        state: text(&o.billing_state),
        postal_code: text(&o.billing_postal_code),
        country: country(&o.billing_country_code),
        ..Address::default()
    };
    (a != Address::default()).then_some(a)
}

fn shipping_address(o: &wire::Order) -> Option<Address> {
    let a = Address {
        name: text(&o.shipping_name),
        line1: text(&o.shipping_address),
        city: text(&o.shipping_city),
        state: text(&o.shipping_state),
        postal_code: text(&o.shipping_postal_code),
        country: country(&o.shipping_country_code),
        ..Address::default()
    };
    (a != Address::default()).then_some(a)
}

fn customer(o: &wire::Order, billing: Option<&Address>) -> Option<Customer> {
    let name = text(&o.billing_name).or_else(|| text(&o.shipping_name));
    let email = text(&o.customer_email);
    let phone = text(&o.billing_phone).or_else(|| text(&o.shipping_phone));
    if name.is_none() && email.is_none() && phone.is_none() && o.customer_id.is_none() {
        return None;
    }
    // A phone written nationally belongs to the billing (else shipping, else IP) country.
    let phone_country = country(&o.billing_country_code)
        .or_else(|| country(&o.shipping_country_code))
        .or_else(|| country(&o.customer_ip_country));
    let mut c = Customer::from_raw(
        Vendor::MerchantPro,
        name.as_deref(),
        email.as_deref(),
        phone.as_deref(),
        phone_country.as_deref(),
    );
    c.vendor_customer_id = o.customer_id.map(|id| id.to_string());
    c.address = billing.cloned();
    Some(c)
}

fn line(item: &wire::LineItem, currency: Option<&str>) -> OrderLine {
    let name = match (text(&item.product_name), text(&item.variant_name)) {
        (Some(p), Some(v)) => Some(format!("{p} ({v})")),
        (p, _) => p,
    };
    OrderLine {
        id: item.variant_id.or(item.product_id).map(|id| id.to_string()),
        sku: text(&item.product_sku).or_else(|| text(&item.family_sku)),
        name,
        quantity: match item.quantity {
            Some(q) => q.0,
            None => {
                // Every documented line has one; say so rather than invent a count.
                tracing::warn!(vendor = "merchantpro", "order line without quantity");
                rust_decimal::Decimal::ZERO
            }
        },
        unit_price: money(item.unit_price_gross, currency),
        total: money(item.line_subtotal_gross, currency),
    }
}

/// One MerchantPro order. Fields left out by `fields=` become `None`; an unknown status keeps
/// its raw code beside `Pending` (and logs a warning).
pub fn order(o: &wire::Order) -> Order {
    let currency = text(&o.currency);
    let currency = currency.as_deref();
    let payment_raw = o.payment_status.clone().unwrap_or_default();
    let shipping_raw = o.shipping_status.clone().unwrap_or_default();
    let payment = payment_status(&payment_raw).unwrap_or_else(|| {
        if !payment_raw.is_empty() {
            tracing::warn!(vendor = "merchantpro", status = %Escaped(&payment_raw), "unknown payment_status");
        }
        PaymentStatus::Pending
    });
    let shipping = shipping_status(&shipping_raw).unwrap_or_else(|| {
        if !shipping_raw.is_empty() {
            tracing::warn!(vendor = "merchantpro", status = %Escaped(&shipping_raw), "unknown shipping_status");
        }
        TrackingStatus::Pending
    });
    let billing = billing_address(o);
    Order {
        vendor: Vendor::MerchantPro,
        id: o.id.to_string(),
        reference: text(&o.channel_ref_id),
        created_at: date(&o.date_created),
        updated_at: date(&o.date_modified),
        payment_status: payment,
        payment_status_raw: payment_raw,
        shipping_status: shipping,
        shipping_status_raw: shipping_raw,
        customer: customer(o, billing.as_ref()),
        shipping_address: shipping_address(o),
        billing_address: billing,
        lines: o
            .line_items
            .iter()
            .flatten()
            .map(|item| line(item, currency))
            .collect(),
        total: money(o.total_amount, currency),
        shipping_total: money(o.shipping_amount, currency),
        tracking_number: text(&o.shipping_awb),
        shipping_method: text(&o.shipping_method_name),
        return_source_id: o.return_source_id.map(|id| id.to_string()),
        rma_order_ids: o
            .rma_orders
            .iter()
            .flatten()
            .map(|r| r.id.to_string())
            .collect(),
        tags: o
            .tags
            .iter()
            .flatten()
            .filter_map(|t| text(&t.name))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn fixture(name: &str) -> String {
        let path = format!("{}/fixtures/merchantpro/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn payment_statuses_row_by_row() {
        assert_eq!(payment_status("temporary"), Some(PaymentStatus::Pending));
        assert_eq!(payment_status("awaiting"), Some(PaymentStatus::Pending));
        assert_eq!(payment_status("paid"), Some(PaymentStatus::Paid));
        assert_eq!(payment_status("failed"), Some(PaymentStatus::Failed));
        assert_eq!(payment_status("cancelled"), Some(PaymentStatus::Cancelled));
        assert_eq!(payment_status("refunded"), Some(PaymentStatus::Refunded));
        assert_eq!(payment_status("rejected"), Some(PaymentStatus::Rejected));
        assert_eq!(payment_status(" PAID "), Some(PaymentStatus::Paid));
        assert_eq!(payment_status("bogus"), None);
        assert_eq!(PAYMENT_STATUSES.len(), 7);
    }

    #[test]
    fn shipping_statuses_row_by_row() {
        assert_eq!(shipping_status("awaiting"), Some(TrackingStatus::Pending));
        assert_eq!(shipping_status("confirmed"), Some(TrackingStatus::Pending));
        assert_eq!(
            shipping_status("in_process"),
            Some(TrackingStatus::InfoReceived)
        );
        assert_eq!(shipping_status("shipped"), Some(TrackingStatus::InTransit));
        assert_eq!(
            shipping_status("delivered"),
            Some(TrackingStatus::Delivered)
        );
        assert_eq!(
            shipping_status("returned"),
            Some(TrackingStatus::ReturnToSender)
        );
        assert_eq!(
            shipping_status("cancelled"),
            Some(TrackingStatus::Cancelled)
        );
        assert_eq!(shipping_status("lost"), None);
        assert_eq!(SHIPPING_STATUSES.len(), 7);
    }

    #[test]
    fn every_wire_status_has_a_row() {
        for s in wire::PaymentStatus::ALL {
            assert!(payment_status(s.as_str()).is_some(), "{s:?}");
        }
        for s in wire::ShippingStatus::ALL {
            assert!(shipping_status(s.as_str()).is_some(), "{s:?}");
        }
    }

    #[test]
    fn the_get_sample_maps() {
        let o: wire::Order = serde_json::from_str(&fixture("orders-get.response.json")).unwrap();
        let m = order(&o);
        assert_eq!(m.vendor, Vendor::MerchantPro);
        assert_eq!(m.id, "12345001");
        assert_eq!(m.payment_status, PaymentStatus::Pending);
        assert_eq!(m.payment_status_raw, "awaiting");
        assert_eq!(m.shipping_status, TrackingStatus::Pending);
        assert_eq!(m.shipping_status_raw, "awaiting");
        assert_eq!(m.total, Some(Money::new(dec("453.05"), "RON")));
        assert_eq!(m.shipping_total, None, "shipping_amount is null");
        assert_eq!(
            m.created_at.unwrap().to_rfc3339(),
            "2020-03-25T07:42:28+02:00"
        );
        let c = m.customer.unwrap();
        assert_eq!(c.email.as_deref(), Some("dfdfddddf@exemple.com"));
        assert_eq!(c.name.as_deref(), Some("John Smith"));
        assert_eq!(c.vendor_customer_id.as_deref(), Some("2"));
        assert_eq!(c.phone, None, "billing_phone is empty");
        assert_eq!(m.lines.len(), 2);
        assert_eq!(m.lines[1].quantity, dec("2"));
        assert_eq!(
            m.lines[1].unit_price,
            Some(Money::new(dec("117.03"), "RON"))
        );
        assert_eq!(m.lines[1].total, Some(Money::new(dec("234.06"), "RON")));
        let ship = m.shipping_address.unwrap();
        assert_eq!(ship.city.as_deref(), Some("bacau"));
        assert_eq!(ship.line1, None, "empty address is no address line");
        assert_eq!(ship.country.as_deref(), Some("RO"));
    }

    #[test]
    fn the_update_sample_maps_tags_phone_and_notification() {
        let o: wire::Order = serde_json::from_str(&fixture("orders-update.response.json")).unwrap();
        assert_eq!(o.customer_notification.as_deref(), Some(""));
        let m = order(&o);
        assert_eq!(m.tags, vec!["Feedback excelent".to_owned()]);
        assert_eq!(m.payment_status, PaymentStatus::Cancelled);
        assert_eq!(m.shipping_status, TrackingStatus::Cancelled);
        assert_eq!(m.shipping_total, Some(Money::new(dec("15"), "RON")));
        assert_eq!(m.total, Some(Money::new(dec("13394.85"), "RON")));
        let c = m.customer.unwrap();
        assert_eq!(c.phone.as_deref(), Some("+40212112121"));
        assert_eq!(c.phone_raw.as_deref(), Some("0212112121"));
    }

    #[test]
    fn return_links_reference_and_awb_map() {
        let o: wire::Order = serde_json::from_value(serde_json::json!({
            "id": "70000001",
            "return_source_id": 12345007,
            "rma_orders": [{"id": 70000002, "type": "return"}],
            "channel_ref_id": "WEB0320091",
            "shipping_awb": "5012345678",
            "shipping_status": "returned",
            "total_amount": "19.90",
            "currency": "eur",
            "customer_ip_country": "gr",
            "billing_phone": "69 1234 5678"
        }))
        .unwrap();
        let m = order(&o);
        assert_eq!(m.id, "70000001");
        assert_eq!(m.return_source_id.as_deref(), Some("12345007"));
        assert_eq!(m.rma_order_ids, vec!["70000002".to_owned()]);
        assert_eq!(m.reference.as_deref(), Some("WEB0320091"));
        assert_eq!(m.tracking_number.as_deref(), Some("5012345678"));
        assert_eq!(m.shipping_status, TrackingStatus::ReturnToSender);
        assert_eq!(m.total, Some(Money::new(dec("19.90"), "EUR")));
        assert_eq!(m.customer.unwrap().phone.as_deref(), Some("+306912345678"));
    }
}

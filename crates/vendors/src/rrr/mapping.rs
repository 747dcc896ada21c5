//! Wire types → unified model.
//!
//! Every amount exists twice, in the buyer's `currency` and in `seller_currency`; both are kept
//! (`*_seller` fields of the model), never converted into each other.

use parking_lot::Mutex;
use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

use super::wire;
use crate::escaped::Escaped;
use crate::model::{
    Address, Customer, Money, Refund, RefundStatus, Return, ReturnItem, ReturnReason, ReturnStatus,
    Vendor,
};

/// RRR return statuses. The doc shows `New` and `Returned`; the rest is the life cycle our
/// simulator serves, kept in this one table.
pub const RETURN_STATUSES: &[(&str, ReturnStatus)] = &[
    // Opened by the buyer, nothing sent yet.
    ("New", ReturnStatus::Requested),
    // Accepted by the seller, parcel not moving yet.
    ("Accepted", ReturnStatus::Requested),
    ("Shipped", ReturnStatus::InTransit),
    // Back at the seller.
    ("Returned", ReturnStatus::Received),
    ("Refunded", ReturnStatus::Refunded),
    ("Rejected", ReturnStatus::Rejected),
    ("Cancelled", ReturnStatus::Cancelled),
    // Buyer and seller disagree; the marketplace investigates.
    ("Disputed", ReturnStatus::Exception),
];

/// RRR refund statuses. The doc shows `PAID_OUT`; the rest completes the life cycle.
pub const REFUND_STATUSES: &[(&str, RefundStatus)] = &[
    ("PENDING", RefundStatus::Pending),
    ("APPROVED", RefundStatus::Approved),
    ("PAID_OUT", RefundStatus::PaidOut),
    ("REJECTED", RefundStatus::Rejected),
    ("CANCELLED", RefundStatus::Cancelled),
];

/// The normalised return status of an RRR code (case-insensitive); `None` for a code not in
/// [`RETURN_STATUSES`].
pub fn return_status(raw: &str) -> Option<ReturnStatus> {
    lookup(RETURN_STATUSES, raw)
}

/// The normalised refund status of an RRR code (case-insensitive); `None` for a code not in
/// [`REFUND_STATUSES`].
pub fn refund_status(raw: &str) -> Option<RefundStatus> {
    lookup(REFUND_STATUSES, raw)
}

/// Codes outside our tables met so far, so each is logged once per process rather than on
/// every row of every read. At most `limit` are remembered (a vendor sending garbage cannot
/// grow it without end); codes beyond those are not logged, their raw value still shows.
struct UnknownCodes {
    seen: Mutex<BTreeSet<(&'static str, String)>>,
    limit: usize,
}

impl UnknownCodes {
    const fn new(limit: usize) -> Self {
        UnknownCodes {
            seen: Mutex::new(BTreeSet::new()),
            limit,
        }
    }

    /// True the first time `code` is met in `field`: then it is worth a warning.
    fn first_sighting(&self, field: &'static str, code: &str) -> bool {
        let mut seen = self.seen.lock();
        seen.len() < self.limit && seen.insert((field, code.to_owned()))
    }
}

/// The process's RRR codes outside [`RETURN_STATUSES`] and [`REFUND_STATUSES`].
static UNKNOWN_CODES: UnknownCodes = UnknownCodes::new(256);

fn warn_unknown(field: &'static str, code: &str) {
    if UNKNOWN_CODES.first_sighting(field, code) {
        tracing::warn!(
            vendor = "rrr",
            field,
            code = %Escaped(code),
            "status not in our table (logged once)"
        );
    }
}

fn lookup<T: Copy>(table: &[(&str, T)], raw: &str) -> Option<T> {
    let raw = raw.trim();
    table
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(raw))
        .map(|(_, status)| *status)
}

/// An ISO 8601 timestamp with offset (`2023-07-10T20:14:39+03:00`, `2025-01-16T14:36:04Z`).
pub fn parse_time(raw: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(raw.trim()).ok()
}

fn money(amount: Option<f64>, currency: &str) -> Option<Money> {
    if currency.trim().is_empty() {
        return None;
    }
    Money::from_f64(amount?, currency)
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// One RRR order return in the unified model. A return status outside our table is `Unknown`,
/// its raw code kept beside it, so one new code never hides a whole listing nor passes for a
/// state it is not (a refund status outside ours is still `Pending`, raw code kept: the refund
/// statuses have no unknown state).
pub fn order_return(r: &wire::OrderReturn) -> Return {
    let status = return_status(&r.status).unwrap_or_else(|| {
        warn_unknown("return status", &r.status);
        ReturnStatus::Unknown
    });
    let mut out = Return::new(Vendor::Rrr, r.id.to_string(), status, r.status.clone());
    out.marketplace_order_id = r.order_id.map(|id| id.to_string());
    out.created_at = r.created_at.as_deref().and_then(parse_time);
    let (buyer, seller) = (r.currency.as_str(), r.seller_currency.as_str());
    out.items = r
        .order_return_items
        .iter()
        .map(|item| {
            // An item names its own buyer currency; the return's applies when it does not.
            let item_currency = item.currency.as_deref().unwrap_or(buyer);
            ReturnItem {
                id: Some(item.id.to_string()),
                sku: item.part_id.map(|p| p.to_string()),
                name: text(&item.name),
                // One item is one part: RRR has no quantity.
                quantity: 1,
                unit_price: money(item.price, item_currency),
                unit_price_seller: money(item.price_in_seller_currency, seller),
                returnable_amount: money(item.returnable_amount, item_currency),
                returnable_amount_seller: money(item.returnable_amount_in_seller_currency, seller),
                vat_rate: item
                    .vat_rate
                    .and_then(Decimal::from_f64)
                    .map(|d| d.normalize()),
                reason: text(&item.return_reason).map(|reason| ReturnReason {
                    reason: Some(reason),
                    ..ReturnReason::default()
                }),
            }
        })
        .collect();
    // What the return gives back, not what was paid: `total_paid_price` and `shipping_price`
    // have no place in the model (same amounts in RRR's sample).
    out.total = money(r.total_returnable_amount, buyer);
    out.total_seller = money(r.total_returnable_amount_in_seller_currency, seller);
    out.shipping = money(r.returnable_shipping_amount, buyer);
    out.shipping_seller = money(r.returnable_shipping_amount_in_seller_currency, seller);
    if let Some(c) = &r.customer {
        let (customer, address) = customer(c);
        out.customer = Some(customer);
        out.address = Some(address);
    }
    out.refunds = r.refunds.iter().map(|f| refund(f, r)).collect();
    out.invoice_id = r
        .refunds
        .iter()
        .find_map(|f| f.invoice.as_ref().and_then(|i| text(&i.number)));
    out
}

/// The buyer and their address. RRR gives no e-mail and no city (only `region`).
fn customer(c: &wire::ReturnCustomer) -> (Customer, Address) {
    let name = [&c.first_name, &c.last_name]
        .into_iter()
        .filter_map(text)
        .collect::<Vec<_>>()
        .join(" ");
    let country = text(&c.country).map(|s| s.to_ascii_uppercase());
    let address = Address {
        name: Some(name.clone()).filter(|n| !n.is_empty()),
        line1: text(&c.address),
        state: text(&c.region),
        postal_code: text(&c.postal_code),
        country: country.clone(),
        ..Address::default()
    };
    let mut customer = Customer::from_raw(
        Vendor::Rrr,
        Some(&name),
        None,
        c.telephone.as_deref(),
        country.as_deref(),
    );
    customer.address = Some(address.clone());
    (customer, address)
}

fn refund(f: &wire::Refund, r: &wire::OrderReturn) -> Refund {
    let status = refund_status(&f.status).unwrap_or_else(|| {
        warn_unknown("refund status", &f.status);
        RefundStatus::Pending
    });
    let currency = if f.currency.trim().is_empty() {
        r.currency.as_str()
    } else {
        f.currency.as_str()
    };
    let seller = if f.seller_currency.trim().is_empty() {
        r.seller_currency.as_str()
    } else {
        f.seller_currency.as_str()
    };
    // Refund lines name parts, not return items: a part refunded is the return items of that
    // part. `Delivery` (no part) covers no item.
    let mut item_ids: Vec<String> = Vec::new();
    for part in f.refund_items.iter().filter_map(|i| i.part_id) {
        for item in r
            .order_return_items
            .iter()
            .filter(|i| i.part_id == Some(part))
        {
            let id = item.id.to_string();
            if !item_ids.contains(&id) {
                item_ids.push(id);
            }
        }
    }
    Refund {
        vendor: Vendor::Rrr,
        id: f.id.to_string(),
        status,
        status_raw: f.status.clone(),
        amount: money(f.total_amount, currency),
        amount_seller: money(f.total_amount_in_seller_currency, seller),
        created_at: f.created_at.as_deref().and_then(parse_time),
        paid_at: f.paid_at.as_deref().and_then(parse_time),
        invoice_number: f.invoice.as_ref().and_then(|i| text(&i.number)),
        invoice_url: f.invoice.as_ref().and_then(|i| text(&i.download_url)),
        item_ids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn return_statuses_row_by_row() {
        assert_eq!(return_status("New"), Some(ReturnStatus::Requested));
        assert_eq!(return_status("Accepted"), Some(ReturnStatus::Requested));
        assert_eq!(return_status("Shipped"), Some(ReturnStatus::InTransit));
        assert_eq!(return_status("Returned"), Some(ReturnStatus::Received));
        assert_eq!(return_status("Refunded"), Some(ReturnStatus::Refunded));
        assert_eq!(return_status("Rejected"), Some(ReturnStatus::Rejected));
        assert_eq!(return_status("Cancelled"), Some(ReturnStatus::Cancelled));
        assert_eq!(return_status("Disputed"), Some(ReturnStatus::Exception));
        assert_eq!(return_status(" returned "), Some(ReturnStatus::Received));
        assert_eq!(return_status("Lost in space"), None);
        assert_eq!(
            RETURN_STATUSES.len(),
            8,
            "a new row needs its own assertion"
        );
    }

    #[test]
    fn refund_statuses_row_by_row() {
        assert_eq!(refund_status("PENDING"), Some(RefundStatus::Pending));
        assert_eq!(refund_status("APPROVED"), Some(RefundStatus::Approved));
        assert_eq!(refund_status("PAID_OUT"), Some(RefundStatus::PaidOut));
        assert_eq!(refund_status("REJECTED"), Some(RefundStatus::Rejected));
        assert_eq!(refund_status("CANCELLED"), Some(RefundStatus::Cancelled));
        assert_eq!(refund_status("paid_out"), Some(RefundStatus::PaidOut));
        assert_eq!(refund_status("WIRED"), None);
        assert_eq!(
            REFUND_STATUSES.len(),
            5,
            "a new row needs its own assertion"
        );
    }

    #[test]
    fn an_unknown_status_keeps_its_raw_code() {
        let r: wire::OrderReturn =
            serde_json::from_str(r#"{"id": 1, "status": "Frozen"}"#).expect("minimal return");
        let m = order_return(&r);
        assert_eq!(m.status, ReturnStatus::Unknown);
        assert_eq!(m.status_raw, "Frozen");
    }

    #[test]
    fn an_unknown_code_is_worth_a_warning_once() {
        let seen = UnknownCodes::new(3);
        assert!(seen.first_sighting("return status", "Approved"));
        assert!(!seen.first_sighting("return status", "Approved"));
        assert!(seen.first_sighting("refund status", "Approved"));
        assert!(seen.first_sighting("return status", "Frozen"));
        assert!(!seen.first_sighting("return status", "Frozen"));
        // Full: a further code is neither remembered nor warned about.
        assert!(!seen.first_sighting("return status", "Thawed"));
        assert!(!seen.first_sighting("return status", "Approved"));
    }

    #[test]
    fn the_doc_sample_maps_with_both_currencies() {
        let body = include_str!("../../fixtures/rrr/order-returns.response.json");
        let answer: wire::OrderReturnsResponse = serde_json::from_str(body).expect("sample");
        let returns: Vec<Return> = answer.list.iter().map(order_return).collect();
        assert_eq!(returns.len(), 2);

        let first = &returns[0];
        assert_eq!(first.vendor, Vendor::Rrr);
        assert_eq!(first.id, "345");
        assert_eq!(first.marketplace_order_id.as_deref(), Some("12345"));
        assert_eq!(first.order_reference, None, "no shop order reference");
        assert_eq!(first.status, ReturnStatus::Requested);
        assert_eq!(first.status_raw, "New");
        assert_eq!(
            first.created_at,
            DateTime::parse_from_rfc3339("2023-07-10T20:14:39+03:00").ok()
        );
        assert_eq!(first.total, Some(Money::new(dec("294.95"), "EUR")));
        assert_eq!(first.total_seller, Some(Money::new(dec("1253.54"), "PLN")));
        assert_eq!(first.shipping, Some(Money::new(dec("19.84"), "EUR")));
        assert_eq!(first.shipping_seller, Some(Money::new(dec("84.32"), "PLN")));
        let item = &first.items[0];
        assert_eq!(item.id.as_deref(), Some("12"));
        assert_eq!(item.sku.as_deref(), Some("77"));
        assert_eq!(item.name.as_deref(), Some("Front door window"));
        assert_eq!(item.quantity, 1);
        assert_eq!(item.unit_price, Some(Money::new(dec("275.11"), "EUR")));
        assert_eq!(
            item.unit_price_seller,
            Some(Money::new(dec("1169.22"), "PLN"))
        );
        assert_eq!(
            item.returnable_amount_seller,
            Some(Money::new(dec("1169.22"), "PLN"))
        );
        assert_eq!(item.vat_rate, Some(dec("23")));
        assert_eq!(
            item.reason.as_ref().and_then(|r| r.reason.as_deref()),
            Some("Not suitable for my vehicle")
        );
        let customer = first.customer.as_ref().expect("customer");
        assert_eq!(customer.name.as_deref(), Some("John Doe"));
        assert_eq!(customer.phone.as_deref(), Some("+37060000000"));
        assert_eq!(customer.email, None);
        let address = first.address.as_ref().expect("address");
        assert_eq!(address.line1.as_deref(), Some("Gedimino g. 1D"));
        assert_eq!(address.state.as_deref(), Some("Vilnius"));
        assert_eq!(address.postal_code.as_deref(), Some("13013"));
        assert_eq!(address.country.as_deref(), Some("LT"));
        assert!(first.refunds.is_empty());

        let second = &returns[1];
        assert_eq!(second.status, ReturnStatus::Received);
        assert_eq!(second.status_raw, "Returned");
        assert_eq!(second.invoice_id.as_deref(), Some("KRRR-21"));
        let refund = &second.refunds[0];
        assert_eq!(refund.id, "678");
        assert_eq!(refund.status, RefundStatus::PaidOut);
        assert_eq!(refund.status_raw, "PAID_OUT");
        assert_eq!(refund.amount, Some(Money::new(dec("100.32"), "EUR")));
        assert_eq!(refund.amount_seller, Some(Money::new(dec("426.36"), "PLN")));
        assert_eq!(
            refund.paid_at,
            DateTime::parse_from_rfc3339("2025-01-13T09:00:52Z").ok()
        );
        assert_eq!(
            refund.created_at,
            DateTime::parse_from_rfc3339("2025-01-16T14:36:04+00:00").ok()
        );
        assert_eq!(refund.invoice_number.as_deref(), Some("KRRR-21"));
        assert_eq!(
            refund.invoice_url.as_deref(),
            Some("https://document.cdnrrr.com/invoice/dev/credited_invoice_KR-RRR_21_2025_01.pdf")
        );
        // Part 88 is return item 123; the `Delivery` line covers no item.
        assert_eq!(refund.item_ids, vec!["123".to_owned()]);
    }

    #[test]
    fn amounts_and_ids_as_strings_are_accepted() {
        let body = r#"{"id": "7", "order_id": "12", "status": "New", "currency": "EUR",
            "seller_currency": "PLN", "total_returnable_amount": "10.50",
            "order_return_items": [{"id": "3", "part_id": null, "price": "10.5", "vat_rate": "21"}]}"#;
        let r: wire::OrderReturn = serde_json::from_str(body).expect("lenient numbers");
        let m = order_return(&r);
        assert_eq!(m.id, "7");
        assert_eq!(m.total, Some(Money::new(dec("10.5"), "EUR")));
        assert_eq!(m.items[0].vat_rate, Some(dec("21")));
        assert_eq!(m.items[0].sku, None);
    }
}

//! Cross-vendor joins over the cached vendor reads: every return of the three vendors that hold
//! returns, and everything known about one customer. Failures of single vendors are collected
//! beside the data, so callers answer with what the others gave.

use std::cmp::Reverse;
use std::sync::Arc;

use crate::model::{Customer, Delivery, Order, Return, Shipment, Vendor};
use crate::upstream::Upstreams;
use crate::vendors::VendorError;

/// Vendors that hold returns.
pub const RETURN_VENDORS: [Vendor; 3] = [Vendor::ProCarrier, Vendor::Rrr, Vendor::VTrack];

/// Results from several vendors, with the failures of those that could not answer.
#[derive(Debug)]
pub struct Gathered<T> {
    pub items: Vec<T>,
    pub failures: Vec<Arc<VendorError>>,
}

impl<T> Default for Gathered<T> {
    fn default() -> Self {
        Gathered {
            items: Vec::new(),
            failures: Vec::new(),
        }
    }
}

/// Every return of `vendors` (those among ProCarrier, RRR, V-Track), fetched concurrently.
pub async fn all_returns(up: &Upstreams, vendors: &[Vendor]) -> Gathered<Arc<Return>> {
    let wants = |v| vendors.contains(&v);
    let (procarrier, rrr, vtrack) = tokio::join!(
        async {
            if wants(Vendor::ProCarrier) {
                Some(up.procarrier_returns().await)
            } else {
                None
            }
        },
        async {
            if wants(Vendor::Rrr) {
                Some(up.rrr_returns().await)
            } else {
                None
            }
        },
        async {
            if wants(Vendor::VTrack) {
                Some(up.vtrack_report().await)
            } else {
                None
            }
        },
    );
    let mut out = Gathered::default();
    for listing in [procarrier, rrr] {
        match listing {
            Some(Ok(returns)) => out.items.extend(returns.iter().cloned()),
            Some(Err(e)) => out.failures.push(e),
            None => {}
        }
    }
    match vtrack {
        Some(Ok(report)) => out.items.extend(report.returns.iter().cloned()),
        Some(Err(e)) => out.failures.push(e),
        None => {}
    }
    out
}

/// How a customer is looked up across vendors: normalised e-mail or E.164 phone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ContactKey {
    Email(String),
    Phone(String),
}

impl ContactKey {
    pub fn as_str(&self) -> &str {
        match self {
            ContactKey::Email(s) | ContactKey::Phone(s) => s,
        }
    }

    /// The key of a vendor's customer record: its e-mail, else its phone.
    pub fn of(customer: &Customer) -> Option<ContactKey> {
        customer
            .email
            .clone()
            .map(ContactKey::Email)
            .or_else(|| customer.phone.clone().map(ContactKey::Phone))
    }

    /// Parses a key written by [`ContactKey::as_str`] (a customer's global id).
    pub fn parse(raw: &str) -> Option<ContactKey> {
        if raw.contains('@') {
            crate::model::normalize_email(raw).map(ContactKey::Email)
        } else {
            crate::model::normalize_phone(raw, None).map(ContactKey::Phone)
        }
    }

    pub fn matches(&self, customer: &Customer) -> bool {
        match self {
            ContactKey::Email(e) => customer.email.as_deref() == Some(e),
            ContactKey::Phone(p) => customer.phone.as_deref() == Some(p),
        }
    }

    fn matches_opt(&self, customer: Option<&Customer>) -> bool {
        customer.is_some_and(|c| self.matches(c))
    }
}

/// Everything the five vendors know about one person.
#[derive(Debug, Default)]
pub struct Activity {
    pub returns: Vec<Arc<Return>>,
    pub orders: Vec<Arc<Order>>,
    pub deliveries: Vec<Arc<Delivery>>,
    pub shipments: Vec<Shipment>,
    pub failures: Vec<Arc<VendorError>>,
}

impl Activity {
    /// The fullest contact record among the vendors' (name, e-mail and phone all set first).
    pub fn contact(&self) -> Option<Customer> {
        let candidates = self
            .returns
            .iter()
            .filter_map(|r| r.customer.as_ref())
            .chain(self.orders.iter().filter_map(|o| o.customer.as_ref()))
            .chain(self.deliveries.iter().filter_map(|d| d.customer.as_ref()))
            .chain(self.shipments.iter().filter_map(|s| s.customer.as_ref()));
        candidates
            .max_by_key(|c| {
                u8::from(c.name.is_some())
                    + u8::from(c.email.is_some())
                    + u8::from(c.phone.is_some())
            })
            .cloned()
    }

    pub fn is_empty(&self) -> bool {
        self.returns.is_empty()
            && self.orders.is_empty()
            && self.deliveries.is_empty()
            && self.shipments.is_empty()
    }
}

/// Gathers one person's returns, orders, deliveries and trackings from all five vendors.
pub async fn customer_activity(up: &Upstreams, key: &ContactKey) -> Activity {
    let (returns, orders, vtrack, trackru) = tokio::join!(
        all_returns(up, &[Vendor::ProCarrier, Vendor::Rrr]),
        up.merchantpro_orders(),
        up.vtrack_report(),
        up.trackru_all(),
    );
    let mut out = Activity {
        failures: returns.failures,
        ..Activity::default()
    };
    out.returns = returns
        .items
        .into_iter()
        .filter(|r| key.matches_opt(r.customer.as_ref()))
        .collect();
    match orders {
        Ok(index) => {
            out.orders = index
                .orders
                .iter()
                .filter(|o| key.matches_opt(o.customer.as_ref()))
                .cloned()
                .collect()
        }
        Err(e) => out.failures.push(e),
    }
    match vtrack {
        Ok(report) => {
            out.returns.extend(
                report
                    .returns
                    .iter()
                    .filter(|r| key.matches_opt(r.customer.as_ref()))
                    .cloned(),
            );
            out.deliveries = report
                .deliveries
                .iter()
                .filter(|d| key.matches_opt(d.customer.as_ref()))
                .cloned()
                .collect();
        }
        Err(e) => out.failures.push(e),
    }
    match trackru {
        Ok(all) => {
            out.shipments = all
                .iter()
                .filter(|s| key.matches_opt(s.customer.as_ref()))
                .cloned()
                .collect()
        }
        Err(e) => out.failures.push(e),
    }
    out.returns.sort_by_key(|r| Reverse(r.created_at));
    out.orders.sort_by_key(|o| Reverse(o.created_at));
    out.deliveries.sort_by_key(|d| Reverse(d.delivered_at));
    out
}

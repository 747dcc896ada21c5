//! Customers: everything the five vendors know about one person, from the returns index.
//! Vendors the index cannot serve yet are reported beside the data, so callers answer with
//! what the others gave.
//!
//! A customer is an [`Identity`]: the e-mails and phones that vendor records link to each other
//! (RRR knows people by phone only, MerchantPro by both), so asking by either key finds the same
//! person with the same records. The index keeps the links and walks them.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Loaders, Service, ServiceError};
use crate::index::{Keys, ReturnIndex, StoreError};
use vendors::model::{Customer, Delivery, Order, Return, Shipment, Vendor};
use vendors::VendorError;

/// How a customer is looked up across vendors: normalised e-mail or E.164 phone. Ordered
/// e-mails first, then phones, each by its text: an identity's first key is its canonical one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactKey {
    Email(String),
    Phone(String),
}

/// What a customer's global id carries in place of their contact key: see
/// [`ContactKey::digest`].
const DIGEST_PREFIX: &str = "h:";

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

    /// Parses a key written by [`ContactKey::as_str`] (the global id of a customer before ids
    /// carried a digest).
    pub fn parse(raw: &str) -> Option<ContactKey> {
        if raw.contains('@') {
            vendors::model::normalize_email(raw).map(ContactKey::Email)
        } else {
            vendors::model::normalize_phone(raw, None).map(ContactKey::Phone)
        }
    }

    /// A one-way digest of the key (`h:` and 128 bits of SHA-256, base64url): what a customer's
    /// global id carries, so that an id, plain base64 to anyone, shows no e-mail or phone (those
    /// are masked without `pii:read`).
    pub fn digest(&self) -> String {
        crate::index::key_digest(self.as_str())
    }

    /// The key the index names `kind` (`email` or `phone`).
    fn from_index(kind: &str, value: String) -> ContactKey {
        match kind {
            "email" => ContactKey::Email(value),
            _ => ContactKey::Phone(value),
        }
    }
}

/// What a customer's global id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    /// A contact key's [`ContactKey::digest`] (the ids given out).
    Digest(String),
    /// The contact key itself (ids given out before; still honoured).
    Key(ContactKey),
}

impl CustomerRef {
    /// Reads the native part of a customer's global id.
    pub fn parse(native: &str) -> Option<CustomerRef> {
        if native.starts_with(DIGEST_PREFIX) {
            Some(CustomerRef::Digest(native.to_owned()))
        } else {
            ContactKey::parse(native).map(CustomerRef::Key)
        }
    }
}

/// One person's contact keys: every e-mail and phone linked to another by a vendor record that
/// carries both, transitively. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Sorted ([`ContactKey`]'s order), so the canonical key comes first.
    keys: Vec<ContactKey>,
}

impl Identity {
    /// The key the person's global id is made from, whichever key found them: the smallest
    /// e-mail (lower-case, compared as text), else the smallest phone (E.164, as text).
    /// E-mails first because most vendors' records carry one. It changes when records link a
    /// smaller key to the person (or a vendor that linked one cannot be read); their older ids
    /// still resolve, as `node(id)` matches the digest of every key.
    pub fn canonical(&self) -> &ContactKey {
        &self.keys[0]
    }

    /// Whether a vendor's customer record is this person's: its e-mail or its phone is theirs.
    pub fn includes(&self, customer: &Customer) -> bool {
        self.keys.iter().any(|k| match k {
            ContactKey::Email(e) => customer.email.as_deref() == Some(e),
            ContactKey::Phone(p) => customer.phone.as_deref() == Some(p),
        })
    }

    /// The person of `asked`, whose linked keys the index found (`asked` alone when no
    /// record names it).
    fn of(asked: &ContactKey, linked: Keys) -> Identity {
        let mut keys: Vec<ContactKey> = linked
            .emails
            .into_iter()
            .map(ContactKey::Email)
            .chain(linked.phones.into_iter().map(ContactKey::Phone))
            .collect();
        if !keys.contains(asked) {
            keys.push(asked.clone());
        }
        keys.sort_unstable();
        keys.dedup();
        Identity { keys }
    }

    /// The index's form of these keys.
    fn index_keys(&self) -> Keys {
        let mut keys = Keys::default();
        for k in &self.keys {
            match k {
                ContactKey::Email(e) => keys.emails.push(e.clone()),
                ContactKey::Phone(p) => keys.phones.push(p.clone()),
            }
        }
        keys
    }
}

/// A person found: their identity, what the index holds about them, and the vendors it
/// cannot serve yet.
#[derive(Debug, Clone)]
pub struct IdentityLookup {
    pub identity: Arc<Identity>,
    pub activity: Arc<Activity>,
    pub failures: Vec<Arc<VendorError>>,
}

impl IdentityLookup {
    /// `key` alone, with no records (what is shown when the index cannot be read).
    pub fn nothing(key: &ContactKey) -> IdentityLookup {
        IdentityLookup {
            identity: Arc::new(Identity::of(key, Keys::default())),
            activity: Arc::default(),
            failures: Vec::new(),
        }
    }
}

/// A person's identity (every e-mail and phone linked to the key) without their records: all
/// a customer's `id` needs. A dashboard's customers ask only this, and a person's records grow
/// with the shop's history.
#[derive(Debug, Clone)]
pub struct LinkedIdentity {
    pub identity: Arc<Identity>,
    pub failures: Vec<Arc<VendorError>>,
}

impl LinkedIdentity {
    /// `key` alone (what is shown when the index cannot be read).
    pub fn nothing(key: &ContactKey) -> LinkedIdentity {
        LinkedIdentity {
            identity: Arc::new(Identity::of(key, Keys::default())),
            failures: Vec::new(),
        }
    }
}

/// Each of `keys`' identity: one walk of the contact links for all of them.
async fn identities(index: &ReturnIndex, keys: &[ContactKey]) -> Result<Vec<Identity>, StoreError> {
    let seeds: Vec<Keys> = keys
        .iter()
        .map(|k| Identity::of(k, Keys::default()).index_keys())
        .collect();
    let linked = index.linked_keys(&seeds).await?;
    Ok(keys
        .iter()
        .zip(linked)
        .map(|(k, linked)| Identity::of(k, linked))
        .collect())
}

/// The vendors whose records the index cannot serve yet, so a person may lack some.
fn contact_failures(index: &ReturnIndex) -> Vec<Arc<VendorError>> {
    let board = index.sync_board();
    CONTACT_VENDORS
        .iter()
        .filter_map(|&v| board.unavailable(v))
        .collect()
}

/// Each of `keys`' identity alone, without records.
pub(super) async fn identities_of(
    index: &ReturnIndex,
    keys: &[ContactKey],
) -> Result<HashMap<ContactKey, LinkedIdentity>, StoreError> {
    let failures = contact_failures(index);
    Ok(keys
        .iter()
        .cloned()
        .zip(identities(index, keys).await?)
        .map(|(key, identity)| {
            let linked = LinkedIdentity {
                identity: Arc::new(identity),
                failures: failures.clone(),
            };
            (key, linked)
        })
        .collect())
}

/// Each of `keys` looked up in the index: its person, their records and the vendors the
/// index cannot serve yet. One walk of the contact links for all of them, and one
/// read of each table for all their keys, shared out here (a dashboard's 100 customers make a
/// handful of queries, not 500).
pub(super) async fn look_up_many(
    index: &ReturnIndex,
    keys: &[ContactKey],
) -> Result<HashMap<ContactKey, IdentityLookup>, StoreError> {
    let identities = identities(index, keys).await?;
    let mut all = Keys::default();
    for identity in &identities {
        let keys = identity.index_keys();
        all.emails.extend(keys.emails);
        all.phones.extend(keys.phones);
    }
    for list in [&mut all.emails, &mut all.phones] {
        list.sort_unstable();
        list.dedup();
    }
    let records = index.records_of(&all).await?;
    let returns: Vec<Arc<Return>> = records.returns.into_iter().map(Arc::new).collect();
    let orders: Vec<Arc<Order>> = records.orders.into_iter().map(Arc::new).collect();
    let deliveries: Vec<Arc<Delivery>> = records.deliveries.into_iter().map(Arc::new).collect();
    let failures = contact_failures(index);
    Ok(keys
        .iter()
        .zip(identities)
        .map(|(key, identity)| {
            // The records the index found by one of this person's keys (its columns are the
            // records' own normalised e-mail and phone).
            let names = |c: Option<&Customer>| c.is_some_and(|c| identity.includes(c));
            let activity = Activity {
                returns: returns
                    .iter()
                    .filter(|r| names(r.customer.as_ref()))
                    .cloned()
                    .collect(),
                orders: orders
                    .iter()
                    .filter(|o| names(o.customer.as_ref()))
                    .cloned()
                    .collect(),
                deliveries: deliveries
                    .iter()
                    .filter(|d| names(d.customer.as_ref()))
                    .cloned()
                    .collect(),
                shipments: records
                    .shipments
                    .iter()
                    .filter(|s| names(s.customer.as_ref()))
                    .cloned()
                    .collect(),
            };
            let lookup = IdentityLookup {
                identity: Arc::new(identity),
                activity: Arc::new(activity),
                failures: failures.clone(),
            };
            (key.clone(), lookup)
        })
        .collect())
}

/// The vendors whose records name customers: all five.
const CONTACT_VENDORS: [Vendor; 5] = Vendor::ALL;

/// Everything the five vendors know about one person.
#[derive(Debug, Default)]
pub struct Activity {
    pub returns: Vec<Arc<Return>>,
    pub orders: Vec<Arc<Order>>,
    pub deliveries: Vec<Arc<Delivery>>,
    pub shipments: Vec<Shipment>,
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

/// A person found: the key asked for, their identity with the records it was found in, and
/// what those records know of them.
pub struct FoundCustomer {
    pub key: ContactKey,
    pub lookup: IdentityLookup,
    pub activity: Arc<Activity>,
}

impl ContactKey {
    /// The key of `customer(email:)`.
    pub fn from_email(raw: &str) -> Result<ContactKey, ServiceError> {
        vendors::model::normalize_email(raw)
            .map(ContactKey::Email)
            .ok_or_else(|| {
                ServiceError::invalid("email", format!("{raw:?} is not an e-mail address"))
            })
    }

    /// The key of `customer(phone:)`: E.164, with its country code.
    pub fn from_phone(raw: &str) -> Result<ContactKey, ServiceError> {
        vendors::model::normalize_phone(raw, None)
            .map(ContactKey::Phone)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "phone",
                    format!("{raw:?} is not a phone number with country code"),
                )
            })
    }
}

/// A customer's answer: the person (`None` when no vendor record names them) and the vendors
/// that could not answer.
pub type CustomerAnswer = (Option<FoundCustomer>, Vec<Arc<VendorError>>);

/// The person `lookup` found; `None` when no record is theirs.
fn found(key: ContactKey, lookup: IdentityLookup) -> CustomerAnswer {
    let failures = lookup.failures.clone();
    let activity = lookup.activity.clone();
    let customer = (!activity.is_empty()).then(|| FoundCustomer {
        key,
        lookup,
        activity,
    });
    (customer, failures)
}

impl Service {
    /// The person with `key` among their e-mails and phones, with everything the vendors know
    /// about them.
    pub async fn customer(
        &self,
        loaders: &Loaders,
        key: ContactKey,
    ) -> Result<CustomerAnswer, ServiceError> {
        let lookup = loaders.identity(key.clone()).await?;
        Ok(found(key, lookup))
    }

    /// The person a customer id names (see [`CustomerRef`]).
    pub async fn customer_by_ref(
        &self,
        loaders: &Loaders,
        customer: CustomerRef,
    ) -> Result<CustomerAnswer, ServiceError> {
        match customer {
            CustomerRef::Key(key) => self.customer(loaders, key).await,
            CustomerRef::Digest(digest) => match self.index.key_of_digest(&digest).await? {
                Some((kind, value)) => {
                    self.customer(loaders, ContactKey::from_index(&kind, value))
                        .await
                }
                None => Ok((None, Vec::new())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(e: &str) -> ContactKey {
        ContactKey::Email(e.to_owned())
    }

    fn phone(p: &str) -> ContactKey {
        ContactKey::Phone(p.to_owned())
    }

    #[test]
    fn an_identity_is_its_linked_keys_emails_first() {
        let linked = Keys {
            emails: vec!["b@example.gr".into(), "a@example.gr".into()],
            phones: vec!["+306900000001".into()],
        };
        let person = Identity::of(&phone("+306900000001"), linked);
        assert_eq!(person.canonical(), &email("a@example.gr"));
        assert_eq!(
            person.index_keys(),
            Keys {
                emails: vec!["a@example.gr".into(), "b@example.gr".into()],
                phones: vec!["+306900000001".into()],
            }
        );
        // Known to no record: the key alone.
        let nobody = Identity::of(&phone("+306900000009"), Keys::default());
        assert_eq!(nobody.canonical(), &phone("+306900000009"));
    }

    #[test]
    fn a_customer_id_holds_a_digest_not_the_key() {
        let digest = email("a@example.gr").digest();
        assert_eq!(digest, email("a@example.gr").digest(), "stable");
        assert!(digest.starts_with(DIGEST_PREFIX) && !digest.contains("example"));
        assert_ne!(digest, phone("+306900000001").digest());
        assert_eq!(
            CustomerRef::parse(&digest),
            Some(CustomerRef::Digest(digest.clone()))
        );
        // Ids made of the key itself still resolve.
        assert_eq!(
            CustomerRef::parse("+306900000001"),
            Some(CustomerRef::Key(phone("+306900000001")))
        );
        assert_eq!(
            CustomerRef::parse("A@Example.gr"),
            Some(CustomerRef::Key(email("a@example.gr")))
        );
        assert_eq!(CustomerRef::parse("garbage"), None);
    }
}

//! Customers: everything the five vendors know about one person, joined over the cached vendor
//! reads. Failures of single vendors are collected beside the data, so callers answer with what
//! the others gave.
//!
//! A customer is an [`Identity`]: the e-mails and phones that vendor records link to each other
//! (RRR knows people by phone only, MerchantPro by both), so asking by either key finds the same
//! person with the same records.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use sha2::{Digest, Sha256};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::{Loaders, Service, ServiceError};
use crate::cache::Cached;
use crate::upstream::{OrderIndex, Upstreams, VTrackReport};
use vendors::model::{Customer, Delivery, Order, Return, Shipment};
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
/// Hashed before the key, so the digests are ours alone (no table of hashed e-mails matches).
const DIGEST_DOMAIN: &[u8] = b"returns-gateway customer id\n";

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
        let hash = Sha256::new()
            .chain_update(DIGEST_DOMAIN)
            .chain_update(self.as_str())
            .finalize();
        format!("{DIGEST_PREFIX}{}", URL_SAFE_NO_PAD.encode(&hash[..16]))
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
}

/// The identities over a set of vendor records: which keys belong to one person.
#[derive(Debug, Default)]
pub struct Identities {
    /// Each key's position in `identities`.
    identity_of: HashMap<ContactKey, usize>,
    identities: Vec<Arc<Identity>>,
}

impl Identities {
    /// Links the e-mail and the phone of every record that carries both, transitively, in one
    /// pass over the records (union-find over the distinct keys). A missing or empty key links
    /// nothing: records without an e-mail never join through that, however many there are.
    pub fn link<'a>(records: impl IntoIterator<Item = &'a Customer>) -> Identities {
        let mut sets = DisjointSets::default();
        let mut emails: HashMap<&str, usize> = HashMap::new();
        let mut phones: HashMap<&str, usize> = HashMap::new();
        let linkable = |key: &'a Option<String>| key.as_deref().filter(|k| !k.is_empty());
        for record in records {
            let email =
                linkable(&record.email).map(|e| *emails.entry(e).or_insert_with(|| sets.add()));
            let phone =
                linkable(&record.phone).map(|p| *phones.entry(p).or_insert_with(|| sets.add()));
            if let (Some(e), Some(p)) = (email, phone) {
                sets.join(e, p);
            }
        }
        let keys = emails
            .into_iter()
            .map(|(e, i)| (ContactKey::Email(e.to_owned()), i))
            .chain(
                phones
                    .into_iter()
                    .map(|(p, i)| (ContactKey::Phone(p.to_owned()), i)),
            );
        let mut by_root: HashMap<usize, Vec<ContactKey>> = HashMap::new();
        for (key, i) in keys {
            by_root.entry(sets.root(i)).or_default().push(key);
        }
        let mut out = Identities::default();
        for mut keys in by_root.into_values() {
            keys.sort_unstable();
            let position = out.identities.len();
            out.identity_of
                .extend(keys.iter().map(|k| (k.clone(), position)));
            out.identities.push(Arc::new(Identity { keys }));
        }
        out
    }

    /// The identity of `key` over these records (just `key` when no record names it).
    pub fn of(&self, key: &ContactKey) -> Arc<Identity> {
        match self.identity_of.get(key) {
            Some(&i) => self.identities[i].clone(),
            None => Arc::new(Identity {
                keys: vec![key.clone()],
            }),
        }
    }

    /// The identity holding the key whose [`ContactKey::digest`] is `digest`. Any key of theirs
    /// counts, so an id made before a smaller key was linked to them still finds them.
    pub fn with_digest(&self, digest: &str) -> Option<Arc<Identity>> {
        self.identity_of
            .iter()
            .find(|(key, _)| key.digest() == digest)
            .map(|(_, &i)| self.identities[i].clone())
    }
}

/// Union-find with path halving: sets of `0..n`, joined pairwise.
#[derive(Debug, Default)]
struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    /// A new singleton set; its element.
    fn add(&mut self) -> usize {
        self.parent.push(self.parent.len());
        self.parent.len() - 1
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        self.parent[a.max(b)] = a.min(b);
    }
}

/// Every vendor record that names a customer, as read (shared with the cache), with the
/// failures of the vendors that could not answer.
#[derive(Debug, Default)]
pub struct ContactRecords {
    procarrier: Option<Arc<Vec<Arc<Return>>>>,
    rrr: Option<Arc<Vec<Arc<Return>>>>,
    orders: Option<Arc<OrderIndex>>,
    vtrack: Option<Arc<VTrackReport>>,
    trackru: Option<Arc<Vec<Shipment>>>,
    pub failures: Vec<Arc<VendorError>>,
}

impl ContactRecords {
    /// Reads all five vendors' records, concurrently.
    pub async fn read(up: &Upstreams) -> ContactRecords {
        let (procarrier, rrr, orders, vtrack, trackru) = tokio::join!(
            up.procarrier_returns(),
            up.rrr_returns(),
            up.merchantpro_orders(),
            up.vtrack_report(),
            up.trackru_all(),
        );
        let mut failures = Vec::new();
        ContactRecords {
            procarrier: available(procarrier, &mut failures),
            rrr: available(rrr, &mut failures),
            orders: available(orders, &mut failures),
            vtrack: available(vtrack, &mut failures),
            trackru: available(trackru, &mut failures),
            failures,
        }
    }

    fn returns(&self) -> impl Iterator<Item = &Arc<Return>> {
        let listed = [&self.procarrier, &self.rrr]
            .into_iter()
            .flatten()
            .flat_map(|v| v.iter());
        listed.chain(self.vtrack.iter().flat_map(|r| r.returns.iter()))
    }

    fn orders(&self) -> impl Iterator<Item = &Arc<Order>> {
        self.orders.iter().flat_map(|o| o.orders.iter())
    }

    fn deliveries(&self) -> impl Iterator<Item = &Arc<Delivery>> {
        self.vtrack.iter().flat_map(|r| r.deliveries.iter())
    }

    fn shipments(&self) -> impl Iterator<Item = &Shipment> {
        self.trackru.iter().flat_map(|s| s.iter())
    }

    fn customers(&self) -> impl Iterator<Item = &Customer> {
        self.returns()
            .filter_map(|r| r.customer.as_ref())
            .chain(self.orders().filter_map(|o| o.customer.as_ref()))
            .chain(self.deliveries().filter_map(|d| d.customer.as_ref()))
            .chain(self.shipments().filter_map(|s| s.customer.as_ref()))
    }

    /// Whether both hold the same vendor reads (the same data, not merely equal data).
    fn same_reads(&self, other: &ContactRecords) -> bool {
        fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
        }
        same(&self.procarrier, &other.procarrier)
            && same(&self.rrr, &other.rrr)
            && same(&self.orders, &other.orders)
            && same(&self.vtrack, &other.vtrack)
            && same(&self.trackru, &other.trackru)
    }

    /// Everything these records know about `identity`: every record naming one of their keys.
    pub fn activity(&self, identity: &Identity) -> Activity {
        let theirs = |c: &Option<Customer>| c.as_ref().is_some_and(|c| identity.includes(c));
        let mut out = Activity {
            returns: self
                .returns()
                .filter(|r| theirs(&r.customer))
                .cloned()
                .collect(),
            orders: self
                .orders()
                .filter(|o| theirs(&o.customer))
                .cloned()
                .collect(),
            deliveries: self
                .deliveries()
                .filter(|d| theirs(&d.customer))
                .cloned()
                .collect(),
            shipments: self
                .shipments()
                .filter(|s| theirs(&s.customer))
                .cloned()
                .collect(),
        };
        out.returns.sort_by_key(|r| Reverse(r.created_at));
        out.orders.sort_by_key(|o| Reverse(o.created_at));
        out.deliveries.sort_by_key(|d| Reverse(d.delivered_at));
        out
    }
}

/// Who is who over the vendors' records, kept across requests (one per tenant): the records are
/// linked again only when one of the reads changed (refreshed, failed or recovered), not for
/// every request that shows a customer's id.
#[derive(Debug, Default)]
pub struct IdentityCache {
    last: Mutex<Option<(Arc<ContactRecords>, Arc<Identities>)>>,
}

impl IdentityCache {
    /// The identities over `records`: those linked last when `records` holds the same reads,
    /// else linked now (and kept).
    pub fn identities(&self, records: &Arc<ContactRecords>) -> Arc<Identities> {
        if let Some((linked, identities)) = &*self.last.lock() {
            if linked.same_reads(records) {
                return identities.clone();
            }
        }
        let identities = Arc::new(Identities::link(records.customers()));
        *self.last.lock() = Some((records.clone(), identities.clone()));
        identities
    }

    /// The person one of whose keys has `digest` (a customer id's), over all five vendors'
    /// records; `None` when no record names such a key. The records come back either way, for
    /// their failures.
    pub async fn find_by_digest(
        &self,
        up: &Upstreams,
        digest: &str,
    ) -> (Option<Arc<Identity>>, Arc<ContactRecords>) {
        let records = Arc::new(ContactRecords::read(up).await);
        (self.identities(&records).with_digest(digest), records)
    }
}

/// A vendor read's data, or `None` with its failure added to `failures`.
fn available<T>(read: Cached<T>, failures: &mut Vec<Arc<VendorError>>) -> Option<Arc<T>> {
    read.map_err(|e| failures.push(e)).ok()
}

/// A person found: their identity and the records it was resolved over.
#[derive(Debug, Clone)]
pub struct IdentityLookup {
    pub identity: Arc<Identity>,
    pub records: Arc<ContactRecords>,
}

impl IdentityLookup {
    pub fn activity(&self) -> Activity {
        self.records.activity(&self.identity)
    }
}

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
    let failures = lookup.records.failures.clone();
    let activity = Arc::new(lookup.activity());
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
    pub async fn customer(&self, loaders: &Loaders, key: ContactKey) -> CustomerAnswer {
        let lookup = loaders.identity(key.clone()).await;
        found(key, lookup)
    }

    /// The person a customer id names (see [`CustomerRef`]).
    pub async fn customer_by_ref(
        &self,
        loaders: &Loaders,
        customer: CustomerRef,
    ) -> CustomerAnswer {
        match customer {
            CustomerRef::Key(key) => self.customer(loaders, key).await,
            CustomerRef::Digest(digest) => {
                let (identity, records) = loaders
                    .identity_cache()
                    .find_by_digest(&self.up, &digest)
                    .await;
                match identity {
                    Some(identity) => {
                        let key = identity.canonical().clone();
                        found(key, IdentityLookup { identity, records })
                    }
                    None => (None, records.failures.clone()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vendors::model::Vendor;

    fn record(email: Option<&str>, phone: Option<&str>) -> Customer {
        Customer {
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            ..Customer::default()
        }
    }

    fn email(e: &str) -> ContactKey {
        ContactKey::Email(e.to_owned())
    }

    fn phone(p: &str) -> ContactKey {
        ContactKey::Phone(p.to_owned())
    }

    fn identity(keys: Vec<ContactKey>) -> Identity {
        Identity { keys }
    }

    #[test]
    fn records_carrying_both_keys_link_them_transitively() {
        let records = [
            // Known by phone only (RRR), and by e-mail only: linked through the third record.
            record(None, Some("+306900000001")),
            record(Some("b@example.gr"), None),
            record(Some("b@example.gr"), Some("+306900000001")),
            // A chain: b's phone is also a's, and a's e-mail also has a second phone.
            record(Some("a@example.gr"), Some("+306900000001")),
            record(Some("a@example.gr"), Some("+306900000002")),
            // Someone else.
            record(Some("c@example.gr"), Some("+306900000003")),
        ];
        let identities = Identities::link(&records);
        let person = identity(vec![
            email("a@example.gr"),
            email("b@example.gr"),
            phone("+306900000001"),
            phone("+306900000002"),
        ]);
        for key in &person.keys {
            assert_eq!(*identities.of(key), person, "by {key:?}");
        }
        assert_eq!(
            identities.of(&phone("+306900000002")).canonical(),
            &email("a@example.gr")
        );
        assert_eq!(
            *identities.of(&email("c@example.gr")),
            identity(vec![email("c@example.gr"), phone("+306900000003")])
        );
        assert!(person.includes(&records[0]) && !person.includes(&records[5]));
    }

    #[test]
    fn a_missing_or_placeholder_key_links_no_one() {
        let trackru = |phone: &str| {
            // TrackRU's obfuscated e-mail normalises to none.
            Customer::from_raw(
                Vendor::TrackRu,
                None,
                Some("[email protected]"),
                Some(phone),
                None,
            )
        };
        let records = [
            trackru("+306900000001"),
            trackru("+306900000002"),
            record(None, Some("+306900000003")),
            record(Some(""), Some("+306900000004")),
            record(Some(""), Some("+306900000005")),
            // No contact at all.
            Customer::default(),
        ];
        let identities = Identities::link(&records);
        for n in 1..=5 {
            let key = phone(&format!("+30690000000{n}"));
            assert_eq!(*identities.of(&key), identity(vec![key.clone()]));
        }
        assert_eq!(identities.identities.len(), 5);
        assert!(!identity(vec![email("a@example.gr")]).includes(&Customer::default()));
    }

    #[test]
    fn a_key_no_record_names_is_an_identity_of_its_own() {
        let identities = Identities::link(&[record(Some("a@example.gr"), None)]);
        let nobody = phone("+306900000009");
        assert_eq!(*identities.of(&nobody), identity(vec![nobody.clone()]));
        assert_eq!(identities.of(&nobody).canonical(), &nobody);
    }

    /// Records as read from TrackRU: one tracking per customer record.
    fn trackru_reads(customers: Vec<Customer>) -> Option<Arc<Vec<Shipment>>> {
        let shipment = |customer| Shipment {
            vendor: Vendor::TrackRu,
            id: None,
            tracking_number: "TRC1".into(),
            carrier: None,
            status: vendors::model::TrackingStatus::InTransit,
            status_raw: "transit".into(),
            order_reference: None,
            customer: Some(customer),
            destination_country: None,
            created_at: None,
            updated_at: None,
            archived: false,
            manual_status: false,
            events: Vec::new(),
        };
        Some(Arc::new(customers.into_iter().map(shipment).collect()))
    }

    #[test]
    fn records_are_linked_again_only_when_a_read_changes() {
        let cache = IdentityCache::default();
        let first = Arc::new(ContactRecords {
            trackru: trackru_reads(vec![record(Some("a@example.gr"), Some("+306900000001"))]),
            ..ContactRecords::default()
        });
        let linked = cache.identities(&first);
        // Another request over the same reads.
        let again = Arc::new(ContactRecords {
            trackru: first.trackru.clone(),
            ..ContactRecords::default()
        });
        assert!(Arc::ptr_eq(&cache.identities(&again), &linked));
        // TrackRU's listing refreshed, now linking a second phone.
        let refreshed = Arc::new(ContactRecords {
            trackru: trackru_reads(vec![
                record(Some("a@example.gr"), Some("+306900000001")),
                record(Some("a@example.gr"), Some("+306900000002")),
            ]),
            ..ContactRecords::default()
        });
        let relinked = cache.identities(&refreshed);
        assert!(!Arc::ptr_eq(&relinked, &linked));
        assert_eq!(
            relinked.of(&phone("+306900000002")).canonical(),
            &email("a@example.gr")
        );
        // TrackRU failing: its records link no one any more.
        let failed = Arc::new(ContactRecords::default());
        let unlinked = cache.identities(&failed);
        assert_eq!(
            *unlinked.of(&phone("+306900000002")),
            identity(vec![phone("+306900000002")])
        );
    }

    #[test]
    fn a_customer_id_holds_a_digest_any_key_of_theirs_resolves() {
        let records = [record(Some("a@example.gr"), Some("+306900000001"))];
        let identities = Identities::link(&records);
        let by_phone = identities.of(&phone("+306900000001"));
        let digest = by_phone.canonical().digest();
        assert_eq!(digest, email("a@example.gr").digest(), "stable");
        assert!(digest.starts_with(DIGEST_PREFIX) && !digest.contains("example"));
        assert_eq!(
            CustomerRef::parse(&digest),
            Some(CustomerRef::Digest(digest.clone()))
        );
        assert_eq!(identities.with_digest(&digest), Some(by_phone.clone()));
        // An id made before the e-mail was linked still finds the person.
        let phone_digest = phone("+306900000001").digest();
        assert_eq!(identities.with_digest(&phone_digest), Some(by_phone));
        assert_eq!(
            identities.with_digest(&phone("+306900000002").digest()),
            None
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

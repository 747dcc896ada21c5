//! Tenants: a token's `tenant` claim picks the vendor accounts its requests use. Each tenant
//! has its own vendor clients (credentials, breakers, rate limits), read cache, rows in the
//! returns index (and their sync) and idempotency keys, so nothing one tenant reads or writes
//! is reachable with another tenant's token.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{Secret, Settings, VendorsSettings, DEFAULT_TENANT};
use crate::idempotency::IdempotencyStore;
use crate::index::sync::Syncer;
use crate::index::{IndexStore, ReturnIndex};
use crate::service::Service;
use crate::upstream::Upstreams;
use vendors::clock::Clock;
use vendors::VendorError;

/// Everything that belongs to one tenant.
#[derive(Debug)]
pub struct Tenant {
    pub id: String,
    /// The tenant's domain operations over its own vendor accounts, cache, idempotency keys
    /// and customer identities.
    pub service: Arc<Service>,
    /// Keeps the tenant's part of the returns index current.
    pub sync: Arc<Syncer>,
    /// ProCarrier signs this tenant's webhooks with the tenant's API key.
    pub procarrier_webhook_key: Secret,
}

#[derive(Debug)]
pub struct Tenants(BTreeMap<String, Arc<Tenant>>);

impl Tenants {
    /// `default` (the `[vendors]` accounts) and every `[tenants.<id>]`, each with its rows in
    /// `store`.
    pub fn new(
        settings: &Settings,
        store: &Arc<dyn IndexStore>,
        clock: Clock,
    ) -> Result<Tenants, VendorError> {
        let tenant = |id: &str, vendors: &VendorsSettings| -> Result<Arc<Tenant>, VendorError> {
            let upstreams = Arc::new(Upstreams::new(vendors, &settings.cache, clock)?);
            let index = ReturnIndex::new(store.clone(), id);
            let idempotency = Arc::new(IdempotencyStore::new(
                &settings.idempotency,
                index.clone(),
                clock,
            ));
            let sync = Syncer::new(index.clone(), upstreams.clone(), &settings.sync, clock);
            Ok(Arc::new(Tenant {
                id: id.to_owned(),
                service: Arc::new(Service::new(
                    upstreams,
                    index,
                    idempotency,
                    &settings.server,
                    clock,
                )),
                sync,
                procarrier_webhook_key: vendors.procarrier.api_key.clone(),
            }))
        };
        let mut all = BTreeMap::new();
        all.insert(
            DEFAULT_TENANT.to_owned(),
            tenant(DEFAULT_TENANT, &settings.vendors)?,
        );
        for (id, t) in &settings.tenants {
            all.insert(id.clone(), tenant(id, &t.vendors)?);
        }
        Ok(Tenants(all))
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Tenant>> {
        self.0.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Tenant>> {
        self.0.values()
    }
}

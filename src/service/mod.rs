//! The service layer: the domain operations the schema's resolvers call — list, find and
//! summarise returns, orders and customers, read tracking, find drop-off points, write to the
//! vendors. It owns the rules (filters, the order state machine, distances, validation of
//! input) and idempotency; below it are the request's loaders, the read cache and the vendor
//! clients (`crate::upstream`). Nothing here knows GraphQL: inputs and answers are the domain's
//! own types, errors are [`ServiceError`]s.

pub mod customers;
mod error;
pub mod health;
pub mod labels;
pub mod listing;
pub mod loaders;
pub mod orders;
pub mod places;
pub mod returns;
pub mod tracking;
mod validate;
mod writes;

use std::sync::Arc;

pub use error::ServiceError;
pub use loaders::Loaders;

use crate::config::ServerSettings;
use crate::idempotency::IdempotencyStore;
use crate::upstream::Upstreams;
use customers::IdentityCache;

/// One tenant's domain operations: its vendor accounts (behind the read cache), idempotency
/// keys and customer identities.
#[derive(Debug)]
pub struct Service {
    up: Arc<Upstreams>,
    idempotency: Arc<IdempotencyStore>,
    identities: Arc<IdentityCache>,
    max_page_size: usize,
    /// Benchmarks only: links resolved row by row (see `ServerSettings::naive_resolution`).
    naive_resolution: bool,
}

impl Service {
    pub fn new(
        up: Arc<Upstreams>,
        idempotency: Arc<IdempotencyStore>,
        server: &ServerSettings,
    ) -> Self {
        Service {
            up,
            idempotency,
            identities: Arc::default(),
            max_page_size: server.max_page_size,
            naive_resolution: server.naive_resolution,
        }
    }

    /// The loaders of one request (they remember what they loaded for it). `fresh` sessions
    /// (subscriptions) keep nothing between reads.
    pub fn loaders(&self, fresh: bool) -> Loaders {
        Loaders::new(&self.up, &self.identities, self.naive_resolution, fresh)
    }

    /// The tenant's vendor reads, for what reports on them (metrics) and what changes them
    /// from outside (webhooks drop cached reads).
    pub fn upstreams(&self) -> &Arc<Upstreams> {
        &self.up
    }
}

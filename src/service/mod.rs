//! The service layer: the domain operations the schema's resolvers call — list, find and
//! summarise returns, orders and customers, read tracking, find drop-off points, write to the
//! vendors (returns, orders, exchanges, registrations for returns, tracking, live reads). It
//! owns the rules (filters, the order state machine, distances, validation of input, vendor
//! limits such as realtime's two hours) and idempotency; below it are the returns index
//! (listings, customers, summaries, and the links it holds), the request's loaders, the read
//! cache and the vendor clients (`crate::upstream`). Writes update the index from the vendor's
//! answer, row by row. Nothing here knows GraphQL: inputs and answers are the domain's own
//! types, errors are [`ServiceError`]s.

pub mod customers;
mod error;
pub mod exchanges;
pub mod fresh;
pub mod health;
pub mod labels;
pub mod listing;
pub mod live_tracking;
pub mod loaders;
pub mod orders;
pub mod places;
pub mod registrations;
pub mod returns;
pub mod tracking;
mod validate;
mod writes;

use std::sync::Arc;

pub use error::ServiceError;
pub use loaders::Loaders;

use crate::config::ServerSettings;
use crate::idempotency::IdempotencyStore;
use crate::index::ReturnIndex;
use crate::upstream::Upstreams;
use vendors::clock::Clock;

/// One tenant's domain operations: its vendor accounts (behind the read cache), its returns
/// index and its idempotency keys.
#[derive(Debug)]
pub struct Service {
    up: Arc<Upstreams>,
    index: ReturnIndex,
    idempotency: Arc<IdempotencyStore>,
    clock: Clock,
    max_page_size: usize,
    /// Benchmarks only: links resolved row by row (see `ServerSettings::naive_resolution`).
    naive_resolution: bool,
    /// The tenant's budget of fresh vendor reads, and their recent answers.
    fresh: fresh::FreshReads,
    /// The live reads (TrackRU realtime) in flight, one at a time per parcel.
    realtime_flights: live_tracking::RealtimeFlights,
}

impl Service {
    pub fn new(
        up: Arc<Upstreams>,
        index: ReturnIndex,
        idempotency: Arc<IdempotencyStore>,
        server: &ServerSettings,
        clock: Clock,
    ) -> Self {
        Service {
            up,
            index,
            idempotency,
            clock,
            max_page_size: server.max_page_size,
            naive_resolution: server.naive_resolution,
            fresh: fresh::FreshReads::default(),
            realtime_flights: live_tracking::RealtimeFlights::default(),
        }
    }

    /// The loaders of one request (they remember what they loaded for it). `fresh` sessions
    /// (subscriptions) keep nothing between reads.
    pub fn loaders(&self, fresh: bool) -> Loaders {
        Loaders::new(&self.up, &self.index, self.naive_resolution, fresh)
    }

    /// The present, on the gateway's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The tenant's returns index.
    pub fn index(&self) -> &ReturnIndex {
        &self.index
    }

    /// The tenant's vendor reads, for what reports on them (metrics) and what changes them
    /// from outside (webhooks drop cached reads).
    pub fn upstreams(&self) -> &Arc<Upstreams> {
        &self.up
    }
}

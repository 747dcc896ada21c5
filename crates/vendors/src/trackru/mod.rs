//! TrackRU (`trackru`): a TrackingMore-style parcel-tracking aggregator. Tracking items CRUD,
//! batch create (at most 40 a call), listing with page/limit, and live "realtime" lookups.
//! Contract: `shared/vendor-docs/004_*.txt` (Russian); shapes the doc leaves out follow
//! TrackingMore v2, which TrackRU mirrors (see `wire.rs`).

pub mod client;
pub mod mapping;
pub mod wire;

pub use client::Client;

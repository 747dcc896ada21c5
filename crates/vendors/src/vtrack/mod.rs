//! V-Track (`000_*.txt`): Greek courier analytics, one report per customer of the parcels
//! delivered and those returned to sender (unclaimed or refused). One endpoint, no filters, no
//! pagination, slow: `wire` (the report as documented), `client` (the call and its errors),
//! `mapping` (into the unified model, with Greek local time made explicit).

pub mod client;
pub mod mapping;
pub mod wire;

pub use client::Client;
pub use mapping::Report;

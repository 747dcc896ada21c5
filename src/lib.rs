//! returns-gateway: one GraphQL API over the five vendor systems a returns team runs on.
//!
//! Layers, outermost first: `http` (axum: GraphQL endpoint, GraphiQL, health, webhooks),
//! `schema` (async-graphql: thin resolvers), the service layer below it, `upstream` (the vendor
//! clients behind the `cache`), and the `vendors` crate (the unified model, the shared transport
//! and one client per vendor). `tenants` gives each tenant its own upstreams; `events` carries
//! vendor webhooks to subscriptions. The simulated vendors are the `simulators` crate, compiled
//! in only with the `demo` feature; `testkit` (for the tests and benchmarks only) starts them
//! and the gateway in-process.

pub use http::{App, StartError};

pub mod auth;
pub mod cache;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod index;
pub mod log_sampler;
pub mod memory;
pub mod request_id;
pub mod schema;
pub mod service;
pub mod telemetry;
pub mod tenants;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod upstream;

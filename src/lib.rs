//! returns-gateway: one GraphQL API over the five vendor systems a returns team runs on.
//!
//! Layers, outermost first: `http` (axum: GraphQL endpoint, GraphiQL, health), `schema`
//! (async-graphql: query root, objects, loaders), `upstream` (the vendor clients behind the
//! `cache`), `vendors` (one client per vendor and the shared plumbing), `model` (the unified
//! domain every vendor maps into). `tenants` gives each tenant its own upstreams; `events`
//! carries vendor webhooks to subscriptions. `sim` holds the simulated vendors.

pub use http::{App, StartError};

pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod model;
pub mod request_id;
pub mod rng;
pub mod schema;
pub mod sim;
pub mod tenants;
pub mod upstream;
pub mod vendors;

/// Locks a mutex, recovering it if a panicking holder poisoned it: every mutex here guards
/// plain data that stays consistent between statements, so one failed request must not take
/// the process down with it.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

//! returns-gateway: one GraphQL API over the five vendor systems a returns team runs on.
//!
//! Layers, outermost first: `sim` (simulated vendors), `vendors` (one client per vendor and the
//! shared plumbing), `model` (the unified domain every vendor maps into).

pub mod config;
pub mod error;
pub mod model;
pub mod sim;
pub mod vendors;

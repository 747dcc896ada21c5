//! rrr: see `../shared/vendor-docs` and the README's vendor table.

pub mod client;
pub mod mapping;
pub mod wire;

pub use client::Client;

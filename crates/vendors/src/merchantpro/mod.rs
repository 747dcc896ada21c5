//! MerchantPro Orders API v2 (`/work/shared/vendor-docs/003_*.txt`): the shop's orders, listed,
//! read, created, changed, deleted and moved through their delivery statuses.

pub mod client;
pub mod mapping;
pub mod wire;

pub use client::{Client, OrderFilter};

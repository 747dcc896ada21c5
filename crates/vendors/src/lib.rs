//! The vendors of the returns gateway: the unified model every vendor's answers map into, the
//! transport every call goes through (deadline, bulkhead, rate limits, breaker, read retries,
//! refusal latch, rate-limit hold), and one folder per vendor: `client.rs` (HTTP), `wire.rs`
//! (serde types exactly as the vendor's doc) and `mapping.rs` (wire → [`model`]). [`escaped`]
//! is how text from outside appears in a log line; [`traces`] puts each call in its request's
//! trace (a span, and the `traceparent` header).
//!
//! Nothing here knows GraphQL or the gateway's caches; the simulators reuse the wire types.

pub mod clock;
mod error_code;
pub mod escaped;
pub mod lenient;
pub mod metrics;
pub mod model;
pub mod request_id;
pub mod resilience;
pub mod rng;
pub mod settings;
pub mod traces;
mod transport;

pub mod merchantpro;
pub mod procarrier;
pub mod rrr;
pub mod trackru;
pub mod vtrack;

pub use error_code::ErrorCode;
pub use transport::*;

//! Stable error codes: every code the gateway reports, in one enum (see the `vendors` crate,
//! where the vendor errors that carry most of them live).

pub use vendors::ErrorCode;

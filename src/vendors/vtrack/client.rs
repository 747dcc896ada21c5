//! HTTP client.

/// Placeholder until the client is written.
#[derive(Debug, Clone)]
pub struct Client;

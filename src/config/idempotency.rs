//! `[idempotency]`: how long a mutation's outcome answers a repeat of its key.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How long a mutation's result is kept under its idempotency key (in the returns index).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IdempotencySettings {
    pub ttl_s: u64,
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        IdempotencySettings { ttl_s: 24 * 3600 }
    }
}

//! `[webhooks]`: ProCarrier's signed deliveries.

use serde::{Deserialize, Serialize};

/// `POST /webhooks/procarrier/{tenant}`: ProCarrier's signed `return_updated` deliveries.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Larger bodies get 413 (before the signature is checked).
    pub max_body_bytes: usize,
    /// How long a delivery (return id + `tracking_last_update`) is remembered (in the returns
    /// index) to drop repeats.
    pub dedupe_ttl_s: u64,
    /// Events buffered per subscriber; a subscriber that falls further behind skips the oldest.
    pub subscriber_buffer: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            max_body_bytes: 262_144,
            dedupe_ttl_s: 86_400,
            subscriber_buffer: 256,
        }
    }
}

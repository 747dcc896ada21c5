//! `[webhooks]`: ProCarrier's signed deliveries.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `POST /webhooks/procarrier/{tenant}`: ProCarrier's signed `return_updated` deliveries.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Larger bodies get 413 (before the signature is checked).
    pub max_body_bytes: usize,
    /// How long a delivery (return id + `tracking_last_update`) is remembered (in the returns
    /// index) to drop repeats.
    pub dedupe_ttl_s: u64,
    /// Events buffered per subscriber; a subscriber that falls further behind skips the oldest.
    pub subscriber_buffer: usize,
    /// Refused deliveries (all counted in `gateway_webhook_refusals_total`) are logged sampled:
    /// the first of each code, then at most one line per this many seconds, with the count
    /// since. 0 = a line for every refusal.
    pub refusal_log_every_s: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            max_body_bytes: 262_144,
            dedupe_ttl_s: 86_400,
            subscriber_buffer: 256,
            refusal_log_every_s: 60,
        }
    }
}

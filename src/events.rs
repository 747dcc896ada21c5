//! Return updates pushed by vendors (ProCarrier's signed webhooks), fanned out to
//! `returnUpdated` subscribers. Deliveries are deduplicated: a vendor that repeats a delivery
//! (same return, same `tracking_last_update`) is acknowledged without a second event.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::future::Cache;
use tokio::sync::broadcast;

use crate::config::WebhookSettings;
use vendors::model::Return;

/// One vendor-reported change to a return, as subscribers receive it.
#[derive(Debug)]
pub struct ReturnUpdate {
    pub tenant: String,
    pub record: Arc<Return>,
    pub received_at: DateTime<Utc>,
}

pub struct ReturnEvents {
    sender: broadcast::Sender<Arc<ReturnUpdate>>,
    seen: Cache<String, ()>,
}

impl std::fmt::Debug for ReturnEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReturnEvents")
            .field("subscribers", &self.subscribers())
            .finish_non_exhaustive()
    }
}

impl ReturnEvents {
    pub fn new(settings: &WebhookSettings) -> Self {
        let (sender, _) = broadcast::channel(settings.subscriber_buffer);
        ReturnEvents {
            sender,
            seen: Cache::builder()
                .max_capacity(settings.dedupe_max_entries)
                .time_to_live(Duration::from_secs(settings.dedupe_ttl_s))
                .build(),
        }
    }

    /// Whether this is the first delivery of `delivery` (a key naming the tenant, the vendor's
    /// return and the update): atomic, so two copies arriving at once make one event.
    pub async fn first_delivery(&self, delivery: String) -> bool {
        self.seen.entry(delivery).or_insert(()).await.is_fresh()
    }

    /// Sends `update` to every subscriber (none listening is fine).
    pub fn publish(&self, update: ReturnUpdate) {
        let _ = self.sender.send(Arc::new(update));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ReturnUpdate>> {
        self.sender.subscribe()
    }

    /// Open `returnUpdated` subscriptions (all tenants).
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_delivery_is_first_once() {
        let events = ReturnEvents::new(&WebhookSettings::default());
        assert!(events.first_delivery("t/procarrier/1/100".into()).await);
        assert!(!events.first_delivery("t/procarrier/1/100".into()).await);
        assert!(events.first_delivery("t/procarrier/1/101".into()).await);
        assert!(events.first_delivery("u/procarrier/1/100".into()).await);
    }
}

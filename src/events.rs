//! Return updates pushed by vendors (ProCarrier's signed webhooks), fanned out to
//! `returnUpdated` subscribers. (Repeated deliveries are dropped before they get here, by the
//! returns index: see `http::webhooks`.)

use std::sync::Arc;

use chrono::{DateTime, Utc};
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
        ReturnEvents { sender }
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

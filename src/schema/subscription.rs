//! `subscription returnUpdated(filter)`: returns as vendors report changes (ProCarrier's signed
//! webhooks), over graphql-ws or graphql-sse. A subscriber sees only its own tenant's returns.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, InputObject, Object, Subscription, ID};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::enums::{ReturnStatus, TrackingStatus};
use super::errors::{invalid_argument, ScopeGuard};
use super::ids::{GlobalId, NodeKind};
use super::scalars::DateTime;
use super::types::ReturnNode;
use crate::auth::{Caller, Scope};
use crate::config::ServerSettings;
use crate::events::{ReturnEvents, ReturnUpdate};
use vendors::model;
use vendors::ErrorCode;

/// Which updates to receive. Every condition given must hold; no filter receives all of the
/// tenant's updates.
#[derive(InputObject, Default)]
pub struct ReturnUpdateFilter {
    /// Only these returns (their global ids).
    ids: Option<Vec<ID>>,
    tracking_number: Option<String>,
    order_reference: Option<String>,
    /// Only updates that leave the return in one of these states.
    statuses: Option<Vec<ReturnStatus>>,
    tracking_statuses: Option<Vec<TrackingStatus>>,
}

/// The filter with its ids decoded (checked once, when the subscription starts).
struct Matcher {
    ids: Option<Vec<(model::Vendor, String)>>,
    tracking_number: Option<String>,
    order_reference: Option<String>,
    statuses: Option<Vec<model::ReturnStatus>>,
    tracking_statuses: Option<Vec<model::TrackingStatus>>,
}

impl Matcher {
    fn new(filter: ReturnUpdateFilter) -> async_graphql::Result<Matcher> {
        let ids = match filter.ids {
            None => None,
            Some(ids) => Some(
                ids.iter()
                    .enumerate()
                    .map(|(i, id)| match GlobalId::decode(id) {
                        Some(GlobalId {
                            kind: NodeKind::Return,
                            vendor: Some(vendor),
                            native,
                        }) => Ok((vendor, native)),
                        _ => Err(invalid_argument(
                            &format!("filter.ids[{i}]"),
                            format!("{:?} is not a Return id", id.as_str()),
                        )),
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        let trimmed = |v: Option<String>| v.map(|s| s.trim().to_owned());
        Ok(Matcher {
            ids,
            tracking_number: trimmed(filter.tracking_number),
            order_reference: trimmed(filter.order_reference),
            statuses: filter
                .statuses
                .map(|s| s.into_iter().map(Into::into).collect()),
            tracking_statuses: filter
                .tracking_statuses
                .map(|s| s.into_iter().map(Into::into).collect()),
        })
    }

    fn matches(&self, r: &model::Return) -> bool {
        let same = |want: &Option<String>, have: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(w)))
        };
        self.ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|(v, n)| *v == r.vendor && *n == r.id))
            && same(&self.tracking_number, &r.tracking_number)
            && same(&self.order_reference, &r.order_reference)
            && self.statuses.as_ref().is_none_or(|s| s.contains(&r.status))
            && self
                .tracking_statuses
                .as_ref()
                .is_none_or(|s| r.tracking_status.is_some_and(|t| s.contains(&t)))
    }
}

/// A return as a vendor reported it changed.
pub struct ReturnUpdateEvent(Arc<ReturnUpdate>);

#[Object]
impl ReturnUpdateEvent {
    /// The return as the vendor's event describes it. Links (`order`, `tracking`) are read
    /// fresh when the event is delivered.
    async fn r#return(&self) -> ReturnNode {
        ReturnNode::new(self.0.record.clone())
    }
    /// When the gateway accepted the vendor's event.
    async fn received_at(&self) -> DateTime {
        self.0.received_at.into()
    }
}

pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Returns as their vendor reports them changed (today: ProCarrier's `return_updated`
    /// webhooks), for the caller's tenant only. Needs `returns:read`; customer contact fields
    /// are masked without `pii:read`, as in queries. A subscriber that falls more than
    /// `webhooks.subscriber_buffer` events behind skips the oldest. The subscription completes
    /// when the caller's token expires.
    #[graphql(guard = "ScopeGuard(Scope::ReturnsRead)")]
    async fn return_updated(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReturnUpdateFilter>,
    ) -> async_graphql::Result<impl Stream<Item = ReturnUpdateEvent>> {
        let matcher = Matcher::new(filter.unwrap_or_default())?;
        let events = ctx.data_unchecked::<Arc<ReturnEvents>>();
        let most = ctx.data_unchecked::<ServerSettings>().max_subscriptions;
        if events.subscribers() >= most {
            return Err(async_graphql::Error::new(format!(
                "at most {most} subscriptions run at once; try again later"
            ))
            .extend_with(|_, ext| {
                ext.set("code", ErrorCode::TooManySubscriptions.as_str());
                ext.set("retryable", true);
            }));
        }
        let caller = ctx
            .data_opt::<Caller>()
            .ok_or_else(|| async_graphql::Error::new("no caller"))?;
        let tenant = caller.tenant.clone();
        // The subscription ends when the token that opened it expires.
        let expiry = caller.expires_at.map(|exp| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            tokio::time::Instant::now() + std::time::Duration::from_secs(exp).saturating_sub(now)
        });
        let expired = async move {
            match expiry {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let receiver = events.subscribe();
        let events = futures_util::stream::unfold(
            (receiver, tenant, matcher),
            |(mut receiver, tenant, matcher)| async move {
                loop {
                    match receiver.recv().await {
                        Ok(update) => {
                            if update.tenant == tenant && matcher.matches(&update.record) {
                                return Some((
                                    ReturnUpdateEvent(update),
                                    (receiver, tenant, matcher),
                                ));
                            }
                        }
                        Err(RecvError::Lagged(skipped)) => {
                            tracing::warn!(skipped, "a returnUpdated subscriber fell behind");
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            },
        );
        Ok(futures_util::StreamExt::take_until(
            events,
            Box::pin(expired),
        ))
    }
}

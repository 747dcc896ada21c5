//! GraphQL enums, mirroring the model's (`remote` derives the conversions).

use async_graphql::Enum;

use vendors::model;

/// The five upstream systems.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "model::Vendor")]
pub enum Vendor {
    /// V-Track: courier statistics of parcels delivered, returned and refused.
    #[graphql(name = "VTRACK")]
    VTrack,
    /// ProCarrier Returns: return labels, drop-off points, return tracking.
    #[graphql(name = "PROCARRIER")]
    ProCarrier,
    /// RRR: marketplace returns and refunds.
    #[graphql(name = "RRR")]
    Rrr,
    /// MerchantPro: the shop's orders.
    #[graphql(name = "MERCHANTPRO")]
    MerchantPro,
    /// TrackRU: parcel tracking.
    #[graphql(name = "TRACKRU")]
    TrackRu,
}

/// Where a parcel is, normalised across vendors (TrackingMore-style states).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "model::TrackingStatus")]
pub enum TrackingStatus {
    Pending,
    InfoReceived,
    InTransit,
    OutForDelivery,
    AvailableForPickup,
    AttemptFail,
    Delivered,
    Exception,
    ReturnToSender,
    Cancelled,
    Expired,
}

/// Where a return stands as a business process.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "model::ReturnStatus")]
pub enum ReturnStatus {
    Requested,
    InTransit,
    Received,
    Refunded,
    Rejected,
    Cancelled,
    Exception,
    /// A status the vendor sent that the gateway does not know yet: `statusRaw` says which.
    Unknown,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "model::PaymentStatus")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    Cancelled,
    Refunded,
    Rejected,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "model::RefundStatus")]
pub enum RefundStatus {
    Pending,
    Approved,
    PaidOut,
    Rejected,
    Cancelled,
}

/// A day of the week, Monday first.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "chrono::Weekday")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// A vendor's circuit breaker: `OPEN` fails calls at once without reaching the vendor.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "vendors::BreakerState")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// Where a vendor's sync into the returns index stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::index::SyncPhase")]
pub enum SyncState {
    /// Nothing read yet.
    Waiting,
    /// Reading the vendor's history, newest first; what is indexed so far is served.
    Backfilling,
    /// History read; incremental reads keep the index current.
    Ready,
}

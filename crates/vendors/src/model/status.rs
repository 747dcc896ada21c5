//! Normalised statuses. The tables that map each vendor's raw codes onto these live in that
//! vendor's `mapping.rs`; the raw code always travels beside the normalised value.

use serde::{Deserialize, Serialize};

/// Where a parcel is. TrackingMore-style states, shared by every vendor that tracks parcels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackingStatus {
    /// Known to us, nothing from the carrier yet.
    Pending,
    /// The carrier has the shipment's data but not the parcel.
    InfoReceived,
    InTransit,
    OutForDelivery,
    AvailableForPickup,
    AttemptFail,
    Delivered,
    Exception,
    /// On its way back to (or back at) the sender: refused, unclaimed or returned.
    ReturnToSender,
    Cancelled,
    /// No news for too long; the carrier stopped tracking it.
    Expired,
}

/// Where a return stands as a business process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReturnStatus {
    /// Announced (created, label issued or marketplace request opened), parcel not moving yet.
    Requested,
    InTransit,
    /// Back at the retailer / sender.
    Received,
    Refunded,
    Rejected,
    Cancelled,
    /// Something went wrong on the way (lost, delayed, under investigation).
    Exception,
    /// A code the vendor sent that our table does not know yet; the raw code says what it is.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    Cancelled,
    Refunded,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RefundStatus {
    Pending,
    Approved,
    PaidOut,
    Rejected,
    Cancelled,
}

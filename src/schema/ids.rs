//! Global ids: opaque to clients, stable across requests and restarts.
//!
//! An id is `base64url("<Type>:<vendor>:<native id>")` without padding, e.g. the ProCarrier
//! return 123456789 is `UmV0dXJuOnByb2NhcnJpZXI6MTIzNDU2Nzg5`. Clients must not parse them; we
//! may change the inside as long as old ids keep resolving. Ids are encoded, not secret: a
//! customer's carries a digest of their contact key (`service::customers::ContactKey::digest`), never the
//! e-mail or phone itself.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use vendors::model::Vendor;

/// What a global id points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    Return,
    Order,
    Shipment,
    Customer,
}

impl NodeKind {
    fn as_str(self) -> &'static str {
        match self {
            NodeKind::Return => "Return",
            NodeKind::Order => "Order",
            NodeKind::Shipment => "Shipment",
            NodeKind::Customer => "Customer",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Return" => NodeKind::Return,
            "Order" => NodeKind::Order,
            "Shipment" => NodeKind::Shipment,
            "Customer" => NodeKind::Customer,
            _ => return None,
        })
    }
}

/// A decoded global id. `vendor` is `None` for cross-vendor nodes (a customer).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GlobalId {
    pub kind: NodeKind,
    pub vendor: Option<Vendor>,
    pub native: String,
}

impl GlobalId {
    pub fn new(kind: NodeKind, vendor: Option<Vendor>, native: impl Into<String>) -> Self {
        GlobalId {
            kind,
            vendor,
            native: native.into(),
        }
    }

    pub fn encode(&self) -> String {
        let vendor = self.vendor.map_or("", Vendor::as_str);
        URL_SAFE_NO_PAD.encode(format!("{}:{vendor}:{}", self.kind.as_str(), self.native))
    }

    pub fn decode(id: &str) -> Option<GlobalId> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
        let mut parts = raw.splitn(3, ':');
        let kind = NodeKind::parse(parts.next()?)?;
        let vendor = match parts.next()? {
            "" => None,
            v => Some(Vendor::ALL.into_iter().find(|x| x.as_str() == v)?),
        };
        let native = parts.next()?.to_owned();
        (!native.is_empty()).then_some(GlobalId {
            kind,
            vendor,
            native,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_reject_garbage() {
        let id = GlobalId::new(NodeKind::Return, Some(Vendor::ProCarrier), "123456789");
        assert_eq!(id.encode(), "UmV0dXJuOnByb2NhcnJpZXI6MTIzNDU2Nzg5");
        assert_eq!(GlobalId::decode(&id.encode()), Some(id));
        let customer = GlobalId::new(NodeKind::Customer, None, "a@b.gr");
        assert_eq!(GlobalId::decode(&customer.encode()), Some(customer));
        assert_eq!(GlobalId::decode("not an id"), None);
        assert_eq!(
            GlobalId::decode("Zm8+"),
            None,
            "standard base64 is not an id"
        );
        assert_eq!(
            GlobalId::decode(&URL_SAFE_NO_PAD.encode(b"Return:nowhere:1")),
            None
        );
        assert_eq!(
            GlobalId::decode(&URL_SAFE_NO_PAD.encode(b"Return:rrr:")),
            None
        );
    }
}

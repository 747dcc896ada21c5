//! Global ids: opaque to clients, stable across requests and restarts.
//!
//! An id is `base64url("<Type>:<vendor>:<native id>")` without padding, e.g. the ProCarrier
//! return 123456789 is `UmV0dXJuOnByb2NhcnJpZXI6MTIzNDU2Nzg5`. Clients must not parse them; we
//! may change the inside as long as old ids keep resolving. Ids are encoded, not secret: a
//! customer's carries a digest of their contact key (`directory::ContactKey::digest`), never the
//! e-mail or phone itself.

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
        base64url_encode(format!("{}:{vendor}:{}", self.kind.as_str(), self.native).as_bytes())
    }

    pub fn decode(id: &str) -> Option<GlobalId> {
        let raw = String::from_utf8(base64url_decode(id)?).ok()?;
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

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding (RFC 4648 §5).
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    // Leftover bits must be padding zeros, and a lone sextet cannot encode a byte.
    (bits < 6 && acc & ((1 << bits) - 1) == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for s in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "Return:procarrier:1",
        ] {
            let e = base64url_encode(s.as_bytes());
            assert_eq!(
                base64url_decode(&e).as_deref(),
                Some(s.as_bytes()),
                "{s} -> {e}"
            );
        }
        assert_eq!(base64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_encode(b"fo"), "Zm8");
        assert_eq!(base64url_decode("Zm8+"), None);
    }

    #[test]
    fn global_ids_round_trip_and_reject_garbage() {
        let id = GlobalId::new(NodeKind::Return, Some(Vendor::ProCarrier), "123456789");
        assert_eq!(id.encode(), "UmV0dXJuOnByb2NhcnJpZXI6MTIzNDU2Nzg5");
        assert_eq!(GlobalId::decode(&id.encode()), Some(id));
        let customer = GlobalId::new(NodeKind::Customer, None, "a@b.gr");
        assert_eq!(GlobalId::decode(&customer.encode()), Some(customer));
        assert_eq!(GlobalId::decode("not an id"), None);
        assert_eq!(
            GlobalId::decode(&base64url_encode(b"Return:nowhere:1")),
            None
        );
        assert_eq!(GlobalId::decode(&base64url_encode(b"Return:rrr:")), None);
    }
}

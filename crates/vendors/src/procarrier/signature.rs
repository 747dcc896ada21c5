//! ProCarrier's webhook signature: `X-Hmac-Sha256-Signature` is HMAC-SHA256 of the raw request
//! body keyed with the receiver's API key. The docs name no encoding, so lower- or upper-case
//! hex (optionally prefixed `sha256=`) and standard or URL-safe base64, padded or not, are all
//! accepted; we sign with lower-case hex.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-hmac-sha256-signature";

/// The signature's bytes, from hex or base64.
fn decode_signature(raw: &str) -> Option<Vec<u8>> {
    let raw = raw.trim();
    let raw = raw.strip_prefix("sha256=").unwrap_or(raw);
    if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..64)
            .step_by(2)
            .map(|i| u8::from_str_radix(&raw[i..i + 2], 16).ok())
            .collect();
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(raw).ok())
        .filter(|bytes| bytes.len() == 32)
}

/// Whether `signature` is HMAC-SHA256 of `body` under `key` (constant-time comparison).
pub fn verify(key: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(expected) = decode_signature(signature) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Lower-case hex HMAC-SHA256 of `body` under `key` (the simulator signs its deliveries so).
pub fn sign(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_in_every_accepted_encoding() {
        let (key, body) = (b"k".as_slice(), b"{\"id\":1}".as_slice());
        let hex = sign(key, body);
        let bytes = decode_signature(&hex).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        for accepted in [
            hex.clone(),
            hex.to_uppercase(),
            format!("sha256={hex}"),
            b64,
            b64url,
        ] {
            assert!(verify(key, body, &accepted), "{accepted}");
        }
        assert!(!verify(b"other", body, &hex));
        assert!(!verify(key, b"{\"id\": 1}", &hex));
        assert!(!verify(key, body, "not a signature"));
        assert!(!verify(key, body, ""));
    }
}

//! Razorpay's two HMAC-SHA256 signatures, checked in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Checks a checkout callback: Razorpay signs `"{order_id}|{payment_id}"` with the key secret
/// and the browser hands us the lower-case hex digest as `razorpay_signature`.
pub(crate) fn checkout_signature_matches(
    key_secret: &[u8],
    order_id: &str,
    payment_id: &str,
    signature_hex: &str,
) -> bool {
    hex_hmac_matches(
        key_secret,
        &[order_id.as_bytes(), b"|", payment_id.as_bytes()],
        signature_hex,
    )
}

/// Checks a webhook: Razorpay signs the raw request body, byte for byte, with the webhook
/// secret and sends the hex digest in `X-Razorpay-Signature`.
pub(crate) fn webhook_signature_matches(
    webhook_secret: &[u8],
    raw_body: &[u8],
    signature_hex: &str,
) -> bool {
    hex_hmac_matches(webhook_secret, &[raw_body], signature_hex)
}

fn hex_hmac_matches(key: &[u8], message: &[&[u8]], signature_hex: &str) -> bool {
    // Anything that is not hex, or not 32 bytes once decoded, is simply a wrong signature.
    let Ok(tag) = hex::decode(signature_hex) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return false;
    };
    for part in message {
        mac.update(part);
    }
    // `verify_slice` compares in constant time and rejects a tag of the wrong length.
    mac.verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed independently: python3 -c 'import hmac,hashlib;
    // print(hmac.new(b"s3cr3t", b"order_IluGWxBm9U8zJ8|pay_29QQoUBi66xm2f", hashlib.sha256).hexdigest())'
    const KNOWN: &str = "7144d96706a3db97946b2420aa11a24146369b165ee627f150ea95433ab2a911";

    #[test]
    fn a_signature_computed_elsewhere_verifies() {
        assert!(checkout_signature_matches(
            b"s3cr3t",
            "order_IluGWxBm9U8zJ8",
            "pay_29QQoUBi66xm2f",
            KNOWN
        ));
    }

    #[test]
    fn short_long_odd_and_empty_signatures_are_refused_without_panicking() {
        for bad in [
            "",
            "0",
            "00",
            "zz",
            &KNOWN[..62],
            &format!("{KNOWN}00"),
            "é",
        ] {
            assert!(
                !checkout_signature_matches(
                    b"s3cr3t",
                    "order_IluGWxBm9U8zJ8",
                    "pay_29QQoUBi66xm2f",
                    bad
                ),
                "{bad:?}"
            );
        }
    }
}

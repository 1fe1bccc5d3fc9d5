//! Where a sign-in comes from: a short device label read from the `User-Agent` and the
//! client's network (IPv4 /24, IPv6 /48), never the full address.

use std::net::IpAddr;

/// The device and network a session was signed in from, as shown in the session list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// A short label such as "Firefox on Linux" (at most [`ClientInfo::MAX_DEVICE_CHARS`]).
    pub device: String,
    /// The client's network, such as "203.0.113.0/24"; `None` when unknown.
    pub ip_prefix: Option<String>,
}

impl ClientInfo {
    /// The longest device label kept, in characters.
    pub const MAX_DEVICE_CHARS: usize = 64;

    /// Reads the device label from `user_agent` and the network from `ip`.
    #[must_use]
    pub fn new(user_agent: Option<&str>, ip: Option<IpAddr>) -> Self {
        Self {
            device: device_label(user_agent.unwrap_or_default()),
            ip_prefix: ip.map(ip_prefix),
        }
    }
}

/// "Browser on OS" from a `User-Agent` header; "Unknown device" when nothing is recognised.
/// A client that names neither a known browser nor a known system is shown by the first
/// product token of its header (e.g. "curl"), cut to a safe length and character set.
#[must_use]
pub fn device_label(user_agent: &str) -> String {
    let ua = user_agent.trim();
    let browser = browser(ua);
    let os = os(ua);
    let label = match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => format!("Unknown browser on {o}"),
        (None, None) => {
            let product: String = ua
                .split(['/', ' '])
                .next()
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if product.is_empty() {
                "Unknown device".to_owned()
            } else {
                product
            }
        }
    };
    label.chars().take(ClientInfo::MAX_DEVICE_CHARS).collect()
}

fn browser(ua: &str) -> Option<&'static str> {
    // Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari".
    const KNOWN: [(&str, &str); 8] = [
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    KNOWN
        .into_iter()
        .find(|(needle, _)| ua.contains(needle))
        .map(|(_, name)| name)
}

fn os(ua: &str) -> Option<&'static str> {
    // Order matters: Android says "Linux", iOS says "Mac OS X".
    const KNOWN: [(&str, &str); 8] = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ];
    KNOWN
        .into_iter()
        .find(|(needle, _)| ua.contains(needle))
        .map(|(_, name)| name)
}

/// The network of `ip`: its /24 for IPv4 (and IPv4-mapped IPv6), its /48 for IPv6.
#[must_use]
pub fn ip_prefix(ip: IpAddr) -> String {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let masked = u128::from(v6) & (u128::MAX << 80);
            format!("{}/48", std::net::Ipv6Addr::from(masked))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_common_browsers() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1",
                "Chrome on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            ("curl/8.4.0", "curl"),
            ("", "Unknown device"),
            ("<script>/1", "script"),
        ];
        for (ua, label) in cases {
            assert_eq!(device_label(ua), label, "{ua}");
        }
    }

    #[test]
    fn labels_are_capped() {
        let long = "x".repeat(500);
        assert_eq!(
            device_label(&long).chars().count(),
            ClientInfo::MAX_DEVICE_CHARS
        );
    }

    #[test]
    fn networks_not_addresses() {
        let cases = [
            ("203.0.113.77", "203.0.113.0/24"),
            ("::ffff:198.51.100.9", "198.51.100.0/24"),
            ("2001:db8:abcd:12:1::7", "2001:db8:abcd::/48"),
        ];
        for (ip, prefix) in cases {
            assert_eq!(ip_prefix(ip.parse().expect("ip")), prefix, "{ip}");
        }
    }
}

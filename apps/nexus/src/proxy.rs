//! Who the client is, behind proxies we trust and no others.
//!
//! `X-Forwarded-For` and `Forwarded` are lists every hop appends to, and the client writes
//! the start of the list itself. So the client is the right-most address that is not one of
//! our own proxies: everything to its left is the client's say-so. Only a peer that is a
//! trusted proxy gets its headers read at all.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One network, `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `::1`, `2001:db8::/32` (a bare address is a single host).
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{raw}' is not an IP address or CIDR network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{raw}' has an invalid prefix length"))?,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` is inside this network (IPv4-mapped IPv6 addresses count as IPv4).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The proxies whose forwarding headers we believe (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Network>,
}

impl TrustedProxies {
    /// Trusts no proxy: the client is always the peer.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts only proxies on this machine (`127.0.0.0/8`, `::1`): what `TRUST_PROXY=true`
    /// without `TRUSTED_PROXIES` means.
    #[must_use]
    pub fn loopback() -> Self {
        Self {
            networks: vec![
                Network {
                    addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
                    prefix: 8,
                },
                Network {
                    addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
                    prefix: 128,
                },
            ],
        }
    }

    /// Parses a comma-separated list of addresses and CIDR networks.
    ///
    /// # Errors
    /// A message naming the entry that is not one.
    pub fn parse_list(raw: &str) -> Result<Self, String> {
        let networks = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { networks })
    }

    /// Whether any proxy is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    #[must_use]
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client address of a request from `peer` carrying these forwarding headers: the
    /// peer itself unless it is a trusted proxy; otherwise the right-most forwarded hop that
    /// is not a trusted proxy (or the left-most hop if every hop is one). Unparseable hops end
    /// the walk: what lies left of them cannot be trusted either.
    #[must_use]
    pub fn client(&self, peer: IpAddr, x_forwarded_for: &[&str], forwarded: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return canonical(peer);
        }
        // `X-Forwarded-For` wins when both are present (it is what common proxies append).
        let hops: Vec<Option<IpAddr>> = if x_forwarded_for.is_empty() {
            forwarded.iter().flat_map(|h| forwarded_for(h)).collect()
        } else {
            x_forwarded_for
                .iter()
                .flat_map(|h| h.split(','))
                .map(|hop| parse_hop(hop.trim()))
                .collect()
        };
        let mut client = canonical(peer);
        for hop in hops.into_iter().rev() {
            let Some(ip) = hop else { break };
            client = canonical(ip);
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// The `for=` values of one `Forwarded` header (RFC 7239), in order.
fn forwarded_for(header: &str) -> Vec<Option<IpAddr>> {
    header
        .split(',')
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// One hop: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    hop.rsplit_once(':')
        .and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse::<Ipv4Addr>().ok()))
        .map(IpAddr::V4)
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The key a client is limited under: its IPv4 address, or its IPv6 /64 (one subscriber
/// usually holds a whole /64, so single IPv6 addresses would be free for the taking).
#[must_use]
pub fn client_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an IP address")
    }

    #[test]
    fn networks_parse_and_contain_their_addresses() {
        let net = Network::parse("10.0.0.0/8").expect("valid");
        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")), "mapped IPv4");
        let host = Network::parse("::1").expect("valid");
        assert!(host.contains(ip("::1")));
        assert!(!host.contains(ip("::2")));
        let all = Network::parse("0.0.0.0/0").expect("valid");
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "nonsense", "::/129", "1.2.3.4/x"] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let proxies = TrustedProxies::parse_list("10.0.0.0/8").expect("valid");

        let client = proxies.client(ip("203.0.113.7"), &["198.51.100.1"], &[]);

        assert_eq!(client, ip("203.0.113.7"));
        assert_eq!(
            TrustedProxies::none().client(ip("127.0.0.1"), &["198.51.100.1"], &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_client_is_the_right_most_hop_that_is_not_a_trusted_proxy() {
        let proxies = TrustedProxies::parse_list("10.0.0.0/8, ::1").expect("valid");

        // The client wrote "1.1.1.1" itself; our proxy appended the address it saw.
        let spoofed = proxies.client(ip("10.0.0.2"), &["1.1.1.1, 203.0.113.7"], &[]);
        let chained = proxies.client(ip("::1"), &["203.0.113.7", "10.0.0.5"], &[]);
        let all_trusted = proxies.client(ip("10.0.0.2"), &["10.0.0.9, 10.0.0.8"], &[]);
        let garbage = proxies.client(ip("10.0.0.2"), &["203.0.113.7, not-an-ip"], &[]);

        assert_eq!(spoofed, ip("203.0.113.7"));
        assert_eq!(chained, ip("203.0.113.7"), "headers are one list, in order");
        assert_eq!(all_trusted, ip("10.0.0.9"));
        assert_eq!(garbage, ip("10.0.0.2"), "an unreadable hop is not believed");
    }

    #[test]
    fn the_forwarded_header_is_read_the_same_way() {
        let proxies = TrustedProxies::loopback();

        let client = proxies.client(
            ip("127.0.0.1"),
            &[],
            &[r#"for=1.1.1.1;proto=https, for="[2001:db8::7]:443";by=127.0.0.1"#],
        );

        assert_eq!(client, ip("2001:db8::7"));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_ipv4_by_address() {
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            client_key(ip("2001:db8:1:2:ffff::9")),
            client_key(ip("2001:db8:1:2::1"))
        );
        assert_ne!(
            client_key(ip("2001:db8:1:3::1")),
            client_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(client_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(ip("203.0.113.7")), "203.0.113.7");
    }
}

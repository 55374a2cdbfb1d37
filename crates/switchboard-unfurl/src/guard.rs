//! Where a preview fetch may go: public unicast addresses only, unless the operator's
//! allowlist names the host. Checked on the addresses a name resolves to (the connection
//! then goes to exactly those), so a name cannot point into a private network, and again
//! for every redirect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::UnfurlError;

/// The destinations a fetch may reach.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Hosts (`name` or `name:port`, lower case) reachable whatever they resolve to.
    allow: Vec<(String, Option<u16>)>,
}

impl Guard {
    /// A guard letting through, besides public addresses, the hosts of `allow` (each
    /// `host` or `host:port`; a bracketed IPv6 literal for an IPv6 host).
    pub fn new(allow: &[String]) -> Self {
        let allow = allow
            .iter()
            .map(|entry| {
                let entry = entry.trim().to_ascii_lowercase();
                match entry.rsplit_once(':') {
                    Some((host, port)) if !host.ends_with(':') && port.parse::<u16>().is_ok() => {
                        (host.to_owned(), port.parse().ok())
                    }
                    _ => (entry, None),
                }
            })
            .collect();
        Self { allow }
    }

    /// True when the allowlist names `host` (as the URL spells it) on `port`.
    pub fn allowed(&self, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.allow.iter().any(|(h, p)| *h == host && p.is_none_or(|p| p == port))
    }

    /// The addresses to connect to for `host`: every resolved address must be public
    /// unless the host is allowlisted.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, UnfurlError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| UnfurlError::Unreachable(format!("{host} does not resolve: {e}")))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(UnfurlError::Unreachable(format!("{host} has no address")));
        }
        if !self.allowed(host, port)
            && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip()))
        {
            return Err(UnfurlError::Refused(format!("{host} is at {}, which is not a public address", bad.ip())));
        }
        Ok(addrs)
    }
}

/// True for a globally routable unicast address: not loopback, private, link-local,
/// shared (CGNAT), documentation, benchmarking, multicast, broadcast, unspecified or
/// reserved, and the same for an IPv4 address inside IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b
        || first == 0x2002
        || ip.segments()[..6].iter().all(|s| *s == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn private_loopback_link_local_and_reserved_addresses_are_not_public() {
        for s in [
            "127.0.0.1",
            "127.8.8.8",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2001:db8::1",
            "ff02::1",
        ] {
            assert!(!public(s), "{s} must not count as public");
        }
        for s in ["1.1.1.1", "8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(public(s), "{s} is public");
        }
    }

    #[test]
    fn the_allowlist_names_hosts_with_or_without_a_port() {
        let g = Guard::new(&["LocalHost".into(), "127.0.0.1:8080".into(), "[::1]:9000".into()]);
        assert!(g.allowed("localhost", 1) && g.allowed("LOCALHOST", 80));
        assert!(g.allowed("127.0.0.1", 8080) && !g.allowed("127.0.0.1", 8081));
        assert!(g.allowed("[::1]", 9000) && !g.allowed("[::1]", 9001));
        assert!(!g.allowed("example.com", 80));
    }

    #[tokio::test]
    async fn literal_addresses_are_checked_without_resolving() {
        let g = Guard::new(&["127.0.0.1:8080".into()]);
        assert!(matches!(g.resolve("127.0.0.1", 80).await, Err(UnfurlError::Refused(_))));
        assert!(matches!(g.resolve("169.254.169.254", 80).await, Err(UnfurlError::Refused(_))));
        assert!(matches!(g.resolve("[::1]", 80).await, Err(UnfurlError::Refused(_))));
        assert_eq!(g.resolve("127.0.0.1", 8080).await.unwrap(), vec!["127.0.0.1:8080".parse().unwrap()]);
        assert!(matches!(g.resolve("localhost", 80).await, Err(UnfurlError::Refused(_))));
    }
}

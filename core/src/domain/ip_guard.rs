//! Which addresses a delivery may never reach: anything that is not globally routable. Used when
//! an integration is saved (IP literals) and again at connect time (resolved addresses), so a
//! name that later resolves somewhere private is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused, in words a user can act on.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    const RULES: &[([u8; 4], u32, &str)] = &[
        ([0, 0, 0, 0], 8, "a reserved address (0.0.0.0/8)"),
        ([10, 0, 0, 0], 8, "a private address (10.0.0.0/8)"),
        ([100, 64, 0, 0], 10, "a carrier-grade NAT address (100.64.0.0/10)"),
        ([127, 0, 0, 0], 8, "a loopback address (127.0.0.0/8)"),
        ([169, 254, 0, 0], 16, "a link-local or cloud metadata address (169.254.0.0/16)"),
        ([172, 16, 0, 0], 12, "a private address (172.16.0.0/12)"),
        ([192, 0, 0, 0], 24, "a reserved address (192.0.0.0/24)"),
        ([192, 0, 2, 0], 24, "a documentation address (192.0.2.0/24)"),
        // The deprecated 6to4 relay anycast: whoever answers it is some network's relay router.
        ([192, 88, 99, 0], 24, "a 6to4 relay anycast address (192.88.99.0/24)"),
        ([192, 168, 0, 0], 16, "a private address (192.168.0.0/16)"),
        ([198, 18, 0, 0], 15, "a benchmarking address (198.18.0.0/15)"),
        ([198, 51, 100, 0], 24, "a documentation address (198.51.100.0/24)"),
        ([203, 0, 113, 0], 24, "a documentation address (203.0.113.0/24)"),
        ([224, 0, 0, 0], 4, "a multicast address (224.0.0.0/4)"),
        ([240, 0, 0, 0], 4, "a reserved address (240.0.0.0/4)"),
    ];
    RULES.iter().find(|(net, prefix, _)| in_v4(ip, *net, *prefix)).map(|(_, _, why)| *why)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    // Forms that embed an IPv4 address are judged by that address, so ::ffff:10.0.0.1 or
    // 64:ff9b::a9fe:a9fe cannot smuggle a private target past the IPv4 rules.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8);
        return v4_reason(v4);
    }
    if seg[0] == 0x2002 {
        let v4 = Ipv4Addr::new((seg[1] >> 8) as u8, seg[1] as u8, (seg[2] >> 8) as u8, seg[2] as u8);
        return v4_reason(v4);
    }
    if ip.is_unspecified() {
        return Some("the unspecified address (::)");
    }
    if ip.is_loopback() {
        return Some("a loopback address (::1)");
    }
    match seg[0] {
        // Local-use NAT64 (RFC 8215): translated into whatever IPv4 space the operator chose,
        // private networks included, so the embedded address proves nothing.
        0x0064 if seg[1] == 0xff9b && seg[2] == 0x0001 => Some("a local-use NAT64 address (64:ff9b:1::/48)"),
        // IETF protocol assignments: Teredo (whose addresses embed a NAT's address), ORCHID,
        // benchmarking, AS112 and anycast services; none is a customer's webhook.
        0x2001 if seg[1] < 0x0200 => Some("an IETF protocol address (2001::/23, Teredo included)"),
        0x3fff if seg[1] < 0x1000 => Some("a documentation address (3fff::/20)"),
        0x5f00 => Some("a segment routing (SRv6) address (5f00::/16)"),
        s if s & 0xfe00 == 0xfc00 => Some("a unique local address (fc00::/7)"),
        s if s & 0xffc0 == 0xfe80 => Some("a link-local address (fe80::/10)"),
        s if s & 0xffc0 == 0xfec0 => Some("a site-local address (fec0::/10)"),
        s if s & 0xff00 == 0xff00 => Some("a multicast address (ff00::/8)"),
        0x2001 if seg[1] == 0x0db8 => Some("a documentation address (2001:db8::/32)"),
        0x0100 if seg[1..4] == [0, 0, 0] => Some("a discard-only address (100::/64)"),
        // The rest of ::/8 is reserved or deprecated (IPv4-compatible) space; none of it is a
        // legitimate public webhook target.
        0 => Some("a reserved address (::/8)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(s: &str) -> bool {
        blocked_reason(s.parse().unwrap()).is_some()
    }

    #[test]
    fn blocks_every_non_public_v4_range() {
        for ip in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(blocked(ip), "{ip} should be blocked");
        }
    }

    #[test]
    fn allows_public_v4_at_range_edges() {
        for ip in ["8.8.8.8", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "1.1.1.1"] {
            assert!(!blocked(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn blocks_v6_local_ranges_and_embedded_v4() {
        for ip in [
            "::1",
            "::",
            "fd00::1",
            "fc00::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a00:1::",
            "ff02::1",
            "::10.0.0.1",
        ] {
            assert!(blocked(ip), "{ip} should be blocked");
        }
        assert!(!blocked("2606:4700:4700::1111"));
        assert!(!blocked("::ffff:8.8.8.8"));
    }

    /// Each newly refused range: its first and last address are refused, and the neighbours
    /// just outside it are not.
    #[test]
    fn blocks_the_special_purpose_ranges_at_their_edges() {
        let table = [
            ("192.88.99.0", "192.88.99.255", ["192.88.98.255", "192.88.100.0"]),
            (
                "64:ff9b:1::",
                "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
                ["64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "64:ff9b:2::"],
            ),
            (
                "2001::",
                "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
                ["2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:200::"],
            ),
            (
                "3fff::",
                "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
                ["3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff:1000::"],
            ),
            (
                "5f00::",
                "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                ["5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "5f01::"],
            ),
        ];
        for (first, last, outside) in table {
            assert!(blocked(first), "{first} should be blocked");
            assert!(blocked(last), "{last} should be blocked");
            for ip in outside {
                assert!(!blocked(ip), "{ip} should be allowed");
            }
        }
        // A Teredo address names the server and the client's obfuscated address; refused whole.
        assert_eq!(
            blocked_reason("2001:0:4136:e378:8000:63bf:3fff:fdd2".parse().unwrap()),
            Some("an IETF protocol address (2001::/23, Teredo included)")
        );
        assert_eq!(
            blocked_reason("192.88.99.1".parse().unwrap()),
            Some("a 6to4 relay anycast address (192.88.99.0/24)")
        );
    }

    #[test]
    fn loopback_detection_covers_mapped_v6() {
        assert!(is_loopback("127.0.0.1".parse().unwrap()));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("10.0.0.1".parse().unwrap()));
    }
}

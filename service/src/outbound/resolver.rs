//! The connect-time SSRF guard: a DNS resolver for reqwest that hands the connector only the
//! addresses `ip_guard` accepts. reqwest connects to exactly the addresses a resolver returns,
//! so the addresses checked here are the addresses connected to; a name that resolves somewhere
//! public at save time and somewhere private later (DNS rebinding) is still refused.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use apviso_core::domain::{ip_guard, target::TargetPolicy};

/// Why a name produced nothing we may connect to. The client finds this in reqwest's error
/// source chain to tell a refused target (not retryable) from a DNS failure (retryable).
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("DNS lookup for {host} failed")]
    Lookup {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("DNS lookup for {host} returned no addresses")]
    NoAddresses { host: String },
    #[error(transparent)]
    Blocked(#[from] BlockedError),
}

/// Every address a name resolved to was refused. Only the reasons are kept: the message reaches
/// tenants (delivery log, `/test`), and echoing the addresses would let anyone who can point a
/// name at us read our internal DNS answers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct BlockedError {
    pub host: String,
    /// `ip_guard`'s reasons, each once, in the order the addresses came.
    pub reasons: Vec<&'static str>,
}

impl fmt::Display for BlockedError {
    /// `hooks.example.com resolves only to blocked addresses (a private address (10.0.0.0/8);
    /// a unique local address (fc00::/7))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} resolves only to blocked addresses ({})", self.host, self.reasons.join("; "))
    }
}

/// The one address rule, shared by the resolver and the IP-literal check: refuse whatever
/// `ip_guard` refuses, except loopback (and only loopback) when the policy allows it.
pub fn refusal(ip: IpAddr, policy: TargetPolicy) -> Option<&'static str> {
    if policy.allow_loopback && ip_guard::is_loopback(ip) {
        return None;
    }
    ip_guard::blocked_reason(ip)
}

/// Keeps the acceptable addresses in resolver order (so happy-eyeballs preferences survive),
/// without duplicates. Errors when nothing is left: a name with one public and one private
/// address still works, but only ever through the public one.
pub fn filter_addrs(host: &str, addrs: Vec<SocketAddr>, policy: TargetPolicy) -> Result<Vec<SocketAddr>, ResolveError> {
    if addrs.is_empty() {
        return Err(ResolveError::NoAddresses { host: host.to_owned() });
    }
    let mut allowed: Vec<SocketAddr> = Vec::with_capacity(addrs.len());
    let mut reasons: Vec<&'static str> = Vec::new();
    for addr in addrs {
        match refusal(addr.ip(), policy) {
            None if !allowed.contains(&addr) => allowed.push(addr),
            None => {}
            Some(why) if !reasons.contains(&why) => reasons.push(why),
            Some(_) => {}
        }
    }
    if allowed.is_empty() {
        return Err(BlockedError { host: host.to_owned(), reasons }.into());
    }
    Ok(allowed)
}

/// Resolves with the system resolver (`getaddrinfo` via tokio's blocking pool, as reqwest's
/// default does) and filters the answer before reqwest sees it.
#[derive(Clone, Copy, Debug)]
pub struct GuardedResolver {
    policy: TargetPolicy,
}

impl GuardedResolver {
    pub fn new(policy: TargetPolicy) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest substitutes the URL's port (or the scheme's default).
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|source| ResolveError::Lookup { host: host.clone(), source })?;
            let allowed = filter_addrs(&host, found.collect(), policy)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy { allow_loopback: false };
    const LOCAL: TargetPolicy = TargetPolicy { allow_loopback: true };

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn keeps_public_addresses_in_order_without_duplicates() {
        let found = addrs(&["93.184.216.34:0", "[2606:4700::1]:0", "93.184.216.34:0"]);
        assert_eq!(
            filter_addrs("example.com", found, STRICT).unwrap(),
            addrs(&["93.184.216.34:0", "[2606:4700::1]:0"])
        );
    }

    #[test]
    fn drops_blocked_addresses_from_a_mixed_answer() {
        let found = addrs(&["10.0.0.5:0", "93.184.216.34:0", "[fd00::1]:0"]);
        assert_eq!(filter_addrs("mixed.example.com", found, STRICT).unwrap(), addrs(&["93.184.216.34:0"]));
    }

    #[test]
    fn refuses_a_name_with_only_blocked_addresses_and_says_why() {
        let found = addrs(&["10.0.0.5:0", "[fd00::1]:0", "10.0.0.5:0"]);
        let err = filter_addrs("hooks.example.com", found, STRICT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "hooks.example.com resolves only to blocked addresses (a private address (10.0.0.0/8); \
             a unique local address (fc00::/7))"
        );
        assert!(matches!(err, ResolveError::Blocked(BlockedError { ref reasons, .. }) if reasons.len() == 2));
    }

    /// The message reaches tenants (the delivery log, `/test`): it names the reasons, never the
    /// internal addresses the name resolved to, so DNS cannot be used to map our network.
    #[test]
    fn the_refusal_never_echoes_the_resolved_addresses() {
        let found = addrs(&["10.1.2.3:0", "[fd12:3456::7]:0", "169.254.169.254:0", "10.9.8.7:0"]);
        let err = filter_addrs("inside.example.com", found, STRICT).unwrap_err();
        let message = err.to_string();
        assert_eq!(
            message,
            "inside.example.com resolves only to blocked addresses (a private address (10.0.0.0/8); \
             a unique local address (fc00::/7); a link-local or cloud metadata address (169.254.0.0/16))"
        );
        for ip in ["10.1.2.3", "fd12:3456::7", "169.254.169.254", "10.9.8.7"] {
            assert!(!message.contains(ip), "{ip} echoed: {message}");
        }
    }

    #[test]
    fn local_mode_opens_loopback_and_nothing_else() {
        let found = addrs(&["127.0.0.1:0", "[::1]:0", "[::ffff:127.0.0.1]:0", "169.254.169.254:0", "192.168.1.1:0"]);
        assert_eq!(
            filter_addrs("localhost", found.clone(), LOCAL).unwrap(),
            addrs(&["127.0.0.1:0", "[::1]:0", "[::ffff:127.0.0.1]:0"])
        );
        assert!(matches!(filter_addrs("localhost", found, STRICT), Err(ResolveError::Blocked(_))));
        assert!(matches!(filter_addrs("meta", addrs(&["169.254.169.254:0"]), LOCAL), Err(ResolveError::Blocked(_))));
    }

    #[test]
    fn empty_answer_is_a_dns_error() {
        let err = filter_addrs("empty.example.com", Vec::new(), STRICT).unwrap_err();
        assert!(matches!(err, ResolveError::NoAddresses { .. }));
        assert_eq!(err.to_string(), "DNS lookup for empty.example.com returned no addresses");
    }
}

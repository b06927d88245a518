//! Delivery target URLs, parsed once. A target is HTTPS to a public host; the only exception is
//! plain HTTP to loopback when the local stack or tests switch it on by configuration.

use std::{fmt, net::IpAddr};

use url::{Host, Url};

use super::ip_guard;

/// Whether loopback targets are acceptable. Off unless configuration says otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_loopback: bool,
}

/// A checked target URL. The text is kept as the user gave it: it is what is stored and sent,
/// so a round trip through storage never rewrites it.
#[derive(Clone, PartialEq, Eq)]
pub struct TargetUrl {
    url: Url,
    text: String,
}

impl TargetUrl {
    /// Parses and checks a target URL, returning a user-facing reason on rejection.
    pub fn parse(raw: &str, policy: TargetPolicy) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| format!("must be a valid absolute URL ({e})"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password in the URL".into());
        }
        if url.fragment().is_some() {
            return Err("must not contain a fragment (#...)".into());
        }
        let host = url.host().ok_or_else(|| "must include a host".to_owned())?;
        let loopback = host_is_loopback(&host);
        match url.scheme() {
            "https" => {}
            "http" if loopback && policy.allow_loopback => {}
            _ => return Err("must use https://".into()),
        }
        if !(loopback && policy.allow_loopback)
            && let Some(why) = host_reason(&host)
        {
            return Err(format!("must not point at {why}"));
        }
        Ok(Self { url, text: raw.to_owned() })
    }

    /// A target read back from storage. It passed [`TargetUrl::parse`] under the policy of the
    /// day it was saved, and every send re-checks the resolved address against the policy of
    /// today, so only its shape is checked here: a stored item keeps loading when a policy
    /// changes.
    pub fn of_stored(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| format!("must be a valid absolute URL ({e})"))?;
        if url.host().is_none() {
            return Err("must include a host".into());
        }
        Ok(Self { url, text: raw.to_owned() })
    }

    pub fn as_url(&self) -> &Url {
        &self.url
    }

    /// The URL as given, byte for byte.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn host_str(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// Scheme, host and port: what may be shown of a URL whose path or query can be a token.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }
}

impl fmt::Debug for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Many target URLs carry a token in the path or query (Slack's are one), so only the
        // origin is shown.
        write!(f, "TargetUrl({}/…)", self.origin())
    }
}

fn host_is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(v4) => ip_guard::is_loopback(IpAddr::V4(*v4)),
        Host::Ipv6(v6) => ip_guard::is_loopback(IpAddr::V6(*v6)),
        Host::Domain(name) => is_localhost_name(name),
    }
}

pub fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Names that never belong to a public service: they resolve to the machine itself, to the
/// cloud metadata service, or only inside a private network.
fn host_reason(host: &Host<&str>) -> Option<String> {
    match host {
        Host::Ipv4(v4) => ip_guard::blocked_reason(IpAddr::V4(*v4)).map(str::to_owned),
        Host::Ipv6(v6) => ip_guard::blocked_reason(IpAddr::V6(*v6)).map(str::to_owned),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if is_localhost_name(&name) {
                Some("a loopback host name (localhost)".into())
            } else if name == "metadata.google.internal" || name == "instance-data" {
                Some("a cloud metadata host name".into())
            } else if [".internal", ".local", ".lan", ".home.arpa", ".intranet", ".corp"]
                .iter()
                .any(|suffix| name.ends_with(suffix))
                || !name.contains('.')
            {
                Some(format!("a private network host name ({name})"))
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy { allow_loopback: false };
    const LOCAL: TargetPolicy = TargetPolicy { allow_loopback: true };

    #[test]
    fn accepts_public_https() {
        let t = TargetUrl::parse("https://hooks.example.com/apviso?x=1", STRICT).unwrap();
        assert_eq!(t.host_str(), "hooks.example.com");
    }

    #[test]
    fn rejects_plain_http_and_other_schemes() {
        assert_eq!(TargetUrl::parse("http://hooks.example.com/", STRICT).unwrap_err(), "must use https://");
        assert!(TargetUrl::parse("ftp://hooks.example.com/", STRICT).is_err());
        assert!(TargetUrl::parse("not a url", STRICT).is_err());
    }

    #[test]
    fn rejects_private_targets_and_names() {
        for raw in [
            "https://127.0.0.1/",
            "https://10.0.0.8/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://100.64.1.1/",
            "https://localhost/",
            "https://api.localhost/",
            "https://metadata.google.internal/",
            "https://printer.local/",
            "https://intranet/",
            "https://0x7f000001/",
        ] {
            assert!(TargetUrl::parse(raw, STRICT).is_err(), "{raw} should be rejected");
        }
    }

    #[test]
    fn rejects_credentials_in_url() {
        assert!(TargetUrl::parse("https://user:pw@hooks.example.com/", STRICT).is_err());
    }

    #[test]
    fn loopback_http_only_when_allowed() {
        assert!(TargetUrl::parse("http://127.0.0.1:8080/hook", STRICT).is_err());
        assert!(TargetUrl::parse("http://127.0.0.1:8080/hook", LOCAL).is_ok());
        assert!(TargetUrl::parse("http://localhost:8080/hook", LOCAL).is_ok());
        // The local switch opens loopback only, never private networks.
        assert!(TargetUrl::parse("http://10.0.0.1/hook", LOCAL).is_err());
        assert!(TargetUrl::parse("https://10.0.0.1/hook", LOCAL).is_err());
    }
}

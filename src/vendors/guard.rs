//! The address guard: a tenant chooses its connection's URLs, so the operator
//! refuses to connect to addresses inside the cluster or the host (loopback,
//! private, link-local, CGNAT, unique-local, cloud metadata, ...) unless it was
//! started with `--allow-private-endpoints` (the sandbox, the demo, the tests).
//! IP literals are refused before any connection; host names are checked after
//! resolution, by the HTTP client's resolver.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::VendorError;

/// Which endpoints a connection may reach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EndpointPolicy {
    /// Public addresses only (the default).
    #[default]
    PublicOnly,
    /// Anything, private addresses included (`--allow-private-endpoints`).
    AllowPrivate,
}

/// Pure: the class of a non-public address, or `None` for a public one.
pub fn blocked_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_class(v4);
            }
            v6_class(v6)
        }
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [169, 254, 169, 254] => "a cloud metadata address",
        [127, ..] => "a loopback address",
        [10, ..] | [192, 168, ..] => "a private address",
        [172, b, ..] if (16..=31).contains(&b) => "a private address",
        [169, 254, ..] => "a link-local address",
        [100, b, ..] if (64..=127).contains(&b) => "a carrier-grade NAT address",
        [0, ..] => "an unspecified address",
        [255, 255, 255, 255] => "a broadcast address",
        [a, ..] if a >= 224 => "a multicast or reserved address",
        [198, 18 | 19, ..] => "a benchmarking address",
        _ => return None,
    })
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    Some(match seg {
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_unspecified() => "an unspecified address",
        // fd00:ec2::254, AWS's IPv6 metadata endpoint, sits inside fc00::/7.
        [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] => "a cloud metadata address",
        [s, ..] if s & 0xfe00 == 0xfc00 => "a unique-local address",
        [s, ..] if s & 0xffc0 == 0xfe80 => "a link-local address",
        [s, ..] if s & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

/// The refusal users see: it names the address class and the policy.
pub fn refusal(what: &str, class: &str) -> VendorError {
    VendorError::EndpointNotAllowed(format!(
        "{what} is {class}; the operator connects only to public addresses unless it was \
         started with --allow-private-endpoints"
    ))
}

/// Pure: checks an http(s) URL whose host is an IP literal. Host names are
/// checked when they resolve ([`GuardedResolver`]).
pub fn check_url(field: &str, url: &str, policy: EndpointPolicy) -> Result<(), VendorError> {
    if policy == EndpointPolicy::AllowPrivate {
        return Ok(());
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return Ok(()); // malformed URLs are refused by the client, naming the field
    };
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    match blocked_class(ip) {
        Some(class) => Err(refusal(&format!("{field} {url:?}"), class)),
        None => Ok(()),
    }
}

/// Pure: what a resolution may be used for; refused when any address is not
/// public (a name that resolves to both is a rebinding trick, not a mirror).
pub fn filter_resolved(
    host: &str,
    addrs: Vec<SocketAddr>,
    policy: EndpointPolicy,
) -> Result<Vec<SocketAddr>, VendorError> {
    if policy == EndpointPolicy::PublicOnly
        && let Some(class) = addrs.iter().find_map(|a| blocked_class(a.ip()))
    {
        return Err(refusal(
            &format!("host {host:?} resolves to an address that"),
            class,
        ));
    }
    Ok(addrs)
}

/// The HTTP client's resolver under [`EndpointPolicy::PublicOnly`].
#[derive(Debug, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            match filter_resolved(&host, addrs, EndpointPolicy::PublicOnly) {
                Ok(a) => Ok(Box::new(a.into_iter()) as Addrs),
                Err(e) => Err(Box::new(std::io::Error::other(e.to_string()))
                    as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

/// The resolver for `policy`, if it needs one.
pub fn resolver(policy: EndpointPolicy) -> Option<Arc<GuardedResolver>> {
    (policy == EndpointPolicy::PublicOnly).then(|| Arc::new(GuardedResolver))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<&'static str> {
        blocked_class(s.parse().unwrap())
    }

    // Pure functions only: nothing here sends traffic anywhere.
    #[test]
    fn address_classes() {
        assert_eq!(class("127.0.0.1"), Some("a loopback address"));
        assert_eq!(class("10.1.2.3"), Some("a private address"));
        assert_eq!(class("172.16.0.1"), Some("a private address"));
        assert_eq!(class("172.31.255.255"), Some("a private address"));
        assert_eq!(class("172.32.0.1"), None);
        assert_eq!(class("192.168.1.1"), Some("a private address"));
        assert_eq!(class("169.254.169.254"), Some("a cloud metadata address"));
        assert_eq!(class("169.254.1.1"), Some("a link-local address"));
        assert_eq!(class("100.64.0.1"), Some("a carrier-grade NAT address"));
        assert_eq!(class("100.128.0.1"), None);
        assert_eq!(class("0.0.0.0"), Some("an unspecified address"));
        assert_eq!(class("::1"), Some("a loopback address"));
        assert_eq!(class("fd12:3456::1"), Some("a unique-local address"));
        assert_eq!(class("fd00:ec2::254"), Some("a cloud metadata address"));
        assert_eq!(class("fe80::1"), Some("a link-local address"));
        assert_eq!(class("::ffff:10.0.0.1"), Some("a private address"));
        assert_eq!(class("8.8.8.8"), None);
        assert_eq!(class("2606:4700::1111"), None);
    }

    #[test]
    fn literal_urls_and_resolutions_are_checked() {
        let deny = EndpointPolicy::PublicOnly;
        let e = check_url("spec.baseUrl", "http://127.0.0.1:8080", deny).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("loopback") && m.contains("--allow-private-endpoints"),
            "{m}"
        );
        assert!(check_url("spec.tokenUrl", "http://[fd00::1]/t", deny).is_err());
        assert!(check_url("spec.baseUrl", "https://harvest.greenhouse.io", deny).is_ok());
        assert!(
            check_url(
                "spec.baseUrl",
                "http://127.0.0.1:8080",
                EndpointPolicy::AllowPrivate
            )
            .is_ok()
        );
        // A resolver stub's answers, as the guard sees them.
        let public: SocketAddr = "93.184.216.34:443".parse().unwrap();
        let meta: SocketAddr = "169.254.169.254:80".parse().unwrap();
        assert_eq!(
            filter_resolved("ok.example", vec![public], deny).unwrap(),
            vec![public]
        );
        let e = filter_resolved("rebind.example", vec![public, meta], deny).unwrap_err();
        assert!(e.to_string().contains("metadata"), "{e}");
        assert!(filter_resolved("x", vec![meta], EndpointPolicy::AllowPrivate).is_ok());
    }
}

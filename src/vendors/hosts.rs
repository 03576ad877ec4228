//! The vendors' own hosts: which API and token endpoints are the vendor's (any
//! other is a custom endpoint, allowed only where the administrator says), and
//! where resume downloads may go.
//!
//! Pure functions over URLs; the controller and the clients decide with them.

use crate::model::VendorKind;

/// A host pattern: an exact name, or `*.suffix` for any name below `suffix`.
type Pattern = &'static str;

/// The vendor's API and token hosts (`https` only).
pub fn endpoint_hosts(vendor: VendorKind) -> &'static [Pattern] {
    match vendor {
        VendorKind::Greenhouse => &["harvest.greenhouse.io", "auth.greenhouse.io"],
        // Lever's sandbox environment is Lever's too.
        VendorKind::Lever => &[
            "api.lever.co",
            "auth.lever.co",
            "api.sandbox.lever.co",
            "sandbox-lever.auth0.com",
        ],
        VendorKind::Workable => &["*.workable.com"],
        _ => &[],
    }
}

/// Where the vendor serves files: Greenhouse attachments and Workable CVs are
/// signed S3 URLs; Lever's resumes come through its API.
pub fn download_hosts(vendor: VendorKind) -> &'static [Pattern] {
    match vendor {
        VendorKind::Greenhouse => &["*.s3.amazonaws.com", "s3.amazonaws.com", "*.greenhouse.io"],
        VendorKind::Lever => &["api.lever.co", "api.sandbox.lever.co", "hire.lever.co"],
        VendorKind::Workable => &["*.s3.amazonaws.com", "s3.amazonaws.com", "*.workable.com"],
        _ => &[],
    }
}

/// Pure: whether `host` (lower case, no port) matches `pattern`.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        None => host == pattern,
    }
}

/// Pure: the host of an `https` URL, lower case; `None` for anything else.
fn https_host(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if u.scheme() != "https" || !u.username().is_empty() || u.password().is_some() {
        return None;
    }
    match u.host()? {
        url::Host::Domain(d) => Some(d.to_ascii_lowercase()),
        // An address literal is never a vendor's host.
        _ => None,
    }
}

/// Pure: whether `url` is one of `vendor`'s own API or token endpoints.
pub fn is_vendor_endpoint(vendor: VendorKind, url: &str) -> bool {
    https_host(url).is_some_and(|h| endpoint_hosts(vendor).iter().any(|p| host_matches(p, &h)))
}

/// Pure: the fields of a connection that point somewhere other than the vendor.
pub fn custom_endpoint_fields<'a>(
    vendor: VendorKind,
    base_url: Option<&'a str>,
    token_url: Option<&'a str>,
) -> Vec<(&'static str, &'a str)> {
    [("spec.baseUrl", base_url), ("spec.tokenUrl", token_url)]
        .into_iter()
        .filter_map(|(field, url)| url.map(|u| (field, u)))
        .filter(|(_, u)| !is_vendor_endpoint(vendor, u))
        .collect()
}

/// Where resume downloads may go for one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DownloadPolicy {
    pub vendor: Option<VendorKind>,
    /// Hosts the administrator added (`--resume-download-hosts`), as patterns.
    pub extra: Vec<String>,
    /// The origin of a custom `baseUrl` the administrator allowed: a vendor
    /// stand-in serves its files from where it serves its API.
    pub custom_origin: Option<String>,
}

impl DownloadPolicy {
    /// Pure: whether a file at `url` may be fetched.
    pub fn allows(&self, url: &str) -> bool {
        if let (Some(origin), Ok(u)) = (&self.custom_origin, url::Url::parse(url))
            && u.username().is_empty()
            && u.password().is_none()
            && &u.origin().ascii_serialization() == origin
        {
            return true;
        }
        let Some(host) = https_host(url) else {
            return false;
        };
        let vendor = self.vendor.map(download_hosts).unwrap_or_default();
        vendor.iter().any(|p| host_matches(p, &host))
            || self.extra.iter().any(|p| host_matches(p, &host))
    }
}

/// The origin (`scheme://host:port`) of a URL, if it has one.
pub fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let o = u.origin();
    o.is_tuple().then(|| o.ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_names_below_the_suffix_only() {
        assert!(host_matches("*.workable.com", "acme.workable.com"));
        assert!(host_matches("*.workable.com", "acme.workable.com."));
        assert!(!host_matches("*.workable.com", "workable.com"));
        assert!(!host_matches("*.workable.com", "evilworkable.com"));
        assert!(!host_matches("*.workable.com", "acme.workable.com.evil.io"));
        assert!(host_matches("api.lever.co", "api.lever.co"));
        assert!(!host_matches("api.lever.co", "xapi.lever.co"));
    }

    #[test]
    fn vendor_endpoints_are_https_on_the_vendors_hosts() {
        use VendorKind::*;
        assert!(is_vendor_endpoint(
            Greenhouse,
            "https://harvest.greenhouse.io/v3"
        ));
        assert!(is_vendor_endpoint(
            Greenhouse,
            "https://auth.greenhouse.io/token"
        ));
        assert!(!is_vendor_endpoint(
            Greenhouse,
            "http://harvest.greenhouse.io"
        ));
        assert!(!is_vendor_endpoint(
            Greenhouse,
            "https://harvest.greenhouse.io.evil.io"
        ));
        assert!(!is_vendor_endpoint(
            Greenhouse,
            "https://user:pw@harvest.greenhouse.io"
        ));
        assert!(!is_vendor_endpoint(Lever, "https://harvest.greenhouse.io"));
        assert!(is_vendor_endpoint(Lever, "https://api.sandbox.lever.co/v1"));
        assert!(is_vendor_endpoint(
            Workable,
            "https://acme.workable.com/spi/v3"
        ));
        assert!(!is_vendor_endpoint(Workable, "https://127.0.0.1/spi/v3"));
        assert!(!is_vendor_endpoint(Workable, "not a url"));
    }

    #[test]
    fn custom_fields_are_named() {
        let f = custom_endpoint_fields(
            VendorKind::Lever,
            Some("https://api.lever.co"),
            Some("http://127.0.0.1:9/oauth/token"),
        );
        assert_eq!(f, vec![("spec.tokenUrl", "http://127.0.0.1:9/oauth/token")]);
        assert!(custom_endpoint_fields(VendorKind::Lever, None, None).is_empty());
    }

    #[test]
    fn downloads_go_to_vendor_hosts_the_admins_list_or_an_allowed_stand_in() {
        let gh = DownloadPolicy {
            vendor: Some(VendorKind::Greenhouse),
            ..Default::default()
        };
        assert!(gh.allows("https://prod-heroku.s3.amazonaws.com/x.pdf?X-Amz-Signature=1"));
        assert!(!gh.allows("http://prod-heroku.s3.amazonaws.com/x.pdf"));
        assert!(!gh.allows("https://10.0.0.1/x.pdf"));
        assert!(!gh.allows("https://files.example.com/x.pdf"));
        let extended = DownloadPolicy {
            extra: vec!["files.example.com".into()],
            ..gh.clone()
        };
        assert!(extended.allows("https://files.example.com/x.pdf"));
        let stand_in = DownloadPolicy {
            custom_origin: origin("http://127.0.0.1:8080/v3"),
            ..gh
        };
        assert!(stand_in.allows("http://127.0.0.1:8080/_files/1.pdf"));
        assert!(!stand_in.allows("http://127.0.0.1:8081/_files/1.pdf"));
        assert!(!stand_in.allows("http://u:p@127.0.0.1:8080/_files/1.pdf"));
    }
}

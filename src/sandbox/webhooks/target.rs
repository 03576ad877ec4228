//! Where the sandbox may send webhooks: loopback only (127.0.0.0/8, ::1,
//! `localhost`). A test-harness restriction, not a vendor's: the sandboxes
//! must never become a way to reach other hosts. The real vendors also
//! require HTTPS; the sandbox accepts plain HTTP on loopback.

use std::net::IpAddr;

use url::{Host, Url};

/// Longest target URL accepted.
const MAX_URL: usize = 2048;

/// Pure: the target URL if the sandbox may post to it, else why not.
pub fn check(url: &str) -> Result<Url, String> {
    if url.len() > MAX_URL {
        return Err(format!("url must be at most {MAX_URL} characters"));
    }
    let u = Url::parse(url.trim()).map_err(|e| format!("url is not a valid URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("url must be an http(s) URL".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("url must not carry credentials".into());
    }
    let loopback = match u.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !loopback {
        return Err(
            "url must be on loopback (127.0.0.0/8, ::1 or localhost): this sandbox sends \
             webhooks to local receivers only"
                .into(),
        );
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback() {
        for ok in [
            "http://127.0.0.1:8080/webhooks/ns/conn",
            "https://127.1.2.3/x",
            "http://localhost:1/",
            "http://[::1]:9/",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/",
            "https://example.com/hook",
            "http://169.254.169.254/latest",
            "http://127.0.0.1.nip.io/",
            "ftp://127.0.0.1/",
            "http://user:pw@127.0.0.1/",
            "not a url",
            "http://[::ffff:10.0.0.1]/",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert!(check(&format!("http://127.0.0.1/{}", "a".repeat(3000))).is_err());
    }
}

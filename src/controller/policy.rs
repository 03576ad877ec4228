//! The administrator's policy for tenants' connections: which addresses they
//! may reach, where resumes may be downloaded from, and in which namespaces a
//! connection may point at something other than the vendor's own hosts.

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, ListParams};

use super::resolve::Policy;
use crate::vendors::guard::EndpointPolicy;

/// Where custom `baseUrl`/`tokenUrl` values are accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CustomEndpoints {
    /// Nowhere: every connection talks to its vendor's own hosts (the default).
    #[default]
    Nowhere,
    /// In every namespace (tests, the demo: the sandboxes are custom endpoints).
    Everywhere,
    /// In namespaces whose labels match this selector (`--custom-endpoint-namespaces`).
    Matching(String),
}

/// The operator-wide settings.
#[derive(Clone, Debug, Default)]
pub struct Admin {
    pub endpoints: EndpointPolicy,
    pub download_hosts: Vec<String>,
    pub custom: CustomEndpoints,
}

impl Admin {
    /// Pure: the policy for a namespace, given whether its labels match the
    /// selector (`None`: not asked, as no custom endpoint is in use).
    pub fn policy(&self, namespace_matches: Option<bool>) -> Policy {
        let custom_endpoints = match &self.custom {
            CustomEndpoints::Nowhere => false,
            CustomEndpoints::Everywhere => true,
            CustomEndpoints::Matching(_) => namespace_matches.unwrap_or(false),
        };
        Policy {
            endpoints: self.endpoints,
            download_hosts: self.download_hosts.clone(),
            custom_endpoints,
        }
    }

    /// The policy for `namespace`. The API server evaluates the selector, and
    /// only for a connection that uses a custom endpoint (`custom`), so the
    /// common case costs no request.
    pub async fn policy_for(
        &self,
        client: &Client,
        namespace: &str,
        custom: bool,
    ) -> Result<Policy, kube::Error> {
        let matches = match &self.custom {
            CustomEndpoints::Matching(sel) if custom => {
                let found = Api::<Namespace>::all(client.clone())
                    .list_metadata(
                        &ListParams::default()
                            .labels(sel)
                            .fields(&format!("metadata.name={namespace}")),
                    )
                    .await?;
                Some(!found.items.is_empty())
            }
            _ => None,
        };
        Ok(self.policy(matches))
    }
}

/// Pure: whether a connection points anywhere but its vendor's own hosts.
pub fn uses_custom_endpoints(conn: &crate::api::AtsConnection) -> bool {
    !crate::vendors::hosts::custom_endpoint_fields(
        conn.spec.vendor,
        conn.spec.base_url.as_deref(),
        conn.spec.token_url.as_deref(),
    )
    .is_empty()
}

/// Checks a namespace selector with the API server (which parses it), so a
/// typo fails at start-up instead of silently matching nothing.
pub async fn check_selector(client: &Client, selector: &str) -> Result<(), String> {
    Api::<Namespace>::all(client.clone())
        .list_metadata(&ListParams::default().labels(selector).limit(1))
        .await
        .map(|_| ())
        .map_err(|e| format!("--custom-endpoint-namespaces {selector:?}: {e}"))
}

/// Pure: parses `--resume-download-hosts` (comma separated names or `*.suffix`).
pub fn parse_hosts(s: &str) -> Result<Vec<String>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            let name = h.strip_prefix("*.").unwrap_or(h);
            let ok = !name.is_empty()
                && name.contains('.')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if ok {
                Ok(h.to_ascii_lowercase())
            } else {
                Err(format!(
                    "--resume-download-hosts: {h:?} is not a host name or *.domain"
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_endpoints_by_namespace() {
        let nowhere = Admin::default();
        assert!(!nowhere.policy(Some(true)).custom_endpoints);
        let everywhere = Admin {
            custom: CustomEndpoints::Everywhere,
            ..Admin::default()
        };
        assert!(everywhere.policy(None).custom_endpoints);
        let matching = Admin {
            custom: CustomEndpoints::Matching("ats.dev/custom-endpoints=true".into()),
            ..Admin::default()
        };
        assert!(matching.policy(Some(true)).custom_endpoints);
        assert!(!matching.policy(Some(false)).custom_endpoints);
        assert!(!matching.policy(None).custom_endpoints);
    }

    #[test]
    fn download_hosts_parse() {
        assert_eq!(
            parse_hosts("files.example.com, *.Cdn.Example.com,").unwrap(),
            vec!["files.example.com", "*.cdn.example.com"]
        );
        assert!(parse_hosts("http://x.com").is_err());
        assert!(parse_hosts("*.").is_err());
        assert!(parse_hosts("localhost").is_err());
        assert!(parse_hosts("").unwrap().is_empty());
    }
}

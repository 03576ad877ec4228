//! Pure decisions of the reconcilers: what a worker should run given the three
//! resources and the Secret, and what to do with the worker that runs now.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use crate::api::conditions::reason;
use crate::api::{AtsConnection, AtsSync, ScopeJobStatus, ScoringProfile};
use crate::model::JobStatus;
use crate::sync::{Schedule, SyncKey, SyncSpec};
use crate::vendors::{self, ConnectionConfig, PullScope, SecretValue, VendorError};

/// Something the user must see: becomes the Ready condition's reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub reason: &'static str,
    pub message: String,
    /// True when nothing changes until the user fixes something.
    pub stalled: bool,
}

impl Problem {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Problem {
            reason: reason::INVALID_SPEC,
            message: message.into(),
            stalled: true,
        }
    }

    /// How a failed sync or credential check reads in status. Messages never carry
    /// credential values: vendor errors are built without them. Without `quote`
    /// (a custom endpoint: anything could answer) the endpoint's own words are
    /// withheld and only ours remain.
    pub fn from_vendor(vendor: &str, e: &VendorError, quote: bool) -> Self {
        let (reason, stalled) = match e {
            VendorError::Auth(_) => (reason::AUTH_FAILED, true),
            VendorError::Forbidden(_) => (reason::FORBIDDEN, true),
            VendorError::ReauthorizationRequired(_) => (reason::REAUTHORIZATION_REQUIRED, true),
            VendorError::RateLimited { .. } => (reason::RATE_LIMITED, false),
            VendorError::Unavailable(_) => (reason::VENDOR_UNAVAILABLE, false),
            VendorError::Rejected { .. } | VendorError::Decode(_) => (reason::VENDOR_ERROR, false),
            VendorError::Config(_) => (reason::INVALID_SPEC, true),
            VendorError::EndpointNotAllowed(_) => (reason::ENDPOINT_NOT_ALLOWED, true),
        };
        let message = format!("{vendor}: {e}");
        Problem {
            reason,
            message: if quote {
                message
            } else {
                vendors::http::unquoted(&message)
            },
            stalled,
        }
    }
}

/// Pure: whether a Secret opted in to being read and written by the operator.
pub fn credentials_allowed(secret: &Secret) -> bool {
    secret
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(crate::api::CREDENTIALS_LABEL))
        .is_some_and(|v| v == crate::api::CREDENTIALS_LABEL_VALUE)
}

/// What the operator's administrator decided, for one connection's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Which addresses connections may reach (`--allow-private-endpoints`).
    pub endpoints: vendors::guard::EndpointPolicy,
    /// Resume download hosts beyond the vendor's (`--resume-download-hosts`).
    pub download_hosts: Vec<String>,
    /// Whether `baseUrl`/`tokenUrl` may point somewhere other than the
    /// vendor's own hosts (`--custom-endpoint-namespaces`).
    pub custom_endpoints: bool,
}

/// Resolves the connection and its Secret into what a vendor client needs.
pub fn resolve_connection(
    conn: &AtsConnection,
    secret: Option<&Secret>,
    policy: &Policy,
) -> Result<ConnectionConfig, Problem> {
    let spec = &conn.spec;
    for (field, url) in [
        ("spec.baseUrl", &spec.base_url),
        ("spec.tokenUrl", &spec.token_url),
    ] {
        if let Some(u) = url {
            match url::Url::parse(u) {
                Ok(p) if p.scheme() == "https" || p.scheme() == "http" => {}
                _ => {
                    return Err(Problem::invalid(format!(
                        "AtsConnection {}: {field} {u:?} is not an http(s) URL",
                        conn.name_any()
                    )));
                }
            }
        }
    }
    if !policy.custom_endpoints
        && let Some((field, u)) = vendors::hosts::custom_endpoint_fields(
            spec.vendor,
            spec.base_url.as_deref(),
            spec.token_url.as_deref(),
        )
        .first()
    {
        return Err(Problem::invalid(format!(
            "AtsConnection {}: {field} {u:?} is not one of {}'s own hosts ({}); the operator \
             accepts other endpoints only in namespaces its administrator allows \
             (--custom-endpoint-namespaces)",
            conn.name_any(),
            spec.vendor,
            vendors::hosts::endpoint_hosts(spec.vendor).join(", ")
        )));
    }
    let secret_name = &spec.auth.secret_name;
    let Some(secret) = secret else {
        return Err(Problem {
            reason: reason::SECRET_NOT_FOUND,
            message: format!(
                "Secret {secret_name:?} (spec.auth.secretName of AtsConnection {}) not found in namespace {}",
                conn.name_any(),
                conn.namespace().unwrap_or_default()
            ),
            stalled: false,
        });
    };
    if !credentials_allowed(secret) {
        return Err(Problem {
            reason: reason::SECRET_NOT_ALLOWED,
            message: format!(
                "Secret {secret_name:?} is not labelled {}={}; the operator reads and writes \
                 only Secrets that carry this label (kubectl label secret {secret_name} {}={})",
                crate::api::CREDENTIALS_LABEL,
                crate::api::CREDENTIALS_LABEL_VALUE,
                crate::api::CREDENTIALS_LABEL,
                crate::api::CREDENTIALS_LABEL_VALUE,
            ),
            stalled: true,
        });
    }
    let data = secret.data.clone().unwrap_or_default();
    let value = |key: &str| {
        data.get(key)
            .map(|b| String::from_utf8_lossy(&b.0).trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let wanted = vendors::credentials(spec.vendor, &spec.auth)
        .map_err(|e| Problem::invalid(format!("spec.vendor: {e}")))?;
    let chosen = wanted
        .alternatives
        .iter()
        .find(|keys| keys.iter().all(|(_, k)| value(k).is_some()));
    let Some(chosen) = chosen else {
        // Name what is missing from each way of authenticating, never a value.
        let missing: Vec<String> = wanted
            .alternatives
            .iter()
            .map(|keys| {
                let m: Vec<String> = keys
                    .iter()
                    .filter(|(_, k)| value(k).is_none())
                    .map(|(_, k)| format!("{k:?}"))
                    .collect();
                m.join(", ")
            })
            .collect();
        return Err(Problem {
            reason: reason::SECRET_NOT_FOUND,
            message: format!(
                "Secret {secret_name:?} has no non-empty key {}",
                missing.join(" (or, instead, ") + &")".repeat(missing.len().saturating_sub(1))
            ),
            stalled: false,
        });
    };
    let mut credentials = BTreeMap::new();
    for (logical, key) in chosen.iter().chain(wanted.optional.iter()) {
        if let Some(v) = value(key) {
            credentials.insert(logical.to_string(), SecretValue::new(v));
        }
    }
    Ok(ConnectionConfig {
        vendor: spec.vendor,
        base_url: spec.base_url.clone(),
        token_url: spec.token_url.clone(),
        subdomain: spec.subdomain.clone(),
        credentials,
        sub: spec.auth.sub.clone(),
        rate_limit: spec
            .rate_limit
            .as_ref()
            .map(|r| (r.requests, Duration::from_secs(u64::from(r.window_seconds)))),
        // The operator's own policy, never the tenant's.
        endpoints: policy.endpoints,
        download_hosts: policy.download_hosts.clone(),
    })
}

/// What the `AtsSync` asks for, given what exists.
pub fn resolve_sync(
    sync: &AtsSync,
    connection: Option<&AtsConnection>,
    profile: Option<&ScoringProfile>,
    secret: Option<&Secret>,
    policy: &Policy,
) -> Result<SyncSpec, Problem> {
    let ns = sync.namespace().unwrap_or_default();
    let schedule =
        Schedule::parse(&sync.spec.schedule).map_err(|e| Problem::invalid(e.to_string()))?;
    // Not stalled: the referenced object may yet be created.
    let not_found = |field: &str, kind: &str, name: &str| Problem {
        stalled: false,
        ..Problem::invalid(format!(
            "{field}: {kind} {name:?} not found in namespace {ns}"
        ))
    };
    let Some(connection) = connection else {
        return Err(not_found(
            "spec.connectionRef.name",
            "AtsConnection",
            &sync.spec.connection_ref.name,
        ));
    };
    let Some(profile) = profile else {
        return Err(not_found(
            "spec.scoringProfileRef.name",
            "ScoringProfile",
            &sync.spec.scoring_profile_ref.name,
        ));
    };
    crate::scoring::validate_profile(&profile.spec)
        .map_err(|e| Problem::invalid(format!("ScoringProfile {}: {e}", profile.name_any())))?;
    let cfg = resolve_connection(connection, secret, policy)?;
    let scope = PullScope {
        job_statuses: sync
            .spec
            .scope
            .job_statuses
            .iter()
            .map(|s| match s {
                ScopeJobStatus::Draft => JobStatus::Draft,
                ScopeJobStatus::Open => JobStatus::Open,
                ScopeJobStatus::Closed => JobStatus::Closed,
            })
            .collect(),
        job_ids: sync.spec.scope.job_ids.clone(),
    };
    check_write_back(&cfg, &sync.spec.write_back)?;
    let interval = match sync.spec.full_sync_interval.trim() {
        "" => "24h",
        s => s,
    };
    // `0s` makes every sync a full one (small tenants that want deletions at once).
    let full_sync_every = crate::sync::schedule::parse_interval(interval)
        .filter(|d| *d <= crate::sync::schedule::MAX_INTERVAL)
        .ok_or_else(|| {
            Problem::invalid(format!(
                "spec.fullSyncInterval: {:?} is not an interval such as 24h, at most 366d \
                 (or 0s: always)",
                sync.spec.full_sync_interval
            ))
        })?;
    let generation = profile.metadata.generation.unwrap_or(0);
    Ok(SyncSpec {
        key: SyncKey {
            namespace: ns,
            name: sync.name_any(),
        },
        connection: cfg,
        schedule,
        scope,
        write_back: sync.spec.write_back.clone(),
        profile: profile.spec.clone(),
        profile_identity: format!("{}/{generation}", profile.uid().unwrap_or_default()),
        profile_name: profile.name_any(),
        profile_generation: generation,
        deletion_guard_percent: sync.spec.deletion_guard_percent,
        full_sync_every,
        // The audit state is the caller's to add (see `controller::sync`).
        labels_allowed: profile.spec.labels == crate::api::LabelPolicy::Always,
    })
}

/// Rejects write-back settings the vendor cannot carry out.
fn check_write_back(cfg: &ConnectionConfig, wb: &crate::api::WriteBackSpec) -> Result<(), Problem> {
    let caps = vendors::write_capabilities(cfg.vendor)
        .map_err(|e| Problem::invalid(format!("spec.vendor: {e}")))?;
    if wb.mode == crate::api::WriteBackMode::CustomField && !caps.custom_field {
        return Err(Problem::invalid(format!(
            "spec.writeBack.mode: {} has no custom fields; use note (and bandTag: true)",
            cfg.vendor
        )));
    }
    if wb.band_tag && !caps.band_tag {
        return Err(Problem::invalid(format!(
            "spec.writeBack.bandTag: band tags are not written to {} yet",
            cfg.vendor
        )));
    }
    Ok(())
}

/// A hash of everything a worker runs with but its credentials: a change
/// restarts the worker. Credentials are swapped into the running worker
/// instead (see [`credentials_hash`]).
pub fn spec_hash(spec: &SyncSpec) -> String {
    let mut stable = spec.clone();
    stable.connection.credentials.clear();
    hex::encode(Sha256::digest(format!("{stable:?}")))
}

/// A hash of the credentials (hashed, never stored), without those the client
/// rotates itself (Lever's refresh token): saving one must not look like a
/// replaced Secret to the worker that saved it.
pub fn credentials_hash(spec: &SyncSpec) -> String {
    let rotated = spec.connection.vendor_rotated();
    let mut h = Sha256::new();
    for (k, v) in &spec.connection.credentials {
        if rotated.contains(&k.as_str()) {
            continue;
        }
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.expose().as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// What to do with the worker of one sync.
#[derive(Debug, PartialEq, Eq)]
pub enum WorkerAction {
    Start,
    Restart,
    Stop,
    Keep,
    None,
}

/// Pure: `running` is the hash of the worker running now, `desired` the hash it
/// should run with (None when it should not run: suspended, invalid, deleted).
pub fn supervise(running: Option<&str>, desired: Option<&str>) -> WorkerAction {
    match (running, desired) {
        (None, None) => WorkerAction::None,
        (None, Some(_)) => WorkerAction::Start,
        (Some(_), None) => WorkerAction::Stop,
        (Some(a), Some(b)) if a == b => WorkerAction::Keep,
        (Some(_), Some(_)) => WorkerAction::Restart,
    }
}

/// Pure: whether the `ats.dev/sync-requested-at` annotation asks for a sync now.
pub fn sync_requested(annotation: Option<&str>, last_handled: Option<&str>) -> bool {
    match annotation {
        Some(a) if !a.is_empty() => Some(a) != last_handled,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::*;
    use crate::model::VendorKind;
    use k8s_openapi::ByteString;

    /// A namespace where custom endpoints are allowed (the sandboxes').
    fn open() -> Policy {
        Policy {
            custom_endpoints: true,
            ..Policy::default()
        }
    }

    #[test]
    fn custom_endpoints_only_where_the_administrator_allows() {
        let s = secret(&[("clientId", "id"), ("clientSecret", "cs")]);
        let p = resolve_connection(&conn(), Some(&s), &Policy::default()).unwrap_err();
        assert_eq!(p.reason, reason::INVALID_SPEC);
        assert!(p.message.contains("spec.baseUrl"), "{}", p.message);
        assert!(
            p.message.contains("--custom-endpoint-namespaces"),
            "{}",
            p.message
        );
        let mut vendor = conn();
        vendor.spec.base_url = Some("https://harvest.greenhouse.io".into());
        let cfg = resolve_connection(&vendor, Some(&s), &Policy::default()).unwrap();
        assert!(cfg.quotes_vendor_text());
        vendor.spec.token_url = Some("https://auth.example.com/token".into());
        let p = resolve_connection(&vendor, Some(&s), &Policy::default()).unwrap_err();
        assert!(p.message.contains("spec.tokenUrl"), "{}", p.message);
        let cfg = resolve_connection(&vendor, Some(&s), &open()).unwrap();
        assert!(!cfg.quotes_vendor_text());
    }

    #[test]
    fn the_operators_policy_is_applied_not_the_tenants() {
        let s = secret(&[("clientId", "id"), ("clientSecret", "cs")]);
        let policy = Policy {
            endpoints: vendors::guard::EndpointPolicy::AllowPrivate,
            download_hosts: vec!["files.example.com".into()],
            custom_endpoints: true,
        };
        let cfg = resolve_connection(&conn(), Some(&s), &policy).unwrap();
        assert_eq!(cfg.endpoints, vendors::guard::EndpointPolicy::AllowPrivate);
        assert_eq!(cfg.download_hosts, vec!["files.example.com".to_string()]);
    }

    fn conn() -> AtsConnection {
        let mut c = AtsConnection::new(
            "gh",
            AtsConnectionSpec {
                vendor: VendorKind::Greenhouse,
                base_url: Some("http://127.0.0.1:9000".into()),
                auth: AuthSpec {
                    secret_name: "gh-creds".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        c.metadata.namespace = Some("tenant-a".into());
        c
    }

    fn secret(pairs: &[(&str, &str)]) -> Secret {
        let mut s = Secret {
            data: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Default::default()
        };
        s.metadata.labels = Some(
            [("ats.dev/credentials".to_string(), "true".to_string())]
                .into_iter()
                .collect(),
        );
        s
    }

    #[test]
    fn a_secret_without_the_label_is_not_read() {
        let mut s = secret(&[("clientId", "a"), ("clientSecret", "b")]);
        s.metadata.labels = None;
        let p = resolve_connection(&conn(), Some(&s), &open()).unwrap_err();
        assert_eq!(p.reason, reason::SECRET_NOT_ALLOWED);
        assert!(
            p.message.contains("ats.dev/credentials=true"),
            "{}",
            p.message
        );
        assert!(p.stalled);
        s.metadata.labels = Some([("ats.dev/credentials".to_string(), "yes".to_string())].into());
        assert!(resolve_connection(&conn(), Some(&s), &open()).is_err());
    }

    fn sync(schedule: &str) -> AtsSync {
        let mut s = AtsSync::new(
            "nightly",
            AtsSyncSpec {
                connection_ref: LocalRef { name: "gh".into() },
                scoring_profile_ref: LocalRef {
                    name: "default".into(),
                },
                schedule: schedule.into(),
                ..Default::default()
            },
        );
        s.metadata.namespace = Some("tenant-a".into());
        s
    }

    fn profile() -> ScoringProfile {
        let mut p = ScoringProfile::new("default", ScoringProfileSpec::default());
        p.metadata.generation = Some(3);
        p.metadata.uid = Some("u1".into());
        p
    }

    /// Resolves `sync` against everything present: the default profile, an open policy.
    fn resolve_with(
        sync: &AtsSync,
        conn: &AtsConnection,
        secret: &Secret,
    ) -> Result<SyncSpec, Problem> {
        resolve_sync(sync, Some(conn), Some(&profile()), Some(secret), &open())
    }

    #[test]
    fn missing_secret_names_it() {
        let p = resolve_connection(&conn(), None, &open()).unwrap_err();
        assert_eq!(p.reason, reason::SECRET_NOT_FOUND);
        assert!(p.message.contains("gh-creds"), "{}", p.message);
        assert!(!p.stalled);
    }

    #[test]
    fn missing_key_names_key_not_value() {
        let p = resolve_connection(&conn(), Some(&secret(&[("clientId", "id-123")])), &open())
            .unwrap_err();
        assert_eq!(p.reason, reason::SECRET_NOT_FOUND);
        assert!(p.message.contains("clientSecret"));
        assert!(!p.message.contains("id-123"));
    }

    #[test]
    fn bad_schedule_is_invalid_spec_naming_field() {
        let s = secret(&[("clientId", "a"), ("clientSecret", "b")]);
        let p = resolve_with(&sync("every day"), &conn(), &s).unwrap_err();
        assert_eq!(p.reason, reason::INVALID_SPEC);
        assert!(p.message.contains("spec.schedule"));
        assert!(p.stalled);
    }

    #[test]
    fn unknown_reference_is_invalid_spec_naming_field() {
        let p = resolve_sync(&sync("15m"), None, Some(&profile()), None, &open()).unwrap_err();
        assert_eq!(p.reason, reason::INVALID_SPEC);
        assert!(p.message.contains("spec.connectionRef.name"));
    }

    #[test]
    fn replaced_secret_is_swapped_in_not_a_restart() {
        let s1 = secret(&[("clientId", "a"), ("clientSecret", "b")]);
        let s2 = secret(&[("clientId", "a"), ("clientSecret", "c")]);
        let a = resolve_with(&sync("15m"), &conn(), &s1).unwrap();
        let b = resolve_with(&sync("15m"), &conn(), &s2).unwrap();
        assert_eq!(a.profile_generation, 3);
        assert_eq!(
            spec_hash(&a),
            spec_hash(&b),
            "no restart for new credentials"
        );
        assert_ne!(credentials_hash(&a), credentials_hash(&b));
        assert_eq!(credentials_hash(&a), credentials_hash(&a.clone()));
        assert!(!format!("{a:?}").contains("\"b\""));
    }

    #[test]
    fn supervision() {
        assert_eq!(supervise(None, Some("h")), WorkerAction::Start);
        assert_eq!(supervise(Some("h"), Some("h")), WorkerAction::Keep);
        assert_eq!(supervise(Some("h"), Some("g")), WorkerAction::Restart);
        assert_eq!(supervise(Some("h"), None), WorkerAction::Stop);
        assert!(sync_requested(Some("t1"), None));
        assert!(!sync_requested(Some("t1"), Some("t1")));
        assert!(!sync_requested(None, Some("t1")));
    }

    fn lever_conn() -> AtsConnection {
        let mut c = conn();
        c.spec.vendor = VendorKind::Lever;
        c
    }

    #[test]
    fn lever_takes_an_api_key_or_oauth_and_names_both_when_neither() {
        let key =
            resolve_connection(&lever_conn(), Some(&secret(&[("apiKey", "k")])), &open()).unwrap();
        assert_eq!(key.credentials.keys().collect::<Vec<_>>(), vec!["apiKey"]);
        let oauth = resolve_connection(
            &lever_conn(),
            Some(&secret(&[
                ("clientId", "a"),
                ("clientSecret", "b"),
                ("refreshToken", "r1"),
                ("accessToken", "t1"),
            ])),
            &open(),
        )
        .unwrap();
        assert!(oauth.credentials.contains_key("refreshToken"));
        assert!(oauth.credentials.contains_key("accessToken"));
        let p = resolve_connection(&lever_conn(), Some(&secret(&[("clientId", "a")])), &open())
            .unwrap_err();
        assert_eq!(p.reason, reason::SECRET_NOT_FOUND);
        assert!(
            p.message.contains("apiKey") && p.message.contains("refreshToken"),
            "{}",
            p.message
        );
    }

    #[test]
    fn rotated_tokens_do_not_restart_the_worker() {
        let base = [("clientId", "a"), ("clientSecret", "b")];
        let with = |r: &str, t: &str| {
            let mut pairs = base.to_vec();
            pairs.push(("refreshToken", r));
            pairs.push(("accessToken", t));
            secret(&pairs)
        };
        let run = |s: &Secret| resolve_with(&sync("15m"), &lever_conn(), s).unwrap();
        assert_eq!(
            credentials_hash(&run(&with("r1", "t1"))),
            credentials_hash(&run(&with("r2", "t2")))
        );
        let mut other = base.to_vec();
        other[1] = ("clientSecret", "c");
        other.push(("refreshToken", "r1"));
        assert_ne!(
            credentials_hash(&run(&with("r1", "t1"))),
            credentials_hash(&run(&secret(&other)))
        );
    }

    #[test]
    fn write_back_the_vendor_cannot_do_is_invalid_spec() {
        let s = secret(&[("apiKey", "k")]);
        let mut y = sync("15m");
        y.spec.write_back.mode = WriteBackMode::CustomField;
        let p = resolve_with(&y, &lever_conn(), &s).unwrap_err();
        assert!(p.message.contains("spec.writeBack.mode"), "{}", p.message);
        let mut y = sync("15m");
        y.spec.write_back.band_tag = true;
        let gh = secret(&[("clientId", "a"), ("clientSecret", "b")]);
        let p = resolve_with(&y, &conn(), &gh).unwrap_err();
        assert!(
            p.message.contains("spec.writeBack.bandTag"),
            "{}",
            p.message
        );
        let mut y = sync("15m");
        y.spec.full_sync_interval = "often".into();
        let p = resolve_with(&y, &conn(), &gh).unwrap_err();
        assert!(p.message.contains("spec.fullSyncInterval"), "{}", p.message);
    }
}

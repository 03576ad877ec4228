//! Sharding (`--shard NAME`): a replica owns the `ats.dev` resources labelled
//! `ats.dev/shard=NAME`, by a label selector on its watches as Flux shards
//! with `--watch-label-selector`; the `default` shard owns the unlabelled
//! ones. Each shard elects its leader on a Lease of its own, so shards never
//! wait on one another.
//!
//! The label goes on a tenant's `AtsSync`s *and* on the `AtsConnection` and
//! `ScoringProfile` they use: the shard that owns a connection verifies it,
//! writes its status and holds its account's client (rate budget, tokens),
//! and its edits reach only that shard's syncs. A sync whose connection or
//! profile is in another shard is therefore not run: it says `ShardMismatch`
//! until they are labelled alike.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::resolve::Problem;
use crate::api::conditions::reason;
use crate::api::{AtsConnection, AtsSync, ScoringProfile};

/// The label that assigns a resource to a shard.
pub const SHARD_LABEL: &str = "ats.dev/shard";
/// The shard of the unlabelled resources.
pub const DEFAULT_SHARD: &str = "default";

/// Pure: a shard name is a label value and names the shard's Lease (and, in
/// the chart, its Deployment), so it must be a DNS label: at most 63
/// lowercase letters, digits and `-`, starting and ending with a letter or
/// digit.
pub fn validate(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.is_empty()
        || name.len() > 63
        || !name.chars().all(ok_char)
        || !alnum(name.chars().next())
        || !alnum(name.chars().last())
    {
        return Err(format!(
            "--shard {name:?}: a shard name is the value of the label {SHARD_LABEL} and names the \
             shard's Lease: use at most 63 lowercase letters, digits and '-', starting and ending \
             with a letter or digit (e.g. shard-a); `{DEFAULT_SHARD}` owns the unlabelled resources"
        ));
    }
    Ok(())
}

/// Pure: the label selector of a shard's resources.
pub fn selector(shard: &str) -> String {
    if shard == DEFAULT_SHARD {
        format!("!{SHARD_LABEL}")
    } else {
        format!("{SHARD_LABEL}={shard}")
    }
}

/// Pure: the selector the operator's own resources are watched with: the
/// shard's and `--watch-label-selector`, both (a comma is AND); `None`: all.
pub fn effective_selector(watch: Option<&str>, shard: Option<&str>) -> Option<String> {
    let watch = watch.map(str::trim).filter(|s| !s.is_empty());
    match (watch, shard.map(selector)) {
        (Some(w), Some(s)) => Some(format!("{w},{s}")),
        (Some(w), None) => Some(w.to_string()),
        (None, s) => s,
    }
}

/// Pure: the Lease a shard's replicas elect their leader on; unsharded, the
/// one named by `--lease-name`.
pub fn lease_name(base: &str, shard: Option<&str>) -> String {
    match shard {
        Some(s) => format!("{base}-{s}"),
        None => base.to_string(),
    }
}

/// Pure: the shard a resource with these labels belongs to.
pub fn shard_of(labels: &BTreeMap<String, String>) -> &str {
    labels
        .get(SHARD_LABEL)
        .map(String::as_str)
        .unwrap_or(DEFAULT_SHARD)
}

/// Pure: why a sharded replica must not run `sync` (its connection or profile
/// belongs to another shard); `None` when unsharded or labelled alike.
pub fn mismatch(
    shard: Option<&str>,
    sync: &AtsSync,
    connection: Option<&AtsConnection>,
    profile: Option<&ScoringProfile>,
) -> Option<Problem> {
    shard?;
    let own = shard_of(sync.labels());
    let other = |kind: &str, name: String, labels: &BTreeMap<String, String>| {
        let theirs = shard_of(labels);
        (theirs != own).then(|| Problem {
            reason: reason::SHARD_MISMATCH,
            message: format!(
                "{kind} {name:?} belongs to shard {theirs:?} and this AtsSync to shard {own:?} \
                 (label {SHARD_LABEL}; none means {DEFAULT_SHARD:?}): label the sync, its \
                 connection and its profile alike"
            ),
            stalled: true,
        })
    };
    connection
        .and_then(|c| other("AtsConnection", c.name_any(), c.labels()))
        .or_else(|| profile.and_then(|p| other("ScoringProfile", p.name_any(), p.labels())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_are_dns_labels() {
        for ok in ["a", "default", "shard-1", "0", &"x".repeat(63)] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "A",
            "a_b",
            "a.b",
            "-a",
            "a-",
            "a b",
            "a=b",
            &"x".repeat(64),
        ] {
            let e = validate(bad).unwrap_err();
            assert!(e.contains("--shard") && e.contains(SHARD_LABEL), "{e}");
        }
    }

    #[test]
    fn selectors_combine_the_shard_and_the_watch_selector() {
        assert_eq!(effective_selector(None, None), None);
        assert_eq!(effective_selector(Some("  "), None), None);
        assert_eq!(
            effective_selector(None, Some("a")).as_deref(),
            Some("ats.dev/shard=a")
        );
        assert_eq!(
            effective_selector(None, Some("default")).as_deref(),
            Some("!ats.dev/shard")
        );
        assert_eq!(
            effective_selector(Some("team=x"), None).as_deref(),
            Some("team=x")
        );
        assert_eq!(
            effective_selector(Some("team=x"), Some("b")).as_deref(),
            Some("team=x,ats.dev/shard=b")
        );
    }

    #[test]
    fn each_shard_has_its_own_lease() {
        assert_eq!(
            lease_name("ats-operator-leader", None),
            "ats-operator-leader"
        );
        assert_eq!(
            lease_name("ats-operator-leader", Some("a")),
            "ats-operator-leader-a"
        );
        assert_ne!(lease_name("l", Some("default")), lease_name("l", Some("a")));
    }

    fn labelled<K: kube::Resource>(mut k: K, name: &str, shard: Option<&str>) -> K {
        k.meta_mut().name = Some(name.into());
        k.meta_mut().labels = shard.map(|s| [(SHARD_LABEL.to_string(), s.to_string())].into());
        k
    }

    #[test]
    fn a_sync_runs_only_beside_its_own_shards_connection_and_profile() {
        let sync = |s| labelled(AtsSync::new("s", Default::default()), "s", s);
        let conn = |s| labelled(AtsConnection::new("c", Default::default()), "c", s);
        let profile = |s| labelled(ScoringProfile::new("p", Default::default()), "p", s);
        // Unsharded: labels do not matter.
        assert_eq!(
            mismatch(None, &sync(Some("a")), Some(&conn(None)), None),
            None
        );
        // Alike, or both unlabelled (the default shard).
        let a = Some("a");
        assert_eq!(
            mismatch(a, &sync(a), Some(&conn(a)), Some(&profile(a))),
            None
        );
        assert_eq!(
            mismatch(
                Some("default"),
                &sync(None),
                Some(&conn(Some("default"))),
                Some(&profile(None))
            ),
            None
        );
        // Missing references are another problem (ReferenceNotFound).
        assert_eq!(mismatch(a, &sync(a), None, None), None);
        let p = mismatch(a, &sync(a), Some(&conn(None)), Some(&profile(a))).unwrap();
        assert_eq!(p.reason, "ShardMismatch");
        assert!(p.stalled);
        assert!(
            p.message.contains("AtsConnection \"c\"") && p.message.contains("\"default\""),
            "{}",
            p.message
        );
        let p = mismatch(a, &sync(a), Some(&conn(a)), Some(&profile(Some("b")))).unwrap();
        assert!(p.message.contains("ScoringProfile \"p\""), "{}", p.message);
    }
}

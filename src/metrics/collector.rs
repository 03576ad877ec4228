//! Each `AtsSync`'s conditions as gauges, computed at every scrape from the
//! controller's cache (as cert-manager's collectors list its informer cache):
//! a deleted sync leaves no series behind, and nothing has to be kept in step
//! with status writes.
//!
//! `ats_sync_status_condition{namespace,name,condition,status}`: for every
//! condition of every sync, one series per status (`True`, `False`,
//! `Unknown`), 1 for the one it has and 0 for the others, so both
//! `== 1` alerts and `status="False"` queries work.
//!
//! Only a replica whose controllers run (the leader) has the cache; a standby
//! exports none, so the series are not doubled across replicas.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::api::AtsSync;
use crate::http::health::Health;

const STATUSES: [&str; 3] = ["True", "False", "Unknown"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct ConditionLabels {
    pub namespace: String,
    pub name: String,
    pub condition: String,
    pub status: &'static str,
}

/// Pure: the condition series of `syncs`, sorted.
pub fn condition_series(syncs: &[Arc<AtsSync>]) -> Vec<(ConditionLabels, i64)> {
    let mut out = Vec::new();
    for s in syncs {
        let (Some(namespace), Some(name)) = (&s.metadata.namespace, &s.metadata.name) else {
            continue;
        };
        let Some(status) = &s.status else { continue };
        for c in &status.conditions {
            for st in STATUSES {
                let labels = ConditionLabels {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    condition: c.type_.clone(),
                    status: st,
                };
                out.push((labels, i64::from(c.status == st)));
            }
        }
    }
    out.sort();
    out
}

/// The collector over the current term's cache of syncs.
#[derive(Debug)]
pub struct SyncConditions {
    health: Arc<Health>,
}

impl SyncConditions {
    pub fn new(health: Arc<Health>) -> Self {
        SyncConditions { health }
    }
}

impl Collector for SyncConditions {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let series = condition_series(&self.health.syncs());
        if series.is_empty() {
            return Ok(());
        }
        let mut family = encoder.encode_descriptor(
            "sync_status_condition",
            "The status of each AtsSync condition (Ready, Synced, Stalled): 1 for its current status",
            None,
            MetricType::Gauge,
        )?;
        for (labels, value) in &series {
            ConstGauge::new(*value).encode(family.encode_family(labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::reflector;
    use kube::runtime::watcher::Event;

    fn sync(ns: &str, name: &str, conditions: &[(&str, &str)]) -> AtsSync {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "ats.dev/v1alpha1", "kind": "AtsSync",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "connectionRef": {"name": "c"}, "scoringProfileRef": {"name": "p"},
                "schedule": "1h",
            },
            "status": {"conditions": conditions.iter().map(|(t, s)| serde_json::json!({
                "type": t, "status": s, "reason": "R", "message": "m",
                "lastTransitionTime": "2026-12-01T00:00:00Z",
            })).collect::<Vec<_>>()},
        }))
        .unwrap()
    }

    fn scrape(health: &Arc<Health>) -> String {
        let mut r = prometheus_client::registry::Registry::with_prefix(super::super::PREFIX);
        r.register_collector(Box::new(SyncConditions::new(health.clone())));
        super::super::encode(&r).unwrap()
    }

    #[test]
    fn one_series_per_status_with_the_current_one_set() {
        let s = Arc::new(sync("t", "a", &[("Ready", "True"), ("Stalled", "False")]));
        let series = condition_series(&[s]);
        let ones: Vec<_> = series
            .iter()
            .filter(|(_, v)| *v == 1)
            .map(|(l, _)| (l.condition.as_str(), l.status))
            .collect();
        assert_eq!(ones, vec![("Ready", "True"), ("Stalled", "False")]);
        assert_eq!(series.len(), 6);
        // No status yet: no series.
        let mut bare = sync("t", "b", &[]);
        bare.status = None;
        assert!(condition_series(&[Arc::new(bare)]).is_empty());
    }

    #[tokio::test]
    async fn the_scrape_follows_the_cache_and_a_deleted_sync_leaves_nothing() {
        let health = Health::new();
        assert_eq!(scrape(&health), "", "no term, no cache: nothing");
        let (store, mut writer) = reflector::store::<AtsSync>();
        let term = health.begin_term();
        term.syncs(&store);
        let a = sync("tenant-a", "gh", &[("Ready", "True")]);
        let b = sync("tenant-b", "lever", &[("Ready", "False")]);
        writer.apply_watcher_event(&Event::Apply(a.clone()));
        writer.apply_watcher_event(&Event::Apply(b));
        let text = scrape(&health);
        assert!(
            text.contains("# TYPE ats_sync_status_condition gauge"),
            "{text}"
        );
        assert!(
            text.contains(
                r#"ats_sync_status_condition{namespace="tenant-a",name="gh",condition="Ready",status="True"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"ats_sync_status_condition{namespace="tenant-b",name="lever",condition="Ready",status="True"} 0"#
            ),
            "{text}"
        );
        writer.apply_watcher_event(&Event::Delete(a));
        let text = scrape(&health);
        assert!(!text.contains("tenant-a"), "{text}");
        assert!(text.contains("tenant-b"), "{text}");
        // The term ends (leadership lost): the standby exports none.
        drop(term);
        assert_eq!(scrape(&health), "");
    }
}

//! What `/healthz` and `/readyz` answer, shared by the controller (which
//! moves it) and the HTTP server (which reads it).
//!
//! **Readiness.** A replica is ready when it can play its part now:
//! - *leading* (or running alone, without leader election): once the caches
//!   of the three controllers (connections, profiles, syncs) have listed
//!   everything ("caches synced");
//! - *standing by*: once it has read the leader Lease and listed each kind it
//!   will watch, in its scope and shard (see
//!   [`crate::controller::standby`]). A standby runs no controllers, so it
//!   holds no caches: watching everything only to say "ready" would cost a
//!   leader's memory and API watches on every standby, and its condition
//!   gauges would duplicate the leader's. What a standby must prove is that it
//!   could take over: it reaches the API server, its RBAC lets it read the
//!   Lease and list what it will watch. So a rolling update of two replicas
//!   proceeds as soon as the new Pod stands by; it never waits for a
//!   leadership the old Pod still holds. On taking over, a replica is briefly
//!   not ready (a second or two) while its caches list, which is the truth.
//!
//! **Liveness.** `/healthz` answers while the process serves HTTP: its
//! runtime is not wedged. Nothing else is checked there (a lost API server
//! is not fixed by a restart, and must not restart every replica at once).

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;

use crate::api::AtsSync;

/// The replica's readiness, and the cache of syncs the condition gauges read.
#[derive(Default)]
pub struct Health {
    state: Mutex<State>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("ready", &self.ready())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// The standby's check passed (see the module's doc).
    can_stand_by: bool,
    /// The controllers' term, while they run.
    term: Option<TermState>,
    /// Numbers terms, so a late report of an ended one is ignored.
    terms: u64,
}

struct TermState {
    id: u64,
    caches: usize,
    synced: usize,
    syncs: Option<Store<AtsSync>>,
}

/// Pure: whether a replica in this state is ready, and in words why (or why not).
fn readiness(s: &State) -> Result<String, String> {
    match &s.term {
        Some(t) if t.caches > 0 && t.synced >= t.caches => {
            Ok(format!("leading; {} caches synced", t.caches))
        }
        Some(t) => Err(format!(
            "leading; caches syncing ({} of {} synced)",
            t.synced, t.caches
        )),
        None if s.can_stand_by => {
            Ok("standing by; the leader Lease and the watched kinds are readable".into())
        }
        None => Err("starting: the API server has not been reached yet".into()),
    }
}

impl Health {
    pub fn new() -> Arc<Self> {
        Arc::new(Health::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Ok` with what the replica is doing when it is ready; `Err` with why not.
    pub fn ready(&self) -> Result<String, String> {
        readiness(&self.lock())
    }

    /// The standby's check passed: ready whenever no term runs.
    pub fn can_stand_by(&self) {
        self.lock().can_stand_by = true;
    }

    /// The controllers start: not ready until every cache registered with the
    /// returned [`Term`] has synced; the term ends when it is dropped.
    pub fn begin_term(self: &Arc<Self>) -> Term {
        let mut s = self.lock();
        s.terms += 1;
        let id = s.terms;
        s.term = Some(TermState {
            id,
            caches: 0,
            synced: 0,
            syncs: None,
        });
        Term {
            health: self.clone(),
            id,
        }
    }

    /// The syncs of the current term's cache (none while standing by).
    pub fn syncs(&self) -> Vec<Arc<AtsSync>> {
        let store = self.lock().term.as_ref().and_then(|t| t.syncs.clone());
        store.map(|s| s.state()).unwrap_or_default()
    }

    fn with_term(&self, id: u64, f: impl FnOnce(&mut TermState)) {
        if let Some(t) = self.lock().term.as_mut().filter(|t| t.id == id) {
            f(t);
        }
    }
}

/// One run of the controllers (a leadership term, or the whole life of a
/// replica without leader election).
pub struct Term {
    health: Arc<Health>,
    id: u64,
}

impl Term {
    /// A controller of `K`, as `Controller::new(api, wc)` builds it, whose
    /// first complete list marks its cache synced. Its reflector's events
    /// are watched directly: `Store::wait_until_ready` cannot be shared with
    /// the controller's own runner (one waiter is woken, the other may hang).
    pub fn controller<K>(&self, api: Api<K>, wc: watcher::Config) -> Controller<K>
    where
        K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone + std::fmt::Debug + Unpin,
    {
        let (reader, writer) = reflector::store();
        let events = watcher(api, wc).inspect(self.on_list());
        Controller::for_stream(events.reflect(writer).applied_objects(), reader)
    }

    /// Counts a cache, and marks it synced at its first complete list.
    pub fn on_list<K>(&self) -> impl FnMut(&watcher::Result<watcher::Event<K>>) + Send + 'static {
        self.health.with_term(self.id, |t| t.caches += 1);
        let (health, id) = (self.health.clone(), self.id);
        let mut listed = false;
        move |event| {
            if !listed && matches!(event, Ok(watcher::Event::InitDone)) {
                listed = true;
                health.with_term(id, |t| t.synced += 1);
            }
        }
    }

    /// The cache the condition gauges read.
    pub fn syncs(&self, store: &Store<AtsSync>) {
        self.health
            .with_term(self.id, |t| t.syncs = Some(store.clone()));
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let mut s = self.health.lock();
        if s.term.as_ref().is_some_and(|t| t.id == self.id) {
            s.term = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::watcher::Event;

    #[test]
    fn readiness_by_role() {
        let mut s = State::default();
        assert!(readiness(&s).is_err(), "starting");
        s.can_stand_by = true;
        assert!(readiness(&s).unwrap().starts_with("standing by"));
        s.term = Some(TermState {
            id: 1,
            caches: 3,
            synced: 2,
            syncs: None,
        });
        assert_eq!(
            readiness(&s).unwrap_err(),
            "leading; caches syncing (2 of 3 synced)"
        );
        s.term.as_mut().unwrap().synced = 3;
        assert!(readiness(&s).is_ok());
        // A term that registered no cache yet is not ready.
        s.term.as_mut().unwrap().caches = 0;
        assert!(readiness(&s).is_err());
    }

    #[test]
    fn a_term_is_ready_when_its_caches_list_and_ends_when_dropped() {
        let health = Health::new();
        health.can_stand_by();
        let term = health.begin_term();
        let mut syncs = term.on_list::<AtsSync>();
        let mut profiles = term.on_list::<crate::api::ScoringProfile>();
        assert!(health.ready().is_err(), "caches not listed yet");
        syncs(&Ok(Event::Init));
        syncs(&Ok(Event::InitDone));
        // A re-list after a broken watch is not counted twice.
        syncs(&Ok(Event::InitDone));
        assert_eq!(
            health.ready().unwrap_err(),
            "leading; caches syncing (1 of 2 synced)"
        );
        profiles(&Ok(Event::InitDone));
        assert!(health.ready().unwrap().starts_with("leading"));
        let (store, _writer) = reflector::store::<AtsSync>();
        term.syncs(&store);
        drop(term);
        assert!(health.ready().unwrap().starts_with("standing by"));
        assert!(health.syncs().is_empty());
        // A late event of an ended term changes nothing; a new term starts unready.
        let _t2 = health.begin_term();
        profiles(&Ok(Event::InitDone));
        assert!(health.ready().is_err());
    }
}

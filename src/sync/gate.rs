//! The global limit on syncs running at once, with priority: a new or changed
//! `AtsSync`, or one whose sync was requested, goes before periodic refreshes
//! (External Secrets Operator's most requested fix: new objects waiting minutes
//! behind refreshes).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Periodic,
    /// New, changed, requested, or retrying after a failure.
    Urgent,
}

struct Waiter {
    priority: Priority,
    seq: u64,
    admit: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    /// Higher priority first, then first come first served.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

struct State {
    running: usize,
    seq: u64,
    waiting: BinaryHeap<Waiter>,
}

pub struct Gate {
    max: usize,
    state: Mutex<State>,
}

/// A place among the running syncs; given back on drop.
pub struct Permit(Arc<Gate>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl Gate {
    pub fn new(max: usize) -> Arc<Gate> {
        Arc::new(Gate {
            max: max.max(1),
            state: Mutex::new(State {
                running: 0,
                seq: 0,
                waiting: BinaryHeap::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Syncs running now, and waiting.
    pub fn load(&self) -> (usize, usize) {
        let s = self.lock();
        (s.running, s.waiting.len())
    }

    /// Waits for a place. Dropping the future gives up the place in the queue.
    pub async fn admit(self: &Arc<Self>, priority: Priority) -> Permit {
        let rx = {
            let mut s = self.lock();
            if s.running < self.max && s.waiting.is_empty() {
                s.running += 1;
                return Permit(self.clone());
            }
            let (tx, rx) = oneshot::channel();
            s.seq += 1;
            let seq = s.seq;
            s.waiting.push(Waiter {
                priority,
                seq,
                admit: tx,
            });
            rx
        };
        // The sender is only dropped by `release` after a place was taken for us,
        // or never (the gate lives as long as the permit holders).
        let _ = rx.await;
        Permit(self.clone())
    }

    fn release(&self) {
        let mut s = self.lock();
        s.running = s.running.saturating_sub(1);
        while s.running < self.max {
            let Some(w) = s.waiting.pop() else { break };
            // A waiter that gave up is skipped.
            if w.admit.send(()).is_ok() {
                s.running += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn urgent_goes_before_periodic_and_the_limit_holds() {
        let gate = Gate::new(1);
        let first = gate.admit(Priority::Periodic).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, p) in [
            ("periodic-1", Priority::Periodic),
            ("periodic-2", Priority::Periodic),
            ("urgent", Priority::Urgent),
        ] {
            let (gate, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = gate.admit(p).await;
                order.lock().unwrap().push(name);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(gate.load(), (1, 3));
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            vec!["urgent", "periodic-1", "periodic-2"]
        );
        assert_eq!(gate.load(), (0, 0));
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_is_skipped() {
        let gate = Gate::new(1);
        let first = gate.admit(Priority::Periodic).await;
        let gave_up =
            tokio::time::timeout(Duration::from_millis(20), gate.admit(Priority::Urgent)).await;
        assert!(gave_up.is_err());
        drop(first);
        let _again = gate.admit(Priority::Periodic).await;
        assert_eq!(gate.load(), (1, 0));
    }
}

//! Delivery: a bounded queue and a tokio task per sandbox that posts due
//! deliveries (a few at once), records every attempt, and schedules retries
//! on the vendor's schedule ([`super::schedule`]) scaled by the time scale.
//! A retry posts the same [`Prepared`] again: the same bytes, the same id.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use super::envelope::Prepared;
use super::schedule;
use crate::model::VendorKind;
use crate::sandbox::data::now;
use crate::sandbox::{lock, ts};

/// Deliveries waiting (first attempts and retries); beyond it the oldest is
/// dropped and counted.
pub const QUEUE_CAP: usize = 10_000;
/// Attempts kept for `GET /_sandbox/webhooks/deliveries`.
pub const LOG_CAP: usize = 10_000;
/// Posts in flight at once.
const IN_FLIGHT: usize = 16;
/// A receiver's time to answer, at time scale 1 (then scaled, within bounds).
const TIMEOUT: Duration = Duration::from_secs(10);
const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// What is read of a receiver's answer at most.
const MAX_ANSWER: usize = 64 * 1024;

/// One attempt, as the deliveries log shows it (no body, no signature).
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    pub event: String,
    pub delivery_id: String,
    pub subscription_id: String,
    pub target: String,
    /// 1-based.
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub ok: bool,
    pub at: String,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Counts {
    /// Deliveries queued (one per event and matching subscription).
    pub enqueued: u64,
    pub attempts: u64,
    pub delivered: u64,
    pub failed_attempts: u64,
    /// Deliveries whose attempts are spent.
    pub gave_up: u64,
    /// Dropped from a full queue (the oldest first).
    pub dropped: u64,
    pub queued: usize,
    pub in_flight: usize,
}

struct Job {
    p: Arc<Prepared>,
    attempt: u32,
    due: Instant,
}

struct Queue {
    jobs: VecDeque<Job>,
    cap: usize,
    log: VecDeque<Attempt>,
    counts: Counts,
    scale: f64,
}

struct Inner {
    vendor: VendorKind,
    q: Mutex<Queue>,
    wake: Notify,
    http: reqwest::Client,
}

/// A cheap handle on a sandbox's sender (for posting outside its state lock).
#[derive(Clone)]
pub struct SenderHandle(Arc<Inner>);

/// The sandbox's sender; dropping it stops the task.
pub struct Sender {
    handle: SenderHandle,
    _stop: oneshot::Sender<()>,
}

impl Sender {
    /// Starts the delivery task (needs a tokio runtime).
    pub fn start(vendor: VendorKind, scale: f64, cap: usize) -> Sender {
        // No proxy (loopback must stay loopback) and no redirects (a redirect
        // could leave loopback).
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let inner = Arc::new(Inner {
            vendor,
            q: Mutex::new(Queue {
                jobs: VecDeque::new(),
                cap: cap.max(1),
                log: VecDeque::new(),
                counts: Counts::default(),
                scale,
            }),
            wake: Notify::new(),
            http,
        });
        let (tx, rx) = oneshot::channel();
        tokio::spawn(run(inner.clone(), rx));
        Sender {
            handle: SenderHandle(inner),
            _stop: tx,
        }
    }

    pub fn handle(&self) -> SenderHandle {
        self.handle.clone()
    }

    /// Queues a first attempt, due now.
    pub fn push(&self, p: Prepared) {
        let inner = &self.handle.0;
        {
            let mut q = lock(&inner.q);
            q.counts.enqueued += 1;
            q.push(Job {
                p: Arc::new(p),
                attempt: 1,
                due: Instant::now(),
            });
        }
        inner.wake.notify_one();
    }

    pub fn scale(&self) -> f64 {
        lock(&self.handle.0.q).scale
    }

    /// Sets the time scale of retries and timeouts from now on.
    pub fn set_scale(&self, scale: f64) {
        lock(&self.handle.0.q).scale = scale;
        self.handle.0.wake.notify_one();
    }

    pub fn counts(&self) -> Counts {
        let q = lock(&self.handle.0.q);
        let mut c = q.counts;
        c.queued = q.jobs.len();
        c
    }

    /// The newest attempts, oldest first.
    pub fn log(&self) -> Vec<Attempt> {
        lock(&self.handle.0.q).log.iter().cloned().collect()
    }

    pub fn clear_log(&self) {
        lock(&self.handle.0.q).log.clear();
    }
}

impl SenderHandle {
    /// One attempt now, without retries (Greenhouse's ping); whether it got a 2xx.
    pub async fn send_once(&self, p: Prepared) -> bool {
        attempt(&self.0, &p, 1).await
    }
}

impl Queue {
    fn push(&mut self, job: Job) {
        while self.jobs.len() >= self.cap {
            self.jobs.pop_front();
            self.counts.dropped += 1;
        }
        self.jobs.push_back(job);
    }

    fn record(&mut self, a: Attempt) {
        if self.log.len() >= LOG_CAP {
            self.log.pop_front();
        }
        self.counts.attempts += 1;
        if a.ok {
            self.counts.delivered += 1;
        } else {
            self.counts.failed_attempts += 1;
        }
        self.log.push_back(a);
    }

    fn timeout(&self) -> Duration {
        schedule::scaled(TIMEOUT, self.scale).clamp(MIN_TIMEOUT, TIMEOUT)
    }
}

async fn run(inner: Arc<Inner>, mut stop: oneshot::Receiver<()>) {
    loop {
        let (ready, next_due) = {
            let mut q = lock(&inner.q);
            let now = Instant::now();
            let mut ready = Vec::new();
            let mut i = 0;
            while i < q.jobs.len() && q.counts.in_flight + ready.len() < IN_FLIGHT {
                if q.jobs[i].due <= now {
                    if let Some(j) = q.jobs.remove(i) {
                        ready.push(j);
                    }
                } else {
                    i += 1;
                }
            }
            q.counts.in_flight += ready.len();
            // All slots busy: a finished post wakes the loop.
            let next = if q.counts.in_flight >= IN_FLIGHT {
                None
            } else {
                q.jobs.iter().map(|j| j.due).min()
            };
            (ready, next)
        };
        for job in ready {
            tokio::spawn(deliver(inner.clone(), job));
        }
        let far = Instant::now() + Duration::from_secs(3600);
        tokio::select! {
            _ = &mut stop => return,
            _ = inner.wake.notified() => {}
            _ = tokio::time::sleep_until(next_due.unwrap_or(far)) => {}
        }
    }
}

/// Posts one attempt of `job`, then schedules its retry or lets it go.
async fn deliver(inner: Arc<Inner>, job: Job) {
    let ok = attempt(&inner, &job.p, job.attempt).await;
    {
        let mut q = lock(&inner.q);
        q.counts.in_flight = q.counts.in_flight.saturating_sub(1);
        if !ok {
            match schedule::next_wait(inner.vendor, job.attempt, q.scale) {
                Some(wait) => {
                    let next = Job {
                        p: job.p,
                        attempt: job.attempt.saturating_add(1),
                        due: Instant::now() + wait,
                    };
                    q.push(next);
                }
                None => q.counts.gave_up += 1,
            }
        }
    }
    inner.wake.notify_one();
}

/// Reads (and drops) up to [`MAX_ANSWER`] of an answer, so a short one lets
/// the connection be reused and a huge one costs no memory.
async fn drain(mut resp: reqwest::Response) {
    let mut read = 0usize;
    while let Ok(Some(chunk)) = resp.chunk().await {
        read = read.saturating_add(chunk.len());
        if read > MAX_ANSWER {
            return;
        }
    }
}

/// One POST; records it in the log. Success is any 2xx.
async fn attempt(inner: &Inner, p: &Prepared, n: u32) -> bool {
    let timeout = lock(&inner.q).timeout();
    let mut req = inner
        .http
        .post(&p.url)
        .timeout(timeout)
        .body(p.body.clone());
    for (k, v) in &p.headers {
        req = req.header(*k, v);
    }
    let (status, error) = match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let _ = tokio::time::timeout(timeout, drain(resp)).await;
            (Some(status), None)
        }
        // The kind only: reqwest's text could quote the URL's query.
        Err(e) => (
            None,
            Some(
                if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connection refused or failed"
                } else {
                    "request failed"
                }
                .to_string(),
            ),
        ),
    };
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    lock(&inner.q).record(Attempt {
        event: p.event.clone(),
        delivery_id: p.delivery_id.clone(),
        subscription_id: p.subscription.clone(),
        target: p.url.clone(),
        attempt: n,
        status,
        error,
        ok,
        at: ts(now()),
    });
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: u8) -> Job {
        Job {
            p: Arc::new(Prepared {
                vendor: VendorKind::Lever,
                event: format!("e{n}"),
                delivery_id: n.to_string(),
                subscription: "s".into(),
                url: "http://127.0.0.1:1/".into(),
                headers: vec![],
                body: Default::default(),
            }),
            attempt: 1,
            due: Instant::now(),
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_the_oldest() {
        let mut q = Queue {
            jobs: VecDeque::new(),
            cap: 3,
            log: VecDeque::new(),
            counts: Counts::default(),
            scale: 1.0,
        };
        for n in 0..5 {
            q.push(job(n));
        }
        assert_eq!(q.jobs.len(), 3);
        assert_eq!(q.counts.dropped, 2);
        assert_eq!(q.jobs.front().map(|j| j.p.delivery_id.as_str()), Some("2"));
        assert_eq!(q.timeout(), TIMEOUT);
        q.scale = 0.001;
        assert_eq!(q.timeout(), MIN_TIMEOUT);
    }
}

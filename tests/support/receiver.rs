//! A webhook receiver on loopback for tests: records every request (raw
//! headers and body) and answers scripted statuses, so tests can check the
//! sandboxes' signatures with hmac/sha2 directly and count retries.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Lowercase hex HMAC-SHA256.
pub fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(msg);
    hex::encode(m.finalize().into_bytes())
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Got {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Got {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

/// A webhook receiver on loopback: records every request and answers the
/// scripted statuses in turn, then `fallback`.
#[derive(Clone)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Got>>>,
    pub script: Arc<Mutex<VecDeque<u16>>>,
    pub fallback: u16,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> AxStatus {
    r.got.lock().unwrap().push(Got { headers, body });
    let status = r.script.lock().unwrap().pop_front().unwrap_or(r.fallback);
    AxStatus::from_u16(status).unwrap()
}

impl Receiver {
    /// Starts one; returns it and its URL.
    pub async fn start(script: &[u16], fallback: u16) -> (Receiver, String) {
        let r = Receiver {
            got: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            fallback,
        };
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, url)
    }

    pub fn all(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Those whose body's `key` is `value` (`action`, `event`, `event_type`).
    pub fn with(&self, key: &str, value: &str) -> Vec<Got> {
        self.all()
            .into_iter()
            .filter(|g| g.json()[key] == value)
            .collect()
    }

    /// Waits until `n` requests with `key` = `value` arrived (at most `secs`).
    pub async fn wait(&self, key: &str, value: &str, n: usize, secs: u64) -> Vec<Got> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.with(key, value);
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

//! The operator's own HTTP port (`--metrics-addr`): `/metrics` (Prometheus
//! text format), `/healthz` (liveness), `/readyz` (readiness, see
//! [`health`]) and `POST /webhooks/{namespace}/{connection}` (see
//! [`crate::webhooks`]). The chart points its probes, its ServiceMonitor and
//! its webhook Service here.

pub mod health;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::registry::Registry;
use tokio::task::JoinHandle;

use crate::metrics::collector::SyncConditions;
use health::Health;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot serve /metrics, /healthz and /readyz on {addr} (--metrics-addr): {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Webhooks(#[from] crate::webhooks::route::RouteError),
}

#[derive(Clone)]
struct Served {
    registry: Arc<Registry>,
    health: Arc<Health>,
}

/// The running server; dropping it stops it.
pub struct Server {
    /// Where it listens (the port chosen when asked for port 0).
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The routes, for `health`, the process's metrics and the webhooks `hub` takes in.
pub fn router(
    health: Arc<Health>,
    hub: Arc<crate::controller::webhooks::Hub>,
) -> Result<Router, HttpError> {
    let registry =
        crate::metrics::global().registry(vec![Box::new(SyncConditions::new(health.clone()))]);
    let options = crate::webhooks::route::IntakeOptions {
        body_limit: hub.body_limit,
        lever_window: chrono::TimeDelta::from_std(hub.lever_window)
            .unwrap_or(crate::webhooks::verify::LEVER_WINDOW),
        ..Default::default()
    };
    let hooks = crate::webhooks::route::router(hub, options)?;
    Ok(Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Served {
            registry: Arc::new(registry),
            health,
        })
        .merge(hooks))
}

/// Binds `addr` (a failure is a start-up error) and serves until dropped.
/// Logs the bound address (`... on http://ADDR`): with port 0 that is how a
/// test finds it.
pub async fn serve(
    addr: SocketAddr,
    health: Arc<Health>,
    hub: Arc<crate::controller::webhooks::Hub>,
) -> Result<Server, HttpError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| HttpError::Bind { addr, source })?;
    let app = router(health, hub)?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics and health server stopped");
        }
    });
    tracing::info!("serving /metrics, /healthz and /readyz on http://{bound}");
    Ok(Server { addr: bound, task })
}

async fn metrics(State(s): State<Served>) -> Response {
    match crate::metrics::encode(&s.registry) {
        Ok(body) => ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "encoding metrics failed").into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(s): State<Served>) -> Response {
    match s.health.ready() {
        Ok(what) => (StatusCode::OK, format!("ok: {what}\n")).into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(server: &Server, path: &str) -> (u16, String) {
        let r = reqwest::get(format!("http://{}{path}", server.addr))
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    #[tokio::test]
    async fn serves_health_readiness_and_metrics_on_one_port() {
        let health = Health::new();
        let hub = crate::controller::webhooks::Hub::new(
            None,
            None,
            10,
            1 << 20,
            crate::controller::webhooks::DEFAULT_LEVER_WINDOW,
        );
        let server = serve("127.0.0.1:0".parse().unwrap(), health.clone(), hub)
            .await
            .unwrap();
        assert_ne!(server.addr.port(), 0, "the bound port is reported");
        assert_eq!(get(&server, "/healthz").await, (200, "ok".into()));
        let (status, body) = get(&server, "/readyz").await;
        assert_eq!(status, 503, "{body}");
        health.can_stand_by();
        let (status, body) = get(&server, "/readyz").await;
        assert_eq!(
            (status, body.as_str()),
            (
                200,
                "ok: standing by; the leader Lease and the watched kinds are readable\n"
            )
        );
        let r = reqwest::get(format!("http://{}/metrics", server.addr))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers()[reqwest::header::CONTENT_TYPE],
            crate::metrics::CONTENT_TYPE
        );
        let text = r.text().await.unwrap();
        assert!(text.contains("# TYPE ats_sync_workers gauge"), "{text}");
    }

    #[tokio::test]
    async fn a_port_in_use_is_a_clear_error() {
        let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        let hub = crate::controller::webhooks::Hub::new(
            None,
            None,
            10,
            1 << 20,
            crate::controller::webhooks::DEFAULT_LEVER_WINDOW,
        );
        let err = serve(addr, Health::new(), hub)
            .await
            .err()
            .expect("bind fails");
        let text = err.to_string();
        assert!(
            text.contains(&addr.to_string()) && text.contains("--metrics-addr"),
            "{text}"
        );
    }
}

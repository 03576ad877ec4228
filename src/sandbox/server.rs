//! Serving a sandbox router in the background, and the request log every
//! sandbox writes.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::options::{SandboxCredentials, SandboxError};

/// A sandbox serving in the background. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningSandbox {
    /// Server root, e.g. `http://127.0.0.1:43121` (the connection's `baseUrl`).
    pub base_url: String,
    /// The OAuth token endpoint; empty for vendors without one.
    pub token_url: String,
    pub addr: SocketAddr,
    pub credentials: SandboxCredentials,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// Stops accepting connections and waits (briefly) for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    /// Serves until the server stops (for the CLI; pair with a signal).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds and works out the URL clients should use (an unspecified address
/// such as 0.0.0.0 is reported as loopback).
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, String), SandboxError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind { addr, source })?;
    let mut local = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind { addr, source })?;
    if local.ip().is_unspecified() {
        local.set_ip(match local {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok((listener, format!("http://{local}")))
}

/// Serves `router` in the background until shut down.
pub fn serve(
    listener: TcpListener,
    router: axum::Router,
    base_url: String,
    token_url: String,
    credentials: SandboxCredentials,
) -> RunningSandbox {
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let res = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = res {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    RunningSandbox {
        base_url,
        token_url,
        addr,
        credentials,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// The route template of a request (`/v3/applications/{id}`), never the
/// concrete path: those carry tokens, emails and file names.
pub fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into())
}

/// Logs method, route and status; never headers, query strings or concrete
/// paths.
pub async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = route_of(&req);
    let resp = next.run(req).await;
    tracing::debug!(%method, %path, status = resp.status().as_u16(), "sandbox request");
    resp
}

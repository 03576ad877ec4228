//! A hostile vendor on loopback: it speaks Greenhouse's paths (a token
//! endpoint, `/v3/...`) and answers as an attacker would, one way per
//! [`Mode`]. Every server also counts what reached a second loopback port it
//! redirects to, so a test can prove nothing followed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};

/// How the vendor misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// API bodies stream forever, chunked, without `Content-Length`.
    EndlessBody,
    /// The token endpoint answers 307 to another loopback port.
    TokenRedirect,
    /// A token that lives `1e16` seconds, then 429 with `Retry-After: 1e20`
    /// and an absurd rate-limit reset.
    AbsurdTimes,
    /// `200 OK` with an HTML page where JSON belongs.
    NotJson,
    /// A list whose `Link: rel="next"` points at itself, forever.
    SelfLink,
    /// Responses with a thousand 8 KiB headers.
    HugeHeaders,
}

pub struct HostileVendor {
    pub base_url: String,
    /// Requests that reached the redirect target.
    pub stolen: Arc<AtomicUsize>,
    /// Requests the hostile endpoint answered.
    pub requests: Arc<AtomicUsize>,
}

pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A server that answers every request with `answer()`, and how many it answered.
pub async fn counting(
    answer: impl Fn() -> Response + Clone + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let base = serve(Router::new().fallback(move || {
        c.fetch_add(1, Ordering::SeqCst);
        let answer = answer.clone();
        async move { answer() }
    }))
    .await;
    (base, count)
}

/// A token response; `lifetime` as the JSON text of `expires_in`.
pub fn token(lifetime: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"access_token": "t", "token_type": "bearer", "expires_in": {lifetime}}}"#),
    )
        .into_response()
}

/// 1 MiB chunks, forever.
pub fn endless() -> Response {
    let chunk = axum::body::Bytes::from(vec![b'['; 1024 * 1024]);
    let stream = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}

fn huge_headers() -> Response {
    let mut h = HeaderMap::new();
    let value =
        HeaderValue::from_str(&"x".repeat(8 * 1024)).unwrap_or(HeaderValue::from_static("x"));
    for i in 0..1000 {
        if let Ok(name) = HeaderName::from_bytes(format!("x-filler-{i}").as_bytes()) {
            h.insert(name, value.clone());
        }
    }
    (h, [(header::CONTENT_TYPE, "application/json")], "[]").into_response()
}

async fn api(mode: Mode, uri: axum::http::Uri) -> Response {
    match mode {
        Mode::EndlessBody => endless(),
        Mode::NotJson => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Welcome to the captive portal. Please log in.</body></html>",
        )
            .into_response(),
        Mode::AbsurdTimes => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                ("retry-after", "1e20"),
                ("x-ratelimit-limit", "50"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1e25"),
            ],
            r#"{"message": "slow down"}"#,
        )
            .into_response(),
        Mode::SelfLink => {
            let link = format!("<http://{}{}>; rel=\"next\"", "HOST", uri);
            (
                [(header::CONTENT_TYPE, "application/json")],
                [("link", link)],
                "[]",
            )
                .into_response()
        }
        Mode::HugeHeaders => huge_headers(),
        // The API itself is healthy; the token endpoint is the trap.
        Mode::TokenRedirect => ([(header::CONTENT_TYPE, "application/json")], "[]").into_response(),
    }
}

/// Starts a hostile vendor.
pub async fn start(mode: Mode) -> HostileVendor {
    let (elsewhere, stolen) = counting(|| token("3600")).await;
    let requests = Arc::new(AtomicUsize::new(0));
    // The self-link needs the server's own address, known once bound.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (r1, r2) = (requests.clone(), requests.clone());
    let target = format!("{elsewhere}/steal");
    let app = Router::new()
        .route(
            "/token",
            post(move || {
                let target = target.clone();
                r1.fetch_add(1, Ordering::SeqCst);
                async move {
                    match mode {
                        Mode::TokenRedirect => {
                            (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)])
                                .into_response()
                        }
                        Mode::AbsurdTimes => token("1e16"),
                        _ => token("3600"),
                    }
                }
            }),
        )
        .route(
            "/v3/{*rest}",
            any(move |uri: axum::http::Uri| {
                r2.fetch_add(1, Ordering::SeqCst);
                async move {
                    let mut resp = api(mode, uri).await;
                    if let Some(l) = resp.headers().get("link").cloned()
                        && let Ok(l) = l.to_str()
                        && let Ok(v) = HeaderValue::from_str(&l.replace("HOST", &addr.to_string()))
                    {
                        resp.headers_mut().insert("link", v);
                    }
                    resp
                }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    HostileVendor {
        base_url: format!("http://{addr}"),
        stolen,
        requests,
    }
}

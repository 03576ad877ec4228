//! A vendor that answers as an attacker would, on loopback: an endless body, a
//! token endpoint that redirects to another host with the client's secrets,
//! absurd rate-limit headers and token lifetimes. The client must stay bounded,
//! follow no redirect and never panic.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ats_operator::model::{ChangeSet, VendorKind};
use ats_operator::vendors::greenhouse::GreenhouseClient;
use ats_operator::vendors::{AtsClient, PullScope, VendorError};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use support::hostile::{self, Mode, counting, endless, serve};
use support::spec;

mod support;

fn token() -> Response {
    hostile::token("1e16")
}

/// A Greenhouse client of `base` (tokens from `{base}/token`), with made-up
/// credentials a test can look for.
fn client(base: &str) -> GreenhouseClient {
    let creds = json!({"client_id": "hostile-client-id", "client_secret": "hostile-client-secret"});
    GreenhouseClient::new(&spec::greenhouse(base, &creds)).unwrap()
}

/// A full pull that must end within `limit`; `hang` says what it waited on.
async fn pull_within(
    client: &GreenhouseClient,
    limit: Duration,
    hang: &str,
) -> Result<ChangeSet, VendorError> {
    tokio::time::timeout(limit, client.pull(None, &PullScope::default()))
        .await
        .expect(hang)
}

#[tokio::test]
async fn an_endless_body_is_cut_off_and_a_huge_token_lifetime_is_harmless() {
    let base = serve(
        Router::new()
            .route("/token", post(|| async { token() }))
            .route("/v3/jobs", get(|| async { endless() }))
            .route("/v3/job_posts", get(|| async { endless() })),
    )
    .await;
    let client = client(&base);
    let r = pull_within(&client, Duration::from_secs(60), "the pull stopped").await;
    match r {
        Err(VendorError::Decode(m)) => assert!(m.contains("body larger than"), "{m}"),
        other => panic!("unexpected: {other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let (elsewhere, hits) = counting(token).await;
    let target = format!("{elsewhere}/steal");
    let base =
        serve(Router::new().route(
            "/token",
            post(move || {
                let target = target.clone();
                async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]).into_response()
                }
            }),
        ))
        .await;
    let client = client(&base);
    let r = client.verify().await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the form went to another host"
    );
    let text = format!("{r:?}");
    assert!(!text.contains("hostile-client-secret"), "{text}");
}

#[tokio::test]
async fn a_file_on_a_host_the_vendor_does_not_use_is_not_fetched() {
    use ats_operator::vendors::hosts::DownloadPolicy;
    use ats_operator::vendors::http::{NoAuth, RateLimiter, RetryPolicy, Transport, VendorHttp};
    let (elsewhere, hits) = counting(|| "%PDF-1.4".into_response()).await;
    // The connection's own (allowed) endpoint redirects a download elsewhere.
    let target = format!("{elsewhere}/resume.pdf");
    let own = serve(Router::new().route(
        "/files/1",
        get(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, target)]).into_response() }
        }),
    ))
    .await;
    let policy = DownloadPolicy {
        vendor: Some(VendorKind::Greenhouse),
        extra: Vec::new(),
        custom_origin: ats_operator::vendors::hosts::origin(&own),
    };
    let transport = Transport::guarded(
        RetryPolicy::default(),
        ats_operator::vendors::guard::EndpointPolicy::AllowPrivate,
        policy,
    )
    .unwrap();
    let http = VendorHttp::new(transport, RateLimiter::default(), Box::new(NoAuth));
    let direct = http.download(&format!("{elsewhere}/resume.pdf")).await;
    match direct {
        Err(VendorError::Forbidden(m)) => assert!(m.contains("--resume-download-hosts"), "{m}"),
        other => panic!("unexpected: {other:?}"),
    }
    let redirected = http.download(&format!("{own}/files/1")).await;
    assert!(redirected.is_err(), "{redirected:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a file came from elsewhere");
}

#[tokio::test]
async fn a_hold_off_announced_by_one_request_fails_the_next_at_once() {
    let vendor = hostile::start(Mode::AbsurdTimes).await;
    let base = vendor.base_url.clone();
    let client = client(&base);
    // The first answer (429, a reset an hour away) is remembered by the limiter.
    assert!(matches!(
        client.verify().await,
        Err(VendorError::RateLimited { .. })
    ));
    // The next request is refused before it is sent, instead of sleeping an hour.
    let asked = vendor.requests.load(Ordering::SeqCst);
    let hang = "the pull waited out the hold-off";
    let r = pull_within(&client, Duration::from_secs(30), hang).await;
    match r {
        Err(VendorError::RateLimited { retry_after }) => {
            assert!(retry_after > Duration::from_secs(3000), "{retry_after:?}")
        }
        other => panic!("unexpected: {other:?}"),
    }
    assert_eq!(vendor.requests.load(Ordering::SeqCst), asked, "sent anyway");
}

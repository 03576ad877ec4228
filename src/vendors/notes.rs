//! Creating the operator's note (a comment, in Workable) exactly once.

use std::time::Duration;

use serde_json::Value;
use tracing::{debug, warn};
use url::Url;

use super::http::VendorHttp;
use super::{AtsClient, NoteMark, VendorError, WriteBackRequest};

/// Attempts at creating a note when the vendor fails ambiguously.
const NOTE_ATTEMPTS: u32 = 3;

/// The note bodies that carry the operator's marker, in the vendor's order.
pub fn operator_bodies<'a>(bodies: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    bodies
        .into_iter()
        .filter(|b| NoteMark::parse(b).is_some())
        .map(str::to_string)
        .collect()
}

/// POSTs the note of `req` (`body` to `url`) once. The POST is not resent
/// blindly: after a transient failure it may have landed, so the vendor's
/// notes are looked at ([`AtsClient::note_exists`]) before another attempt.
/// `what` names the note in logs; `hint` explains the POST's errors.
pub async fn create_once<C: AtsClient + ?Sized>(
    client: &C,
    http: &VendorHttp,
    req: &WriteBackRequest,
    url: &Url,
    body: &Value,
    what: &str,
    hint: fn(VendorError) -> VendorError,
) -> Result<(), VendorError> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let sent = http
            .send_with(|| http.client().post(url.clone()).json(body), false)
            .await;
        match sent {
            Ok(_) => return Ok(()),
            Err(e) if e.is_transient() && attempt < NOTE_ATTEMPTS => {
                if client.note_exists(req).await? {
                    debug!("{what} landed despite the error");
                    return Ok(());
                }
                warn!(attempt, error = %e, "creating the {what} failed; retrying");
                tokio::time::sleep(Duration::from_millis(500).saturating_mul(attempt)).await;
            }
            Err(e) => return Err(hint(e)),
        }
    }
}

//! Real resume files through the whole sync, for every vendor, against the
//! real API server: two sandboxes of the same tenant, one serving PDF, DOCX,
//! HTML and text files (a share unreadable: scans and damaged Word files),
//! the other the same resumes as plain text. Every readable file scores
//! exactly as its text does; an unreadable one is scored on what the vendor
//! holds, its note says the resume could not be read, and no band tag or
//! score field is written for it.

mod support;

use std::collections::BTreeMap;

use ats_operator::ledger::Ledger;
use ats_operator::model::Score;
use ats_operator::sandbox::SandboxOptions;
use ats_operator::sandbox::documents::ResumeRule;
use ats_operator::sync::decide::UNREADABLE_RESUME;
use serde_json::Value;
use support::tenant::*;

/// The same tenant, with real files (a fifth unreadable) or text only.
fn options(documents: bool) -> SandboxOptions {
    SandboxOptions {
        applications: 30,
        resumes: ResumeRule {
            documents,
            unreadable_percent: if documents { 20 } else { 0 },
        },
        ..small()
    }
}

/// The latest score of every application in scope, from the tenant's ledger.
async fn scores(t: &Tenant) -> BTreeMap<String, Score> {
    let ledger = Ledger::open(&t.ledger).expect("ledger");
    let key = format!("{}/{SYNC}", t.ns);
    let mut out = BTreeMap::new();
    for id in t.in_scope().await {
        let decisions = ledger.decisions(&key, &id).await.expect("decisions");
        let last = decisions
            .last()
            .unwrap_or_else(|| panic!("{id} not scored"));
        out.insert(id, last.score.clone());
    }
    out
}

async fn note_bodies(t: &Tenant, id: &str) -> Vec<String> {
    let w = get(
        &t.http,
        &format!("{}/_sandbox/applications/{id}/writes", t.sandbox.base_url),
    )
    .await;
    w["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

async fn documents_score_as_their_text(setup: Setup) {
    let docs = Tenant::new(setup.clone(), options(true)).await;
    let text = Tenant::new(setup.clone(), options(false)).await;
    docs.apply("24h").await;
    text.apply("24h").await;
    let (op_docs, op_text) = (docs.start_operator(), text.start_operator());
    docs.synced().await;
    text.synced().await;

    let files: BTreeMap<String, String> = docs
        .open_applications()
        .await
        .iter()
        .map(|a| {
            (
                id_str(&a["id"]),
                a["resume_file"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let count = |kinds: &[&str]| {
        files
            .values()
            .filter(|k| kinds.contains(&k.as_str()))
            .count()
    };
    assert!(count(&["pdf"]) > 0 && count(&["docx"]) > 0, "{files:?}");
    assert!(count(&["scanned_pdf", "damaged_docx"]) > 0, "{files:?}");

    let (from_docs, from_text) = (scores(&docs).await, scores(&text).await);
    assert_eq!(
        from_docs.keys().collect::<Vec<_>>(),
        from_text.keys().collect::<Vec<_>>()
    );
    for (id, kind) in &files {
        let w = docs.writes(id).await;
        let notes = note_bodies(&docs, id).await;
        let (got, want) = (&from_docs[id], &from_text[id]);
        assert_eq!(notes.len(), 1, "{id}: {notes:?}");
        match kind.as_str() {
            "pdf" | "docx" | "html" | "text" => {
                assert_eq!(got, want, "{kind} resume of application {id}");
                assert!(!notes[0].contains(UNREADABLE_RESUME), "{id}");
                assert_eq!(w.custom_field.is_some(), setup.custom_field, "{id}: {w:?}");
                assert_eq!(
                    w.band_tags.len(),
                    usize::from(setup.band_tag),
                    "{id}: {w:?}"
                );
            }
            "scanned_pdf" | "damaged_docx" => {
                assert!(
                    got.gaps
                        .first()
                        .is_some_and(|g| g.starts_with(UNREADABLE_RESUME)),
                    "{id}: {got:?}"
                );
                assert!(notes[0].contains(UNREADABLE_RESUME), "{id}: {}", notes[0]);
                assert!(w.custom_field.is_none(), "{id}: {w:?}");
                assert!(w.band_tags.is_empty(), "{id}: {w:?}");
                // The text tenant labels the same application.
                let t = text.writes(id).await;
                assert_eq!(
                    t.band_tags.len(),
                    usize::from(setup.band_tag),
                    "{id}: {t:?}"
                );
            }
            other => panic!("application {id}: resume file {other:?}"),
        }
    }
    // Nothing changed: a second sync reads nothing anew and writes nothing.
    let again = docs.sync_now("again").await;
    assert_eq!((again.scored, again.written_back), (0, 0), "{again:?}");
    op_docs.stop().await;
    op_text.stop().await;
}

#[tokio::test]
async fn greenhouse() {
    documents_score_as_their_text(Setup::greenhouse()).await;
}

#[tokio::test]
async fn lever() {
    documents_score_as_their_text(Setup::lever()).await;
}

#[tokio::test]
async fn workable() {
    documents_score_as_their_text(Setup::workable()).await;
}

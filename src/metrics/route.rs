//! The bounded `route` label of vendor requests: a URL path with every
//! segment that is not one of the vendors' own route words replaced by
//! `{id}`, so ids, emails, file names and whatever a vendor (or a hostile
//! next-page link) puts in a path never become label values.

/// The literal path segments of the vendors' routes (Greenhouse Harvest v3,
/// Lever v1, Workable SPI v3). A segment outside this list is an id; a new
/// route whose words are missing here shows up as `{id}`, never as raw text.
const ROUTE_WORDS: &[&str] = &[
    // Versions and prefixes.
    "v1",
    "v3",
    "spi",
    // Greenhouse.
    "applications",
    "attachments",
    "candidates",
    "departments",
    "job_posts",
    "jobs",
    "notes",
    "offices",
    "users",
    "custom_fields",
    // Lever.
    "addTags",
    "archive_reasons",
    "deleted",
    "download",
    "feedback",
    "interviews",
    "offers",
    "opportunities",
    "postings",
    "removeTags",
    "resumes",
    "stages",
    "tags",
    // Workable.
    "accounts",
    "activities",
    "comments",
    "custom_attributes",
    "members",
    "recruiters",
    "update_custom_attribute_value",
];

/// Segments kept at most; a longer path ends in `/...`.
const MAX_SEGMENTS: usize = 6;

/// Pure: the route template of `path` (`/v3/applications/123/notes` ->
/// `/v3/applications/{id}/notes`). Empty segments are dropped.
pub fn template(path: &str) -> String {
    let mut out = String::new();
    for (i, segment) in path.split('/').filter(|s| !s.is_empty()).enumerate() {
        if i == MAX_SEGMENTS {
            out.push_str("/...");
            break;
        }
        out.push('/');
        out.push_str(if ROUTE_WORDS.contains(&segment) {
            segment
        } else {
            "{id}"
        });
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_placeholders_and_route_words_stay() {
        for (path, want) in [
            ("/v3/applications", "/v3/applications"),
            ("/v3/applications/90000213", "/v3/applications/{id}"),
            (
                "/v1/opportunities/7f1c2b9e-4d0a-4c51-9a55-0b1f2e3d4c5a/notes",
                "/v1/opportunities/{id}/notes",
            ),
            (
                "/v1/opportunities/abc/resumes/def/download",
                "/v1/opportunities/{id}/resumes/{id}/download",
            ),
            ("/v1/opportunities/deleted", "/v1/opportunities/deleted"),
            (
                "/v1/opportunities/a%2Fb%20c/addTags",
                "/v1/opportunities/{id}/addTags",
            ),
            (
                "/spi/v3/candidates/3fc9a80f/comments",
                "/spi/v3/candidates/{id}/comments",
            ),
            (
                "/spi/v3/candidates/x/update_custom_attribute_value",
                "/spi/v3/candidates/{id}/update_custom_attribute_value",
            ),
            // A tenant's path prefix, an email, a lookalike word.
            ("/acme/v3/jobs", "/{id}/v3/jobs"),
            ("/v3/candidates/jane@example.com", "/v3/candidates/{id}"),
            ("/v3/Jobs", "/v3/{id}"),
            ("", "/"),
            ("//v3//jobs/", "/v3/jobs"),
        ] {
            assert_eq!(template(path), want, "{path}");
        }
    }

    #[test]
    fn deep_or_hostile_paths_stay_bounded() {
        let deep = "/v3/jobs/1/2/3/4/5/6/7/8/9";
        assert_eq!(template(deep), "/v3/jobs/{id}/{id}/{id}/{id}/...");
        // Any path maps into a small set: route words, `{id}`, at most six deep.
        let t = template(&"/notes".repeat(1000));
        assert_eq!(t, "/notes/notes/notes/notes/notes/notes/...");
    }
}

//! The built-in skills vocabulary and skill matching.
//!
//! Each entry is a canonical name followed by aliases. Matching is
//! case-insensitive on word boundaries, where `+`, `#` and letters/digits are
//! word characters (so "C" does not match inside "C++" or "C#", and "Java"
//! does not match inside "JavaScript"). An alias written with a leading `=` is
//! matched case-sensitively in free text because its lowercase form is an
//! everyday word ("go", "react", "swift"); in a skills list it matches in any
//! case.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

/// (canonical name, aliases). The canonical name itself is always an alias;
/// a canonical name that is also an everyday word is listed with `=` among the
/// aliases and marked by [`CASE_SENSITIVE_CANONICAL`].
const VOCAB: &[(&str, &[&str])] = &[
    // Languages
    ("Rust", &[]),
    ("Go", &["=Go", "golang"]),
    ("Python", &["python3"]),
    ("Java", &[]),
    ("JavaScript", &["JS", "ECMAScript", "ES6"]),
    ("TypeScript", &["TS"]),
    ("C", &["=C"]),
    ("C++", &["cpp", "cplusplus"]),
    ("C#", &["csharp", "c sharp"]),
    ("Ruby", &["=Ruby"]),
    ("PHP", &[]),
    ("Kotlin", &[]),
    ("Swift", &["=Swift"]),
    ("Objective-C", &["objc", "objective c"]),
    ("Scala", &[]),
    ("Elixir", &[]),
    ("Erlang", &[]),
    ("Haskell", &[]),
    ("Clojure", &[]),
    ("R", &["=R"]),
    ("MATLAB", &[]),
    ("Perl", &[]),
    ("Lua", &[]),
    ("Dart", &["=Dart"]),
    (
        "Bash",
        &["shell scripting", "shell script", "shell scripts"],
    ),
    ("PowerShell", &[]),
    ("SQL", &[]),
    ("Solidity", &[]),
    ("Zig", &[]),
    ("OCaml", &[]),
    ("F#", &["fsharp"]),
    ("WebAssembly", &["wasm"]),
    // Web and frameworks
    ("React", &["=React", "ReactJS", "React.js"]),
    ("React Native", &[]),
    ("Angular", &["AngularJS"]),
    ("Vue.js", &["Vue", "VueJS"]),
    ("Svelte", &[]),
    ("Next.js", &["NextJS"]),
    ("Node.js", &["NodeJS", "=Node"]),
    ("Express", &["=Express", "Express.js", "ExpressJS"]),
    ("Django", &[]),
    ("Flask", &[]),
    ("FastAPI", &[]),
    ("Ruby on Rails", &["=Rails", "RoR"]),
    ("Spring", &["=Spring", "Spring Boot", "SpringBoot"]),
    (".NET", &["dotnet", "ASP.NET", ".NET Core"]),
    ("Laravel", &[]),
    ("HTML", &["HTML5"]),
    ("CSS", &["CSS3"]),
    ("Tailwind", &["TailwindCSS", "Tailwind CSS"]),
    ("Redux", &[]),
    ("jQuery", &[]),
    ("GraphQL", &[]),
    ("REST", &["=REST", "RESTful", "REST API", "REST APIs"]),
    ("gRPC", &[]),
    ("Protocol Buffers", &["protobuf", "protobufs"]),
    ("Tokio", &[]),
    ("Actix", &[]),
    ("Axum", &[]),
    // Data stores
    ("PostgreSQL", &["Postgres", "psql"]),
    ("MySQL", &[]),
    ("MariaDB", &[]),
    ("SQLite", &[]),
    ("Oracle Database", &["Oracle DB", "=Oracle"]),
    ("SQL Server", &["MSSQL", "Microsoft SQL Server"]),
    ("MongoDB", &["Mongo"]),
    ("Redis", &[]),
    ("Cassandra", &[]),
    ("DynamoDB", &[]),
    ("Elasticsearch", &["Elastic Search", "OpenSearch"]),
    ("ClickHouse", &[]),
    ("Snowflake", &["=Snowflake"]),
    ("BigQuery", &[]),
    ("Redshift", &[]),
    ("Neo4j", &[]),
    ("CockroachDB", &[]),
    // Messaging and data processing
    ("Kafka", &["Apache Kafka"]),
    ("RabbitMQ", &[]),
    ("NATS", &[]),
    ("Spark", &["=Spark", "Apache Spark", "PySpark"]),
    ("Hadoop", &[]),
    ("Airflow", &["Apache Airflow"]),
    ("dbt", &[]),
    ("Flink", &["Apache Flink"]),
    ("ETL", &[]),
    ("Data Warehousing", &["data warehouse", "data warehouses"]),
    // Cloud and infrastructure
    ("Kubernetes", &["k8s", "kube"]),
    ("Docker", &["containers", "containerization"]),
    ("Helm", &[]),
    ("Terraform", &[]),
    ("Ansible", &[]),
    ("Puppet", &["=Puppet"]),
    ("Chef", &["=Chef"]),
    ("Pulumi", &[]),
    ("AWS", &["Amazon Web Services"]),
    ("GCP", &["Google Cloud", "Google Cloud Platform"]),
    ("Azure", &["Microsoft Azure"]),
    ("Linux", &[]),
    ("Nginx", &[]),
    ("Envoy", &[]),
    ("Istio", &[]),
    ("Prometheus", &[]),
    ("Grafana", &[]),
    ("OpenTelemetry", &["OTel"]),
    ("Datadog", &[]),
    (
        "CI/CD",
        &[
            "CI CD",
            "continuous integration",
            "continuous delivery",
            "continuous deployment",
        ],
    ),
    ("GitHub Actions", &[]),
    ("Jenkins", &[]),
    ("GitLab CI", &[]),
    ("Git", &[]),
    ("Serverless", &["AWS Lambda", "=Lambda"]),
    ("Microservices", &["microservice", "micro-services"]),
    ("Distributed Systems", &["distributed system"]),
    ("Networking", &["TCP/IP"]),
    ("Site Reliability Engineering", &["SRE"]),
    ("DevOps", &[]),
    ("Observability", &[]),
    (
        "Security",
        &["=Security", "application security", "AppSec", "infosec"],
    ),
    ("OAuth", &["OAuth2", "OAuth 2.0", "OIDC", "OpenID Connect"]),
    // Data science and ML
    ("Machine Learning", &["=ML"]),
    ("Deep Learning", &[]),
    ("Artificial Intelligence", &["=AI"]),
    ("Natural Language Processing", &["=NLP"]),
    ("Computer Vision", &[]),
    ("Large Language Models", &["LLM", "LLMs"]),
    ("PyTorch", &[]),
    ("TensorFlow", &[]),
    ("scikit-learn", &["sklearn", "scikit learn"]),
    ("Pandas", &["=Pandas", "=pandas"]),
    ("NumPy", &[]),
    (
        "Statistics",
        &["statistical analysis", "statistical modeling"],
    ),
    ("Data Analysis", &["data analytics"]),
    ("Data Visualization", &["data visualisation"]),
    ("Tableau", &[]),
    ("Power BI", &["PowerBI"]),
    ("Excel", &["=Excel", "Microsoft Excel"]),
    ("A/B Testing", &["AB testing", "experimentation"]),
    // Mobile
    ("iOS", &[]),
    ("Android", &[]),
    ("Flutter", &[]),
    ("SwiftUI", &[]),
    // Practices, product and design
    ("Agile", &["=Agile", "Kanban"]),
    ("Scrum", &[]),
    ("Test-Driven Development", &["TDD"]),
    ("System Design", &["systems design"]),
    ("API Design", &[]),
    ("Unit Testing", &["unit tests"]),
    ("Product Management", &[]),
    ("Project Management", &[]),
    ("Roadmapping", &["product roadmap", "roadmaps"]),
    ("User Research", &["UX research"]),
    ("Figma", &[]),
    ("Sketch", &["=Sketch"]),
    ("UX Design", &["=UX", "user experience"]),
    ("UI Design", &["user interface design"]),
    ("Jira", &[]),
    ("Salesforce", &[]),
    ("HubSpot", &[]),
    ("SEO", &["search engine optimization"]),
    ("Copywriting", &[]),
    ("Technical Writing", &[]),
    ("Stakeholder Management", &[]),
    (
        "People Management",
        &["team management", "managing engineers"],
    ),
    ("Mentoring", &["=Mentoring", "mentorship"]),
    ("Recruiting", &["talent acquisition"]),
    ("Accessibility", &["a11y", "WCAG"]),
    ("Webpack", &[]),
    ("Jest", &[]),
    ("Product Strategy", &[]),
    ("Analytics", &["=Analytics", "product analytics"]),
    ("Prototyping", &["prototypes"]),
    ("Wireframing", &["wireframes"]),
    ("Design Systems", &["design system"]),
    ("Adobe Creative Suite", &["Adobe CC", "Creative Cloud"]),
    ("Interaction Design", &[]),
    ("Usability Testing", &["usability studies"]),
    ("Negotiation", &[]),
    ("Lead Generation", &[]),
    ("Cold Calling", &[]),
    ("CRM", &[]),
    ("Pipeline Management", &[]),
    ("B2B Sales", &[]),
    ("Account Management", &[]),
    ("Forecasting", &["sales forecasting"]),
    ("Communication", &["=Communication", "communication skills"]),
    ("Customer Service", &[]),
    ("Public Speaking", &[]),
    ("Accounting", &[]),
    ("Financial Modeling", &["financial modelling"]),
];

/// Canonical names that are everyday words: matched case-sensitively in text.
const CASE_SENSITIVE_CANONICAL: &[&str] = &[
    "Go",
    "C",
    "R",
    "Ruby",
    "Swift",
    "Dart",
    "React",
    "Spring",
    "Snowflake",
    "Puppet",
    "Chef",
    "Excel",
    "Agile",
    "Sketch",
    "Security",
    "Pandas",
    "Mentoring",
    "REST",
    "Express",
    "Spark",
    "Analytics",
    "Communication",
];

/// A skill as named by a job, profile or candidate: canonical when the
/// vocabulary knows it, otherwise the name as written (trimmed).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skill {
    pub name: String,
    /// Whether `name` is a vocabulary canonical name.
    pub known: bool,
}

impl Skill {
    /// The key two skills are compared by.
    pub fn key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// The canonical name of a skill written as `name` in a list ("k8s" => "Kubernetes").
pub fn canonicalize(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase();
    if n.is_empty() {
        return None;
    }
    VOCAB.iter().find_map(|(canon, aliases)| {
        let hit = canon.to_lowercase() == n
            || aliases
                .iter()
                .any(|a| a.trim_start_matches('=').to_lowercase() == n);
        hit.then_some(*canon)
    })
}

/// A skill from a list entry: canonical when known, as written otherwise.
pub fn skill_from_name(name: &str) -> Option<Skill> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(match canonicalize(trimmed) {
        Some(c) => Skill {
            name: c.to_string(),
            known: true,
        },
        None => Skill {
            name: trimmed.to_string(),
            known: false,
        },
    })
}

/// Two automata over every alias, built once: lowercase aliases searched in
/// the lowercased text, `=` aliases in the text as written. One pass over the
/// text instead of one scan per alias (scoring runs this per application).
struct Matcher {
    folded: AhoCorasick,
    folded_canon: Vec<&'static str>,
    exact: AhoCorasick,
    exact_canon: Vec<&'static str>,
}

static MATCHER: LazyLock<Option<Matcher>> = LazyLock::new(|| {
    let (mut folded, mut folded_canon) = (Vec::new(), Vec::new());
    let (mut exact, mut exact_canon) = (Vec::new(), Vec::new());
    for (canon, aliases) in VOCAB {
        if !CASE_SENSITIVE_CANONICAL.contains(canon) {
            folded.push(canon.to_lowercase());
            folded_canon.push(*canon);
        }
        for alias in aliases.iter() {
            match alias.strip_prefix('=') {
                Some(e) => {
                    exact.push(e.to_string());
                    exact_canon.push(*canon);
                }
                None => {
                    folded.push(alias.to_lowercase());
                    folded_canon.push(*canon);
                }
            }
        }
    }
    // The vocabulary is a constant; building cannot fail for it, but stay
    // total rather than panic.
    Some(Matcher {
        folded: AhoCorasick::new(&folded).ok()?,
        folded_canon,
        exact: AhoCorasick::new(&exact).ok()?,
        exact_canon,
    })
});

/// Every vocabulary skill named in `text`, in order of first mention.
pub fn find_skills(text: &str) -> Vec<&'static str> {
    let Some(m) = MATCHER.as_ref() else {
        return Vec::new();
    };
    let lower = text.to_lowercase();
    let mut first: HashMap<&'static str, usize> = HashMap::new();
    let mut scan = |ac: &AhoCorasick, canon: &[&'static str], hay: &str| {
        for hit in ac.find_overlapping_iter(hay) {
            let (i, j) = (hit.start(), hit.end());
            if on_boundaries(hay, i, j) {
                let c = canon[hit.pattern().as_usize()];
                let e = first.entry(c).or_insert(i);
                *e = (*e).min(i);
            }
        }
    };
    scan(&m.folded, &m.folded_canon, &lower);
    scan(&m.exact, &m.exact_canon, text);
    // Positions in `text` and `lower` can differ for non-ASCII text; the order
    // is only used for readable, deterministic output, so that is harmless.
    let mut found: Vec<(usize, &'static str)> = first.into_iter().map(|(c, i)| (i, c)).collect();
    found.sort();
    found.into_iter().map(|(_, c)| c).collect()
}

/// Whether `needle` occurs in `text` on word boundaries (case-insensitive).
/// Used for skills the vocabulary does not know.
pub fn mentions(text: &str, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    !needle.is_empty() && first_match(&text.to_lowercase(), &needle).is_some()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '+' || c == '#'
}

fn first_match(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .match_indices(needle)
        .find_map(|(i, _)| on_boundaries(haystack, i, i + needle.len()).then_some(i))
}

/// Whether `haystack[i..j]` stands on word boundaries.
fn on_boundaries(haystack: &str, i: usize, j: usize) -> bool {
    let needle = &haystack[i..j];
    let before = haystack[..i].chars().next_back();
    let after = haystack[j..].chars().next();
    // A needle that itself starts/ends with a non-word char (".NET") needs
    // no boundary on that side.
    let needle_starts_word = needle.chars().next().is_some_and(is_word_char);
    let needle_ends_word = needle.chars().next_back().is_some_and(is_word_char);
    // "js" in "Node.js" belongs to the dotted name, not to JavaScript.
    let dotted = before == Some('.')
        && haystack[..i - 1]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
    let ok_before = !needle_starts_word || (before.is_none_or(|c| !is_word_char(c)) && !dotted);
    // "Node.js." is fine, but "Vue.jsx" is not a mention of Vue.js.
    let ok_after = !needle_ends_word || after.is_none_or(|c| !is_word_char(c));
    ok_before && ok_after
}

/// A de-duplicated set of candidate skills, plus the text for skills the
/// vocabulary does not know.
pub struct CandidateSkills<'a> {
    keys: BTreeSet<String>,
    text: &'a str,
}

impl<'a> CandidateSkills<'a> {
    pub fn new(listed: &[String], text: &'a str, extra_text: &[&str]) -> Self {
        let mut keys: BTreeSet<String> = listed
            .iter()
            .filter_map(|s| skill_from_name(s))
            .map(|s| s.key())
            .collect();
        for t in std::iter::once(text).chain(extra_text.iter().copied()) {
            keys.extend(find_skills(t).into_iter().map(str::to_lowercase));
        }
        CandidateSkills { keys, text }
    }

    pub fn has(&self, skill: &Skill) -> bool {
        self.keys.contains(&skill.key()) || (!skill.known && mentions(self.text, &skill.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_size_and_uniqueness() {
        assert!(VOCAB.len() >= 150, "{}", VOCAB.len());
        let mut seen = BTreeSet::new();
        for (canon, aliases) in VOCAB {
            for a in std::iter::once(*canon).chain(aliases.iter().copied()) {
                let a = a.trim_start_matches('=').to_lowercase();
                // An alias may repeat its own canonical name (e.g. "=Go").
                if a != canon.to_lowercase() {
                    assert!(seen.insert(a.clone()), "duplicate alias {a}");
                }
            }
        }
        for c in CASE_SENSITIVE_CANONICAL {
            assert!(VOCAB.iter().any(|(v, _)| v == c), "{c}");
        }
    }

    #[test]
    fn aliases_canonicalize() {
        assert_eq!(canonicalize("golang"), Some("Go"));
        assert_eq!(canonicalize("K8S"), Some("Kubernetes"));
        assert_eq!(canonicalize("postgres"), Some("PostgreSQL"));
        assert_eq!(canonicalize("JS"), Some("JavaScript"));
        assert_eq!(canonicalize("ml"), Some("Machine Learning"));
        assert_eq!(canonicalize("go"), Some("Go"));
        assert_eq!(canonicalize("c++"), Some("C++"));
        assert_eq!(canonicalize("c#"), Some("C#"));
        assert_eq!(canonicalize("Foo"), None);
        assert_eq!(canonicalize("  "), None);
    }

    #[test]
    fn finds_skills_on_word_boundaries() {
        let t = "Built services in Golang and C++ on k8s, with postgres; some JS and ML. \
                 Also C# and C.";
        assert_eq!(
            find_skills(t),
            vec![
                "Go",
                "C++",
                "Kubernetes",
                "PostgreSQL",
                "JavaScript",
                "Machine Learning",
                "C#",
                "C"
            ]
        );
        assert!(find_skills("JavaScript only").contains(&"JavaScript"));
        assert!(!find_skills("JavaScript only").contains(&"Java"));
        assert!(find_skills("trusted partner").is_empty());
        assert!(find_skills("ready to go, we react quickly").is_empty());
        assert_eq!(find_skills("Go and React"), vec!["Go", "React"]);
        assert_eq!(find_skills("ASP.NET and Node.js."), vec![".NET", "Node.js"]);
    }

    #[test]
    fn candidate_skills_union_and_unknown_skills() {
        let listed = vec!["rust".to_string(), "Frobnication".to_string()];
        let c = CandidateSkills::new(
            &listed,
            "Experienced with kubernetes and widget-making",
            &[],
        );
        let s = |n: &str| skill_from_name(n).unwrap();
        assert!(c.has(&s("Rust")));
        assert!(c.has(&s("k8s")));
        assert!(c.has(&s("frobnication")));
        assert!(c.has(&s("Widget-Making")));
        assert!(!c.has(&s("Go")));
    }
}

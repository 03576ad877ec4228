//! Deterministic generated tenant data, in a vendor-neutral shape.
//!
//! Every vendor sandbox renders this data in its own wire format. The same seed
//! always yields the same tenant; only control-API mutations (touch, new
//! applications) and client writes change it afterwards.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

pub use super::documents::{ResumeFile, ResumeRule};

/// Job families; each has its own titles, skill vocabulary and ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Backend,
    Frontend,
    Data,
    Devops,
    Product,
    Design,
    Sales,
}

pub const FAMILIES: [Family; 7] = [
    Family::Backend,
    Family::Frontend,
    Family::Data,
    Family::Devops,
    Family::Product,
    Family::Design,
    Family::Sales,
];

struct FamilyInfo {
    department: &'static str,
    /// Open-role titles, with the minimum years each asks for.
    job_titles: &'static [(&'static str, u32)],
    /// Career ladder for candidates, junior to senior (no commas: resume format).
    ladder: &'static [&'static str],
    skills: &'static [&'static str],
    /// "Backend engineer with 7 years of experience {focus}."
    role_noun: &'static str,
    focus: &'static str,
    disciplines: &'static [&'static str],
    education_req: &'static str,
    intro: &'static str,
    bullets: &'static [&'static str],
}

fn info(f: Family) -> &'static FamilyInfo {
    match f {
        Family::Backend => &BACKEND,
        Family::Frontend => &FRONTEND,
        Family::Data => &DATA,
        Family::Devops => &DEVOPS,
        Family::Product => &PRODUCT,
        Family::Design => &DESIGN,
        Family::Sales => &SALES,
    }
}

static BACKEND: FamilyInfo = FamilyInfo {
    department: "Engineering",
    job_titles: &[
        ("Backend Engineer", 3),
        ("Senior Backend Engineer", 5),
        ("Staff Software Engineer, Platform", 8),
        ("Software Engineer, Payments", 2),
        ("Senior Rust Engineer", 5),
    ],
    ladder: &[
        "Junior Software Engineer",
        "Software Engineer",
        "Senior Software Engineer",
        "Staff Software Engineer",
    ],
    skills: &[
        "Rust",
        "Go",
        "Java",
        "Python",
        "PostgreSQL",
        "Kafka",
        "Kubernetes",
        "Docker",
        "gRPC",
        "Redis",
        "AWS",
        "Distributed Systems",
        "Microservices",
        "SQL",
    ],
    role_noun: "Backend engineer",
    focus: "building distributed systems",
    disciplines: &[
        "Computer Science",
        "Software Engineering",
        "Computer Engineering",
    ],
    education_req: "Bachelor's degree in Computer Science or related field",
    intro: "We are looking for an engineer to design, build and operate the services behind our core product. You will own APIs end to end, from design reviews to production on-call.",
    bullets: &[
        "Built a high-throughput event pipeline using {s}",
        "Designed and shipped REST and gRPC APIs in {s}",
        "Reduced p99 latency by 40% by reworking the {s} data layer",
        "Migrated a monolith to microservices running on {s}",
        "Led the on-call rotation and improved observability for {s} services",
    ],
};

static FRONTEND: FamilyInfo = FamilyInfo {
    department: "Engineering",
    job_titles: &[
        ("Frontend Engineer", 3),
        ("Senior Frontend Engineer", 5),
        ("Full Stack Engineer", 4),
        ("React Developer", 2),
    ],
    ladder: &[
        "Junior Frontend Developer",
        "Frontend Engineer",
        "Senior Frontend Engineer",
        "Lead Frontend Engineer",
    ],
    skills: &[
        "TypeScript",
        "JavaScript",
        "React",
        "Next.js",
        "CSS",
        "HTML",
        "GraphQL",
        "Accessibility",
        "Webpack",
        "Jest",
        "Vue.js",
        "Node.js",
    ],
    role_noun: "Frontend engineer",
    focus: "building fast, accessible web applications",
    disciplines: &[
        "Computer Science",
        "Information Technology",
        "Interactive Media",
    ],
    education_req: "Bachelor's degree in Computer Science or related field",
    intro: "Join the team that builds the web application our customers use every day. You will turn designs into fast, accessible interfaces and shape our component library.",
    bullets: &[
        "Rebuilt the checkout flow in {s}, raising conversion by 12%",
        "Created a shared component library with {s}",
        "Improved Lighthouse scores across the app using {s}",
        "Introduced end-to-end testing with {s}",
    ],
};

static DATA: FamilyInfo = FamilyInfo {
    department: "Data",
    job_titles: &[
        ("Data Engineer", 3),
        ("Senior Data Scientist", 5),
        ("Machine Learning Engineer", 4),
        ("Analytics Engineer", 2),
    ],
    ladder: &[
        "Data Analyst",
        "Data Engineer",
        "Senior Data Engineer",
        "Principal Data Scientist",
    ],
    skills: &[
        "Python",
        "SQL",
        "Spark",
        "Airflow",
        "dbt",
        "Snowflake",
        "Machine Learning",
        "PyTorch",
        "TensorFlow",
        "Pandas",
        "Kafka",
        "Statistics",
    ],
    role_noun: "Data engineer",
    focus: "building data platforms and machine learning pipelines",
    disciplines: &[
        "Computer Science",
        "Statistics",
        "Mathematics",
        "Data Science",
    ],
    education_req: "Bachelor's degree in Computer Science or related field",
    intro: "Our data team turns raw events into the models and metrics that steer the business. You will build reliable pipelines and put models into production.",
    bullets: &[
        "Built batch and streaming pipelines with {s}",
        "Trained and deployed churn models using {s}",
        "Cut warehouse costs by 30% by tuning {s} jobs",
        "Defined company-wide metrics in {s}",
    ],
};

static DEVOPS: FamilyInfo = FamilyInfo {
    department: "Infrastructure",
    job_titles: &[
        ("Site Reliability Engineer", 4),
        ("DevOps Engineer", 3),
        ("Senior Platform Engineer", 5),
        ("Cloud Infrastructure Engineer", 3),
    ],
    ladder: &[
        "Systems Administrator",
        "DevOps Engineer",
        "Senior Site Reliability Engineer",
        "Principal Platform Engineer",
    ],
    skills: &[
        "Kubernetes",
        "Terraform",
        "AWS",
        "GCP",
        "Docker",
        "Linux",
        "Prometheus",
        "Grafana",
        "Ansible",
        "CI/CD",
        "Helm",
        "Bash",
    ],
    role_noun: "Infrastructure engineer",
    focus: "running reliable cloud platforms",
    disciplines: &[
        "Computer Science",
        "Information Systems",
        "Computer Engineering",
    ],
    education_req: "Bachelor's degree in Computer Science or related field",
    intro: "You will keep our platform fast and available, automate everything that can be automated and help product teams ship safely many times a day.",
    bullets: &[
        "Automated infrastructure provisioning with {s}",
        "Ran production clusters on {s} serving millions of requests a day",
        "Built alerting and SLO dashboards with {s}",
        "Cut deployment time from hours to minutes using {s}",
    ],
};

static PRODUCT: FamilyInfo = FamilyInfo {
    department: "Product",
    job_titles: &[
        ("Product Manager", 3),
        ("Senior Product Manager", 5),
        ("Group Product Manager", 8),
        ("Technical Product Manager", 4),
    ],
    ladder: &[
        "Associate Product Manager",
        "Product Manager",
        "Senior Product Manager",
        "Director of Product",
    ],
    skills: &[
        "Product Strategy",
        "Roadmapping",
        "Agile",
        "Scrum",
        "Jira",
        "SQL",
        "A/B Testing",
        "User Research",
        "Stakeholder Management",
        "Analytics",
    ],
    role_noun: "Product manager",
    focus: "shipping B2B SaaS products",
    disciplines: &["Business Administration", "Economics", "Computer Science"],
    education_req: "Bachelor's degree in Business, Computer Science or related field",
    intro: "As a product manager you will own a product area end to end: discover customer problems, set the roadmap and work with engineering and design to deliver.",
    bullets: &[
        "Owned the roadmap for a product line using {s}",
        "Launched a self-serve onboarding flow guided by {s}",
        "Grew activation by 18% through {s}",
        "Aligned sales, support and engineering with {s}",
    ],
};

static DESIGN: FamilyInfo = FamilyInfo {
    department: "Design",
    job_titles: &[
        ("Product Designer", 3),
        ("Senior Product Designer", 5),
        ("UX Designer", 2),
        ("UX Researcher", 3),
    ],
    ladder: &[
        "Junior Designer",
        "Product Designer",
        "Senior Product Designer",
        "Design Lead",
    ],
    skills: &[
        "Figma",
        "Sketch",
        "User Research",
        "Prototyping",
        "Design Systems",
        "Adobe Creative Suite",
        "Interaction Design",
        "Usability Testing",
        "Wireframing",
    ],
    role_noun: "Product designer",
    focus: "designing intuitive software",
    disciplines: &["Design", "Human-Computer Interaction", "Graphic Design"],
    education_req: "Bachelor's degree in Design, HCI or related field",
    intro: "You will design end-to-end experiences for our web and mobile products, from early research to polished interfaces, and help evolve our design system.",
    bullets: &[
        "Designed the mobile app's navigation using {s}",
        "Ran discovery studies with {s}",
        "Built and maintained the design system in {s}",
        "Shipped a redesign validated through {s}",
    ],
};

static SALES: FamilyInfo = FamilyInfo {
    department: "Sales",
    job_titles: &[
        ("Account Executive", 3),
        ("Senior Account Executive", 5),
        ("Sales Development Representative", 1),
        ("Sales Engineer", 3),
    ],
    ladder: &[
        "Sales Development Representative",
        "Account Executive",
        "Senior Account Executive",
        "Regional Sales Director",
    ],
    skills: &[
        "Salesforce",
        "HubSpot",
        "Negotiation",
        "Lead Generation",
        "Cold Calling",
        "CRM",
        "Pipeline Management",
        "B2B Sales",
        "Account Management",
        "Forecasting",
    ],
    role_noun: "Sales professional",
    focus: "closing B2B deals",
    disciplines: &["Business Administration", "Marketing", "Communications"],
    education_req: "Bachelor's degree in Business or related field",
    intro: "You will own the full sales cycle for mid-market accounts, from first call to signed contract, and work closely with marketing and customer success.",
    bullets: &[
        "Exceeded quota for eight consecutive quarters using {s}",
        "Built a pipeline of 2M in new business through {s}",
        "Managed a book of 60 accounts with {s}",
        "Shortened the sales cycle by 20% through {s}",
    ],
};

/// The job (by index) whose ad carries coded and exclusionary wording, so the
/// job-description checks have something to find in every tenant of 2+ jobs.
pub const CODED_AD_JOB: usize = 1;
pub const CODED_AD_SENTENCE: &str = "We are a young and energetic team of rockstars: \
    competitive, aggressive, fearless and driven to dominate our market.";

const FIRST_NAMES: &[&str] = &[
    "Jane", "John", "Maria", "Wei", "Aisha", "Carlos", "Priya", "Liam", "Olivia", "Noah", "Emma",
    "Mateo", "Sofia", "Lucas", "Amara", "Yuki", "Hannah", "Omar", "Elena", "David", "Fatima",
    "Jonas", "Chloe", "Ravi", "Grace", "Tomasz", "Ines", "Kwame", "Leila", "Ethan", "Mei", "Diego",
    "Sara", "Felix", "Nadia", "Arjun", "Zoe", "Samuel", "Ingrid", "Hugo",
];

const LAST_NAMES: &[&str] = &[
    "Doe",
    "Smith",
    "Garcia",
    "Chen",
    "Khan",
    "Rodriguez",
    "Patel",
    "Nguyen",
    "Johnson",
    "Kim",
    "Muller",
    "Rossi",
    "Silva",
    "Okafor",
    "Tanaka",
    "Cohen",
    "Haddad",
    "Novak",
    "Brown",
    "Ahmed",
    "Larsen",
    "Dubois",
    "Mensah",
    "Ivanova",
    "Walker",
    "Santos",
    "Kowalski",
    "Fischer",
    "Lopez",
    "Singh",
    "Murphy",
    "Nakamura",
    "Andersson",
    "Costa",
    "Bauer",
    "Wright",
];

const STREETS: &[&str] = &[
    "Elm St",
    "Oak Ave",
    "Maple Dr",
    "Pine Rd",
    "Cedar Ln",
    "Lake View Blvd",
    "Market St",
    "Mission St",
    "Main St",
    "Broadway",
];

const CITIES: &[(&str, &str)] = &[
    ("Springfield", "IL"),
    ("Austin", "TX"),
    ("Seattle", "WA"),
    ("Denver", "CO"),
    ("Boston", "MA"),
    ("Portland", "OR"),
    ("Chicago", "IL"),
    ("Atlanta", "GA"),
    ("San Francisco", "CA"),
    ("New York", "NY"),
];

const COMPANIES: &[&str] = &[
    "Acme Corp",
    "Initech",
    "Globex",
    "Umbrella Systems",
    "Stark Industries",
    "Hooli",
    "Vandelay Industries",
    "Wayne Enterprises",
    "Cyberdyne",
    "Soylent Labs",
    "Pied Piper",
    "Massive Dynamic",
    "Tyrell Tech",
    "Wonka Industries",
    "Aperture Science",
    "Northwind Traders",
    "Contoso",
    "Fabrikam",
    "Blue Sun",
    "Oscorp",
];

const SCHOOLS: &[&str] = &[
    "State University",
    "Northern Institute of Technology",
    "Lakeside College",
    "University of Springfield",
    "Pacific Coast University",
    "Eastern Polytechnic",
    "Midwest State University",
    "Riverside Community College",
];

const HIGH_SCHOOLS: &[&str] = &[
    "Lincoln High School",
    "Roosevelt High School",
    "Central High School",
];

const LOCATIONS: &[&str] = &[
    "New York, NY",
    "San Francisco, CA",
    "Austin, TX",
    "Remote (US)",
    "Seattle, WA",
    "Chicago, IL",
];

/// Generic fallback skills anyone might list.
const GENERIC_SKILLS: &[&str] = &[
    "Microsoft Excel",
    "Communication",
    "Project Management",
    "Customer Service",
    "Public Speaking",
];

/// The year resumes are written in; "present" means up to this year.
pub const CURRENT_YEAR: i32 = 2026;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Open,
    Closed,
    Draft,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Open => "open",
            JobState::Closed => "closed",
            JobState::Draft => "draft",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Department {
    pub id: u64,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Office {
    pub id: u64,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct GenJob {
    pub id: u64,
    /// Id of the job's single public post.
    pub post_id: u64,
    pub title: String,
    pub family: Family,
    pub department_id: u64,
    pub office_id: u64,
    pub location: String,
    pub employment_type: &'static str,
    pub state: JobState,
    pub intro: String,
    pub responsibilities: Vec<String>,
    /// Requirement lines, including the years and education lines.
    pub requirements: Vec<String>,
    pub nice_to_have: Vec<String>,
    pub required_skills: Vec<String>,
    pub nice_skills: Vec<String>,
    pub min_years: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl GenJob {
    /// The description as plain paragraphs.
    pub fn description_text(&self) -> String {
        let mut s = format!("{}\n\nWhat you will do:\n", self.intro);
        for r in &self.responsibilities {
            s.push_str(&format!("- {r}\n"));
        }
        s.push_str("\nRequirements:\n");
        for r in &self.requirements {
            s.push_str(&format!("- {r}\n"));
        }
        s.push_str("\nNice to have:\n");
        for r in &self.nice_to_have {
            s.push_str(&format!("- {r}\n"));
        }
        s
    }

    /// The description as job-post HTML.
    pub fn description_html(&self) -> String {
        let li = |items: &[String]| -> String {
            items
                .iter()
                .map(|i| format!("<li>{}</li>", html_escape(i)))
                .collect()
        };
        format!(
            "<p>{}</p><h3>What you will do</h3><ul>{}</ul><h3>Requirements</h3><ul>{}</ul><h3>Nice to have</h3><ul>{}</ul>",
            html_escape(&self.intro),
            li(&self.responsibilities),
            li(&self.requirements),
            li(&self.nice_to_have)
        )
    }
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[derive(Clone, Debug)]
pub struct GenExperience {
    pub title: String,
    pub company: String,
    pub start_year: i32,
    /// `None` = present.
    pub end_year: Option<i32>,
    pub bullets: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct GenEducation {
    /// "Bachelor of Science", "MBA", "High School Diploma", ...
    pub degree: String,
    pub discipline: Option<String>,
    pub school: String,
    pub start_year: i32,
    pub end_year: i32,
}

#[derive(Clone, Debug)]
pub struct GenCandidate {
    pub id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub title: String,
    pub company: String,
    pub summary: String,
    pub experience: Vec<GenExperience>,
    pub education: Vec<GenEducation>,
    pub skills: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// The kind of file the resume is uploaded as (see [`ResumeRule`]).
    pub resume_file: ResumeFile,
    /// Personal data erased on request (see [`Tenant::anonymize_candidate`]).
    pub anonymized: bool,
}

impl GenCandidate {
    pub fn address(&self) -> String {
        format!("{}, {}, {}", self.street, self.city, self.state)
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// Resume file name, e.g. `Jane_Doe_Resume.pdf`.
    pub fn resume_filename(&self) -> String {
        format!(
            "{}_{}_Resume.{}",
            self.first_name,
            self.last_name,
            self.resume_file.extension()
        )
    }

    /// The resume file's bytes, in its kind's format.
    pub fn resume_bytes(&self) -> Vec<u8> {
        super::documents::render(self)
    }

    /// The resume in the plain-text format the resume parser reads.
    pub fn resume_text(&self) -> String {
        let mut s = format!(
            "{}\n{} | {} | {}\n\nSUMMARY\n{}\n\nEXPERIENCE\n",
            self.full_name(),
            self.email,
            self.phone,
            self.address(),
            self.summary
        );
        for e in &self.experience {
            let end = e
                .end_year
                .map(|y| y.to_string())
                .unwrap_or_else(|| "present".into());
            s.push_str(&format!(
                "{}, {} ({} - {})\n",
                e.title, e.company, e.start_year, end
            ));
            for b in &e.bullets {
                s.push_str(&format!("- {b}\n"));
            }
        }
        s.push_str("\nEDUCATION\n");
        for e in &self.education {
            match &e.discipline {
                Some(d) => s.push_str(&format!(
                    "{} in {}, {} ({} - {})\n",
                    e.degree, d, e.school, e.start_year, e.end_year
                )),
                None => s.push_str(&format!(
                    "{}, {} ({} - {})\n",
                    e.degree, e.school, e.start_year, e.end_year
                )),
            }
        }
        s.push_str("\nSKILLS\n");
        s.push_str(&self.skills.join(", "));
        s.push('\n');
        s
    }
}

/// Application status, vendor neutral (Greenhouse: in_process|rejected|hired|converted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppState {
    Active,
    Rejected,
    Hired,
    Converted,
}

pub const STAGES: &[&str] = &[
    "Application Review",
    "Recruiter Phone Screen",
    "Technical Interview",
    "Onsite Interview",
    "Offer",
];

/// How well a candidate was generated to fit the job they first applied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    Strong,
    Medium,
    Poor,
}

#[derive(Clone, Debug)]
pub struct GenApplication {
    pub id: u64,
    pub candidate_id: u64,
    pub job_id: u64,
    pub state: AppState,
    /// Index into [`STAGES`].
    pub stage: usize,
    pub fit: Fit,
    /// The resume attachment's id.
    pub attachment_id: u64,
    pub attachment_created_at: DateTime<Utc>,
    pub attachment_updated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// Why a recruiter rejected it through the control API; `None` for the
    /// generated ones (each vendor derives a reason for those).
    pub rejection: Option<RejectReason>,
}

/// A rejection reason, vendor neutral; each vendor renders its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The company rejected the candidate.
    Underqualified,
    /// The candidate withdrew.
    Withdrew,
    /// Neither: the position was filled.
    PositionFilled,
}

impl RejectReason {
    pub const ALL: [RejectReason; 3] = [
        RejectReason::Underqualified,
        RejectReason::Withdrew,
        RejectReason::PositionFilled,
    ];

    /// The control API's name: `underqualified`, `withdrew`, `position_filled`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Underqualified => "underqualified",
            RejectReason::Withdrew => "withdrew",
            RejectReason::PositionFilled => "position_filled",
        }
    }

    pub fn parse(s: &str) -> Option<RejectReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A whole generated tenant. Vectors are sorted by id ascending.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub departments: Vec<Department>,
    pub offices: Vec<Office>,
    pub jobs: Vec<GenJob>,
    pub candidates: Vec<GenCandidate>,
    pub applications: Vec<GenApplication>,
    /// Application indices by candidate id.
    by_candidate: HashMap<u64, Vec<usize>>,
    rng: StdRng,
    /// Which resume files candidates have, those added later too.
    resume_rule: ResumeRule,
}

/// The first moment of generated history; all generated timestamps lie in 2025,
/// so anything the sandbox changes "now" sorts after them.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Truncates to milliseconds, the precision timestamps are rendered with, so
/// that filters round-trip exactly.
pub fn millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// "now" at the precision timestamps are rendered with.
pub fn now() -> DateTime<Utc> {
    millis(Utc::now())
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn sample_strs(rng: &mut StdRng, items: &[&str], n: usize) -> Vec<String> {
    items
        .choose_multiple(rng, n.min(items.len()))
        .map(|s| s.to_string())
        .collect()
}

impl Tenant {
    /// Generates a tenant. `jobs` is at least 1; applications go to open and
    /// closed jobs only.
    pub fn generate(seed: u64, jobs: usize, applications: usize) -> Tenant {
        let mut rng = StdRng::seed_from_u64(seed);
        let departments: Vec<Department> = [
            "Engineering",
            "Data",
            "Infrastructure",
            "Product",
            "Design",
            "Sales",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| Department {
            id: 25_900 + i as u64 * 7,
            name: n.to_string(),
        })
        .collect();
        let offices: Vec<Office> = LOCATIONS
            .iter()
            .enumerate()
            .map(|(i, n)| Office {
                id: 47_000 + i as u64 * 3,
                name: n.to_string(),
            })
            .collect();

        let njobs = jobs.max(1);
        let mut gen_jobs = Vec::with_capacity(njobs);
        let mut job_id = 4_000u64;
        for i in 0..njobs {
            job_id += rng.gen_range(1..40);
            let family = FAMILIES[i % FAMILIES.len()];
            // Mostly open; every 7th closed, every 11th a draft.
            let state = if i % 11 == 10 {
                JobState::Draft
            } else if i % 7 == 6 {
                JobState::Closed
            } else {
                JobState::Open
            };
            let mut job = gen_job(&mut rng, job_id, family, state, &departments, &offices);
            if i == CODED_AD_JOB {
                // No randomness: the other jobs' text and the rng stream stay as they were.
                job.intro.push(' ');
                job.intro.push_str(CODED_AD_SENTENCE);
            }
            gen_jobs.push(job);
        }
        let mut t = Tenant {
            departments,
            offices,
            jobs: gen_jobs,
            candidates: Vec::new(),
            applications: Vec::with_capacity(applications),
            by_candidate: HashMap::new(),
            rng,
            resume_rule: ResumeRule::default(),
        };
        // Spread application history across 2025 (days 100..360), id order = time order.
        let start = epoch() + Duration::days(100);
        let span_ms: i64 = 260 * 24 * 3600 * 1000;
        for i in 0..applications {
            let at = start
                + Duration::milliseconds(span_ms * i as i64 / applications.max(1) as i64)
                + Duration::milliseconds(t.rng.gen_range(0..60_000));
            let updated = at + Duration::minutes(t.rng.gen_range(0..(14 * 24 * 60)));
            let updated = updated.min(epoch() + Duration::days(364));
            t.add_application_at(millis(at), millis(updated));
        }
        t
    }

    /// Sets which resume files candidates have (the file kinds do not draw
    /// from the generator, so the rest of the tenant is unchanged).
    pub fn set_resume_rule(&mut self, rule: ResumeRule) {
        self.resume_rule = rule;
        for c in &mut self.candidates {
            c.resume_file = rule.file_for(c.id);
        }
    }

    /// Jobs applications may go to (not drafts).
    fn applicable_jobs(&self) -> Vec<usize> {
        let v: Vec<usize> = self
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| j.state != JobState::Draft)
            .map(|(i, _)| i)
            .collect();
        if v.is_empty() {
            (0..self.jobs.len()).collect()
        } else {
            v
        }
    }

    fn open_jobs(&self) -> Vec<usize> {
        let v: Vec<usize> = self
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| j.state == JobState::Open)
            .map(|(i, _)| i)
            .collect();
        if v.is_empty() {
            self.applicable_jobs()
        } else {
            v
        }
    }

    fn next_app_ids(&mut self) -> (u64, u64) {
        let (app, att) = self
            .applications
            .last()
            .map(|a| (a.id, a.attachment_id))
            .unwrap_or((90_000_000, 300_000_000));
        (
            app + self.rng.gen_range(1..20),
            att + self.rng.gen_range(1..20),
        )
    }

    fn add_application_at(&mut self, at: DateTime<Utc>, updated: DateTime<Utc>) -> u64 {
        let jobs = self.applicable_jobs();
        self.add_application_to(at, updated, &jobs)
    }

    fn add_application_to(
        &mut self,
        at: DateTime<Utc>,
        updated: DateTime<Utc>,
        jobs: &[usize],
    ) -> u64 {
        let job_idx = *pick(&mut self.rng, jobs);
        // About one application in five comes from a returning candidate.
        let reuse = !self.candidates.is_empty() && self.rng.gen_bool(0.2);
        let (cand_idx, job_idx, fit) = if reuse {
            let ci = self.rng.gen_range(0..self.candidates.len());
            let cid = self.candidates[ci].id;
            // Prefer a job this candidate has not applied to yet.
            let applied: Vec<u64> = self
                .by_candidate
                .get(&cid)
                .map(|v| v.iter().map(|&i| self.applications[i].job_id).collect())
                .unwrap_or_default();
            let mut ji = job_idx;
            for _ in 0..4 {
                if !applied.contains(&self.jobs[ji].id) {
                    break;
                }
                ji = *pick(&mut self.rng, jobs);
            }
            (ci, ji, Fit::Medium)
        } else {
            let fit = match self.rng.gen_range(0..100) {
                0..=29 => Fit::Strong,
                30..=64 => Fit::Medium,
                _ => Fit::Poor,
            };
            let cid = self.candidates.last().map(|c| c.id).unwrap_or(50_000_000)
                + self.rng.gen_range(1..10);
            let created = millis(at - Duration::minutes(self.rng.gen_range(0..30)));
            let idx = self.candidates.len();
            let mut c = gen_candidate(&mut self.rng, cid, idx, &self.jobs[job_idx], fit, created);
            c.resume_file = self.resume_rule.file_for(cid);
            self.candidates.push(c);
            (idx, job_idx, fit)
        };
        let (id, attachment_id) = self.next_app_ids();
        let state = match self.rng.gen_range(0..100) {
            0..=74 => AppState::Active,
            75..=91 => AppState::Rejected,
            92..=96 => AppState::Hired,
            _ => AppState::Converted,
        };
        let stage = match state {
            AppState::Hired => STAGES.len() - 1,
            _ => self.rng.gen_range(0..STAGES.len() - 1),
        };
        let c = &mut self.candidates[cand_idx];
        self.by_candidate
            .entry(c.id)
            .or_default()
            .push(self.applications.len());
        if updated > c.updated_at {
            c.updated_at = updated;
        }
        if updated > c.last_activity_at {
            c.last_activity_at = updated;
        }
        self.applications.push(GenApplication {
            id,
            candidate_id: c.id,
            job_id: self.jobs[job_idx].id,
            state,
            stage,
            fit,
            attachment_id,
            attachment_created_at: at,
            attachment_updated_at: at,
            created_at: at,
            updated_at: updated,
            last_activity_at: updated,
            rejection: None,
        });
        id
    }

    /// Adds `count` new applications to open jobs, created now. Returns their ids.
    pub fn add_applications(&mut self, count: usize, now: DateTime<Utc>) -> Vec<u64> {
        let jobs = self.open_jobs();
        let now = millis(now);
        (0..count)
            .map(|_| self.add_application_to(now, now, &jobs))
            .collect()
    }

    /// Deletes an application (the ATS user removed it). Returns its
    /// (candidate id, deleted at) or `None` for an unknown id. The candidate
    /// stays: it may have other applications.
    pub fn delete_application(&mut self, app_id: u64) -> Option<u64> {
        let ai = self.application_index(app_id)?;
        let a = self.applications.remove(ai);
        // Indices after `ai` moved down by one.
        self.by_candidate.clear();
        for (i, app) in self.applications.iter().enumerate() {
            self.by_candidate
                .entry(app.candidate_id)
                .or_default()
                .push(i);
        }
        Some(a.candidate_id)
    }

    /// Picks up to `count` distinct applications, deterministically from the
    /// tenant's own random stream.
    pub fn pick_applications(&mut self, count: usize) -> Vec<u64> {
        let n = count.min(self.applications.len());
        let mut idx: Vec<usize> = (0..self.applications.len()).collect();
        let (chosen, _) = idx.partial_shuffle(&mut self.rng, n);
        chosen.iter().map(|&i| self.applications[i].id).collect()
    }

    /// Changes the resume behind an application (adds a skill the job asks
    /// for, or a generic one) and bumps candidate, application and
    /// attachment timestamps. Returns false for an unknown application.
    pub fn touch_application(&mut self, app_id: u64, now: DateTime<Utc>) -> bool {
        let now = millis(now);
        let Some(ai) = self.application_index(app_id) else {
            return false;
        };
        let (cid, jid) = (
            self.applications[ai].candidate_id,
            self.applications[ai].job_id,
        );
        let wanted: Vec<String> = self
            .job(jid)
            .map(|j| {
                j.required_skills
                    .iter()
                    .chain(j.nice_skills.iter())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let Some(ci) = self.candidate_index(cid) else {
            return false;
        };
        let c = &mut self.candidates[ci];
        let new_skill = wanted
            .into_iter()
            .chain(GENERIC_SKILLS.iter().map(|s| s.to_string()))
            .find(|s| !c.skills.contains(s));
        match new_skill {
            Some(s) => c.skills.push(s),
            // Every skill is already listed: change the summary instead.
            None => c.summary.push_str(" Recently completed further training."),
        }
        c.updated_at = now;
        c.last_activity_at = now;
        let idxs = self.by_candidate.get(&cid).cloned().unwrap_or_default();
        for i in idxs {
            let a = &mut self.applications[i];
            a.attachment_updated_at = now;
            if a.id == app_id {
                a.updated_at = now;
                a.last_activity_at = now;
            }
        }
        true
    }

    pub fn job(&self, id: u64) -> Option<&GenJob> {
        self.jobs
            .binary_search_by_key(&id, |j| j.id)
            .ok()
            .map(|i| &self.jobs[i])
    }

    pub fn candidate_index(&self, id: u64) -> Option<usize> {
        self.candidates.binary_search_by_key(&id, |c| c.id).ok()
    }

    pub fn candidate(&self, id: u64) -> Option<&GenCandidate> {
        self.candidate_index(id).map(|i| &self.candidates[i])
    }

    pub fn application_index(&self, id: u64) -> Option<usize> {
        self.applications.binary_search_by_key(&id, |a| a.id).ok()
    }

    pub fn application(&self, id: u64) -> Option<&GenApplication> {
        self.application_index(id).map(|i| &self.applications[i])
    }

    pub fn department_name(&self, id: u64) -> Option<&str> {
        self.departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.as_str())
    }
}

fn gen_job(
    rng: &mut StdRng,
    id: u64,
    family: Family,
    state: JobState,
    departments: &[Department],
    offices: &[Office],
) -> GenJob {
    let fi = info(family);
    let &(title, min_years) = pick(rng, fi.job_titles);
    let nreq = rng.gen_range(4..=6);
    let mut pool: Vec<&str> = fi.skills.to_vec();
    pool.shuffle(rng);
    let required: Vec<String> = pool.iter().take(nreq).map(|s| s.to_string()).collect();
    let nice: Vec<String> = pool
        .iter()
        .skip(nreq)
        .take(rng.gen_range(2..=3))
        .map(|s| s.to_string())
        .collect();
    let mut requirements = vec![format!(
        "{min_years}+ years of experience as a {}",
        fi.role_noun.to_lowercase()
    )];
    // Name the required skills in a few differently worded lines.
    let mut chunks = required.chunks(2);
    if let Some(c) = chunks.next() {
        requirements.push(format!("Strong proficiency in {}", c.join(" and ")));
    }
    if let Some(c) = chunks.next() {
        requirements.push(format!("Hands-on experience with {}", c.join(" and ")));
    }
    for c in chunks {
        requirements.push(format!("Experience with {}", c.join(" and ")));
    }
    requirements.push(fi.education_req.to_string());
    let nice_to_have: Vec<String> = nice
        .iter()
        .map(|s| format!("Experience with {s}"))
        .collect();
    let responsibilities = vec![
        format!(
            "Work with a cross-functional team on our {} roadmap",
            fi.department.to_lowercase()
        ),
        "Mentor teammates and take part in design reviews".to_string(),
        format!(
            "Own outcomes in production, using {} day to day",
            required[0]
        ),
    ];
    let department_id = departments
        .iter()
        .find(|d| d.name == fi.department)
        .map(|d| d.id)
        .unwrap_or(0);
    let office = pick(rng, offices);
    let created_at = millis(epoch() + Duration::minutes(rng.gen_range(0..90 * 24 * 60)));
    let updated_at = millis(created_at + Duration::minutes(rng.gen_range(0..5 * 24 * 60)));
    GenJob {
        id,
        post_id: id + 100_000,
        title: title.to_string(),
        family,
        department_id,
        office_id: office.id,
        location: office.name.clone(),
        employment_type: if rng.gen_bool(0.9) {
            "Full-Time"
        } else {
            "Contract"
        },
        state,
        intro: fi.intro.to_string(),
        responsibilities,
        requirements,
        nice_to_have,
        required_skills: required,
        nice_skills: nice,
        min_years,
        created_at,
        updated_at,
    }
}

fn other_family(rng: &mut StdRng, f: Family) -> Family {
    loop {
        let g = *pick(rng, &FAMILIES);
        if g != f {
            return g;
        }
    }
}

fn gen_candidate(
    rng: &mut StdRng,
    id: u64,
    idx: usize,
    job: &GenJob,
    fit: Fit,
    created_at: DateTime<Utc>,
) -> GenCandidate {
    let first = pick(rng, FIRST_NAMES).to_string();
    let last = pick(rng, LAST_NAMES).to_string();
    let domain = pick(rng, &["example.com", "example.org", "example.net"]);
    let email = format!(
        "{}.{}{}@{}",
        first.to_lowercase(),
        last.to_lowercase(),
        idx,
        domain
    );
    let phone = format!("+1 555 {:04}", rng.gen_range(0..10_000));
    let street = format!("{} {}", rng.gen_range(1..999), pick(rng, STREETS));
    let &(city, state) = pick(rng, CITIES);

    let family = match fit {
        Fit::Strong => job.family,
        Fit::Medium => {
            if rng.gen_bool(0.75) {
                job.family
            } else {
                other_family(rng, job.family)
            }
        }
        Fit::Poor => other_family(rng, job.family),
    };
    let fi = info(family);
    let min = job.min_years as i64;
    let years: i64 = match fit {
        Fit::Strong => min + rng.gen_range(0..=5),
        Fit::Medium => (min + rng.gen_range(-2..=2)).max(1),
        Fit::Poor => rng.gen_range(0..=min.max(1)),
    };

    // Skills: a fit candidate covers what the job asks for; others their own family's.
    let mut skills: Vec<String> = Vec::new();
    match fit {
        Fit::Strong => {
            let drop = rng.gen_range(0..=1);
            skills.extend(job.required_skills.iter().skip(drop).cloned());
            skills.extend(job.nice_skills.iter().take(rng.gen_range(0..=2)).cloned());
        }
        Fit::Medium => {
            let n = job.required_skills.len() / 2;
            let mut req = job.required_skills.clone();
            req.shuffle(rng);
            skills.extend(req.into_iter().take(n));
        }
        Fit::Poor => {}
    }
    let n_own = rng.gen_range(2..=5);
    for s in sample_strs(rng, fi.skills, n_own) {
        if !skills.contains(&s) {
            skills.push(s);
        }
    }
    if fit == Fit::Poor && rng.gen_bool(0.5) {
        skills.push(pick(rng, GENERIC_SKILLS).to_string());
    }

    // Employment history, most recent first, covering `years` years.
    let mut experience = Vec::new();
    let mut end: Option<i32> = None;
    let mut remaining = years;
    let career_start = CURRENT_YEAR - years as i32;
    while remaining > 0 {
        let len = rng.gen_range(1..=4).min(remaining);
        let stop = end.unwrap_or(CURRENT_YEAR);
        let start = stop - len as i32;
        let seniority_years = (start - career_start) as usize + len as usize;
        let rung = (seniority_years / 3).min(fi.ladder.len() - 1);
        let company = pick(rng, COMPANIES).to_string();
        let n_bullets = rng.gen_range(1..=2);
        let bullets = (0..n_bullets)
            .map(|_| {
                let s = pick(rng, &skills).clone();
                pick(rng, fi.bullets).replace("{s}", &s)
            })
            .collect();
        experience.push(GenExperience {
            title: fi.ladder[rung].to_string(),
            company,
            start_year: start,
            end_year: end,
            bullets,
        });
        end = Some(start);
        remaining -= len;
    }
    let (title, company) = experience
        .first()
        .map(|e| (e.title.clone(), e.company.clone()))
        .unwrap_or_else(|| ("Student".to_string(), pick(rng, SCHOOLS).to_string()));

    // Education ends when the career starts.
    let grad = career_start;
    let mut education = Vec::new();
    let discipline = pick(rng, fi.disciplines).to_string();
    let level_roll = rng.gen_range(0..100);
    let level = match fit {
        Fit::Strong => {
            if level_roll < 30 {
                3
            } else {
                2
            }
        }
        Fit::Medium => {
            if level_roll < 70 {
                2
            } else {
                1
            }
        }
        Fit::Poor => {
            if level_roll < 40 {
                0
            } else if level_roll < 70 {
                1
            } else {
                2
            }
        }
    };
    let bachelor = if matches!(family, Family::Design | Family::Sales | Family::Product) {
        "Bachelor of Arts"
    } else {
        "Bachelor of Science"
    };
    match level {
        0 => education.push(GenEducation {
            degree: "High School Diploma".into(),
            discipline: None,
            school: pick(rng, HIGH_SCHOOLS).to_string(),
            start_year: grad - 4,
            end_year: grad,
        }),
        1 => education.push(GenEducation {
            degree: "Associate of Applied Science".into(),
            discipline: Some(discipline),
            school: "Riverside Community College".into(),
            start_year: grad - 2,
            end_year: grad,
        }),
        _ => {
            let school = pick(rng, SCHOOLS).to_string();
            if level == 3 {
                let (deg, disc) = match family {
                    Family::Product | Family::Sales => ("MBA".to_string(), None),
                    _ if rng.gen_bool(0.2) => ("PhD".to_string(), Some(discipline.clone())),
                    _ => ("Master of Science".to_string(), Some(discipline.clone())),
                };
                education.push(GenEducation {
                    degree: deg,
                    discipline: disc,
                    school: pick(rng, SCHOOLS).to_string(),
                    start_year: grad - 2,
                    end_year: grad,
                });
                education.push(GenEducation {
                    degree: bachelor.into(),
                    discipline: Some(discipline),
                    school,
                    start_year: grad - 6,
                    end_year: grad - 2,
                });
            } else {
                education.push(GenEducation {
                    degree: bachelor.into(),
                    discipline: Some(discipline),
                    school,
                    start_year: grad - 4,
                    end_year: grad,
                });
            }
        }
    }

    let summary = if years == 0 {
        format!(
            "Aspiring {} looking for a first role in {}.",
            fi.role_noun.to_lowercase(),
            fi.focus
        )
    } else {
        format!(
            "{} with {} years of experience {}.",
            fi.role_noun, years, fi.focus
        )
    };
    GenCandidate {
        id,
        first_name: first,
        last_name: last,
        email,
        phone,
        street,
        city: city.to_string(),
        state: state.to_string(),
        title,
        company,
        summary,
        experience,
        education,
        skills,
        created_at,
        updated_at: created_at,
        last_activity_at: created_at,
        resume_file: ResumeFile::default(),
        anonymized: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data() {
        let a = Tenant::generate(7, 10, 300);
        let b = Tenant::generate(7, 10, 300);
        assert_eq!(a.applications.len(), 300);
        for (x, y) in a.candidates.iter().zip(&b.candidates) {
            assert_eq!(x.resume_text(), y.resume_text());
            assert_eq!(x.id, y.id);
            assert_eq!(x.created_at, y.created_at);
        }
        for (x, y) in a.applications.iter().zip(&b.applications) {
            assert_eq!(
                (x.id, x.candidate_id, x.job_id),
                (y.id, y.candidate_id, y.job_id)
            );
            assert_eq!(x.updated_at, y.updated_at);
        }
        for (x, y) in a.jobs.iter().zip(&b.jobs) {
            assert_eq!(x.description_html(), y.description_html());
        }
        let c = Tenant::generate(8, 10, 300);
        assert_ne!(a.candidates[0].resume_text(), c.candidates[0].resume_text());
    }

    #[test]
    fn ids_ascending_and_consistent() {
        let t = Tenant::generate(1, 15, 2_000);
        assert!(t.jobs.windows(2).all(|w| w[0].id < w[1].id));
        assert!(t.candidates.windows(2).all(|w| w[0].id < w[1].id));
        assert!(t.applications.windows(2).all(|w| w[0].id < w[1].id));
        assert!(
            t.applications
                .windows(2)
                .all(|w| w[0].attachment_id < w[1].attachment_id)
        );
        for a in &t.applications {
            assert!(t.candidate(a.candidate_id).is_some());
            let j = t.job(a.job_id).expect("job");
            assert_ne!(j.state, JobState::Draft);
            assert!(a.updated_at >= a.created_at);
            assert!(a.updated_at < epoch() + Duration::days(366));
        }
        let emails: std::collections::HashSet<_> = t.candidates.iter().map(|c| &c.email).collect();
        assert_eq!(emails.len(), t.candidates.len());
    }

    #[test]
    fn resume_follows_the_format() {
        let t = Tenant::generate(3, 7, 200);
        for c in &t.candidates {
            let r = c.resume_text();
            let lines: Vec<&str> = r.lines().collect();
            assert_eq!(lines[0], c.full_name());
            for h in ["SUMMARY", "EXPERIENCE", "EDUCATION", "SKILLS"] {
                assert!(lines.contains(&h), "{h} missing in\n{r}");
            }
            for e in &c.experience {
                assert!(!e.title.contains(','), "{}", e.title);
                assert!(!e.company.contains(','));
            }
            assert!(!c.skills.is_empty());
        }
        let j = &t.jobs[0];
        assert!(
            j.requirements
                .iter()
                .any(|r| r.contains("+ years of experience"))
        );
        assert!(
            j.requirements
                .iter()
                .any(|r| r.contains("Bachelor's degree"))
        );
    }

    #[test]
    fn ten_thousand_is_fast_enough() {
        let t = Tenant::generate(42, 50, 10_000);
        assert_eq!(t.applications.len(), 10_000);
        let fits = |f| t.applications.iter().filter(|a| a.fit == f).count();
        assert!(fits(Fit::Strong) > 1_000 && fits(Fit::Poor) > 1_000);
    }

    #[test]
    fn touch_changes_resume_and_timestamps() {
        let mut t = Tenant::generate(5, 5, 50);
        let id = t.applications[10].id;
        let cid = t.applications[10].candidate_id;
        let before = t
            .candidate(cid)
            .map(|c| c.resume_text())
            .unwrap_or_default();
        let now = Utc::now();
        assert!(t.touch_application(id, now));
        let c = t.candidate(cid).expect("candidate");
        assert_ne!(before, c.resume_text());
        assert_eq!(c.updated_at, millis(now));
        assert_eq!(t.applications[10].updated_at, millis(now));
        assert!(!t.touch_application(1, now));
        let new = t.add_applications(3, now);
        assert_eq!(new.len(), 3);
        assert!(t.applications.windows(2).all(|w| w[0].id < w[1].id));
    }
}

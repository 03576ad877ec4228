//! Parsing of plain-text resumes into structured data.
//!
//! The parser is lenient: headings are matched case-insensitively, year ranges
//! accept hyphens and dashes, "present"/"current"/"now" mean an open position,
//! and a line it cannot make sense of is skipped rather than failing the whole
//! resume. The header (name, contact) is deliberately not parsed: nothing
//! downstream may depend on personal data.

use super::{Education, EducationLevel, StructuredResume, WorkExperience};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Header,
    Summary,
    Experience,
    Education,
    Skills,
    Other,
}

/// Parses a plain-text resume. Never fails; unknown content is ignored.
pub fn parse_resume(text: &str) -> StructuredResume {
    let mut out = StructuredResume::default();
    let mut section = Section::Header;
    let mut seen_skills = std::collections::HashSet::new();

    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(s) = heading(line) {
            section = s;
            continue;
        }
        match section {
            Section::Header | Section::Summary | Section::Other => {}
            Section::Experience => {
                if let Some(w) = parse_experience_line(line) {
                    out.work_experience.push(w);
                }
            }
            Section::Education => {
                if let Some(e) = parse_education_line(line) {
                    out.education.push(e);
                }
            }
            Section::Skills => {
                for skill in split_skills(line) {
                    if seen_skills.insert(skill.to_lowercase()) {
                        out.skills.push(skill);
                    }
                }
            }
        }
    }
    out
}

/// Recognises a section heading ("EXPERIENCE", "Work history:", "## Skills").
pub(crate) fn heading(line: &str) -> Option<Section> {
    if line.len() > 40 {
        return None;
    }
    let norm = line
        .trim_matches(|c: char| c == '#' || c == '*' || c == ':' || c == '=' || c.is_whitespace())
        .to_lowercase();
    let section = match norm.as_str() {
        "summary" | "profile" | "professional summary" | "objective" | "about" | "about me" => {
            Section::Summary
        }
        "experience"
        | "work experience"
        | "professional experience"
        | "employment"
        | "employment history"
        | "work history"
        | "career history"
        | "relevant experience" => Section::Experience,
        "education" | "education and training" | "academic background" | "qualifications" => {
            Section::Education
        }
        "skills" | "technical skills" | "core skills" | "key skills" | "skills and tools"
        | "skills & tools" | "technologies" | "core competencies" => Section::Skills,
        "projects" | "certifications" | "certificates" | "languages" | "interests" | "awards"
        | "publications" | "references" | "volunteering" | "hobbies" => Section::Other,
        _ => return None,
    };
    Some(section)
}

/// A trailing `(YYYY - YYYY|present)` and the text before it.
/// End `None` means current. Months and other words around the years are tolerated.
pub(crate) fn split_year_range(line: &str) -> Option<(&str, i32, Option<i32>)> {
    let line = line.trim_end();
    let body = line.strip_suffix(')')?;
    let open = body.rfind('(')?;
    let (head, range) = (&body[..open], &body[open + 1..]);
    let (start, end) = parse_year_range(range)?;
    Some((head.trim(), start, end))
}

/// Parses "2015 - 2019", "2019 – Present", "Jan 2019 to current".
pub(crate) fn parse_year_range(range: &str) -> Option<(i32, Option<i32>)> {
    let lower = range.to_lowercase();
    let sep = ['-', '–', '—'];
    let (from, to) = match lower.find(sep) {
        Some(i) => {
            let sep_len = lower[i..].chars().next().map_or(1, char::len_utf8);
            (&lower[..i], &lower[i + sep_len..])
        }
        None => lower.split_once(" to ")?,
    };
    let start = find_year(from)?;
    let to = to.trim();
    let end = if ["present", "current", "now", "today", "ongoing"]
        .iter()
        .any(|w| to.contains(w))
    {
        None
    } else {
        let end = find_year(to)?;
        if end < start {
            return None;
        }
        Some(end)
    };
    Some((start, end))
}

fn find_year(s: &str) -> Option<i32> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|t| t.len() == 4)
        .filter_map(|t| t.parse::<i32>().ok())
        .find(|y| (1900..=2200).contains(y))
}

pub(crate) fn is_bullet(line: &str) -> bool {
    line.starts_with(['-', '•', '*', '·', '–', '—'])
}

/// `Title, Company (YYYY - YYYY|present)`, or `Title at Company (...)`.
pub(crate) fn parse_experience_line(line: &str) -> Option<WorkExperience> {
    if is_bullet(line) {
        return None;
    }
    let (head, start, end) = split_year_range(line)?;
    let (title, company) = split_title_company(head);
    if title.is_empty() {
        return None;
    }
    Some(WorkExperience {
        title: title.to_string(),
        company: company.map(str::to_string),
        start_year: Some(start),
        end_year: end,
    })
}

pub(crate) fn split_title_company(head: &str) -> (&str, Option<&str>) {
    let lower = head.to_lowercase();
    // " at " keeps titles such as "VP, Engineering" whole when used.
    let split = lower
        .find(" at ")
        .map(|i| (i, 4))
        .or_else(|| head.find(", ").map(|i| (i, 2)))
        .or_else(|| head.find(" | ").map(|i| (i, 3)))
        .or_else(|| head.find(" — ").map(|i| (i, " — ".len())))
        .or_else(|| head.find(" – ").map(|i| (i, " – ".len())));
    match split {
        Some((i, len)) => {
            let company = head[i + len..].trim();
            (head[..i].trim(), (!company.is_empty()).then_some(company))
        }
        None => (head.trim(), None),
    }
}

/// `Degree in Discipline, School (YYYY - YYYY)`; years optional.
pub(crate) fn parse_education_line(line: &str) -> Option<Education> {
    if is_bullet(line) {
        return None;
    }
    let (head, has_years) = match split_year_range(line) {
        Some((head, _, _)) => (head, true),
        None => (line, false),
    };
    let (degree_part, school) = match head.split_once(", ") {
        Some((d, s)) => (d.trim(), Some(s.trim()).filter(|s| !s.is_empty())),
        None => (head.trim(), None),
    };
    let level = education_level(degree_part);
    if level.is_none() && !has_years {
        return None;
    }
    let (degree, discipline) = split_degree_discipline(degree_part);
    Some(Education {
        school: school.map(str::to_string),
        degree: Some(degree.to_string()).filter(|d| !d.is_empty()),
        discipline: discipline.map(str::to_string),
        level,
    })
}

fn split_degree_discipline(degree_part: &str) -> (&str, Option<&str>) {
    let lower = degree_part.to_lowercase();
    if let Some(i) = lower.find(" in ") {
        let disc = degree_part[i + 4..].trim();
        return (
            degree_part[..i].trim(),
            Some(disc).filter(|d| !d.is_empty()),
        );
    }
    // "BSc Computer Science": an abbreviation followed by the field.
    if let Some((first, rest)) = degree_part.split_once(' ')
        && abbreviation_level(&normalize_token(first)).is_some()
    {
        let rest = rest.trim();
        return (first, Some(rest).filter(|r| !r.is_empty()));
    }
    (degree_part, None)
}

fn normalize_token(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

fn abbreviation_level(token: &str) -> Option<EducationLevel> {
    use EducationLevel::*;
    let level = match token {
        "phd" | "dphil" | "edd" | "md" | "jd" | "dba" | "dsc" => Doctorate,
        "msc" | "ms" | "ma" | "mba" | "meng" | "mphil" | "mfa" | "med" | "mres" | "llm" | "mpa"
        | "mph" | "mcs" => Master,
        "bsc" | "bs" | "ba" | "beng" | "bba" | "bfa" | "llb" | "bcom" | "btech" | "bse" | "bcs" => {
            Bachelor
        }
        "aas" | "aa" | "as" | "asc" => Associate,
        "ged" => HighSchool,
        _ => return None,
    };
    Some(level)
}

/// Maps a degree's wording to its level, e.g. "Master of Science" => Master.
pub fn education_level(degree: &str) -> Option<EducationLevel> {
    use EducationLevel::*;
    let lower = degree.to_lowercase();
    let words = [
        ("doctor", Doctorate),
        ("doctorate", Doctorate),
        ("master", Master),
        ("bachelor", Bachelor),
        ("associate", Associate),
        ("high school", HighSchool),
        ("secondary school", HighSchool),
    ];
    if let Some((_, level)) = words.iter().find(|(w, _)| lower.contains(w)) {
        return Some(*level);
    }
    // Abbreviations only count as the first word ("BA", "B.Sc.", "Ph.D.").
    let first = lower.split_whitespace().next()?;
    abbreviation_level(&normalize_token(first))
}

fn split_skills(line: &str) -> Vec<String> {
    // "Languages: Rust, Go" - a label before a colon is not a skill.
    let line = match line.split_once(':') {
        Some((label, rest)) if label.len() <= 30 && !rest.trim().is_empty() => rest,
        _ => line,
    };
    line.split([',', ';', '|', '•', '·'])
        .map(|s| s.trim().trim_start_matches(['-', '*']).trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use EducationLevel::*;

    const SAMPLE: &str = "Jane Doe
jane.doe@example.com | +1 555 0100 | 12 Elm St, Springfield, IL

SUMMARY
Backend engineer with 7 years of experience building distributed systems.

EXPERIENCE
Senior Software Engineer, Acme Corp (2019 - present)
- Built a payments platform (2020 - 2021)
Software Engineer, Initech (2015 - 2019)
- Maintained things

EDUCATION
Bachelor of Science in Computer Science, State University (2011 - 2015)

SKILLS
Rust, Kubernetes, PostgreSQL, Go
";

    #[test]
    fn parses_sandbox_format() {
        let r = parse_resume(SAMPLE);
        assert_eq!(
            r.work_experience,
            vec![
                WorkExperience {
                    title: "Senior Software Engineer".into(),
                    company: Some("Acme Corp".into()),
                    start_year: Some(2019),
                    end_year: None,
                },
                WorkExperience {
                    title: "Software Engineer".into(),
                    company: Some("Initech".into()),
                    start_year: Some(2015),
                    end_year: Some(2019),
                },
            ]
        );
        assert_eq!(
            r.education,
            vec![Education {
                school: Some("State University".into()),
                degree: Some("Bachelor of Science".into()),
                discipline: Some("Computer Science".into()),
                level: Some(Bachelor),
            }]
        );
        assert_eq!(r.skills, vec!["Rust", "Kubernetes", "PostgreSQL", "Go"]);
    }

    #[test]
    fn lenient_headings_dashes_and_present() {
        let text = "Experience:\n\
                    Staff Engineer at Globex (2020 – Current)\n\
                    Engineer, Hooli (Jan 2016 — Dec 2019)\n\
                    this line is junk\n\
                    Intern, Nowhere (2014 - 2012)\n\
                    ## Education\n\
                    MSc in Data Science, Uni (2014-2016)\n\
                    PhD, Tech Institute\n\
                    Some school without a degree\n\
                    Technical Skills\n\
                    Languages: Rust; Go | C++\n\
                    rust, Docker\n";
        let r = parse_resume(text);
        assert_eq!(r.work_experience.len(), 2);
        assert_eq!(r.work_experience[0].title, "Staff Engineer");
        assert_eq!(r.work_experience[0].company.as_deref(), Some("Globex"));
        assert_eq!(r.work_experience[0].end_year, None);
        assert_eq!(r.work_experience[1].start_year, Some(2016));
        assert_eq!(r.work_experience[1].end_year, Some(2019));
        let levels: Vec<_> = r.education.iter().map(|e| e.level).collect();
        assert_eq!(levels, vec![Some(Master), Some(Doctorate)]);
        assert_eq!(r.education[0].discipline.as_deref(), Some("Data Science"));
        assert_eq!(r.education[1].school.as_deref(), Some("Tech Institute"));
        assert_eq!(r.skills, vec!["Rust", "Go", "C++", "Docker"]);
    }

    #[test]
    fn degree_levels() {
        for (d, l) in [
            ("Bachelor of Science", Bachelor),
            ("BSc", Bachelor),
            ("B.Sc.", Bachelor),
            ("BA", Bachelor),
            ("Bachelor of Arts", Bachelor),
            ("Master of Science", Master),
            ("MSc", Master),
            ("MBA", Master),
            ("PhD", Doctorate),
            ("Ph.D.", Doctorate),
            ("Doctor of Philosophy", Doctorate),
            ("Doctor of Education", Doctorate),
            ("Associate of Applied Science", Associate),
            ("High School Diploma", HighSchool),
        ] {
            assert_eq!(education_level(d), Some(l), "{d}");
        }
        assert_eq!(education_level("Certificate of Attendance"), None);
    }

    #[test]
    fn abbreviation_followed_by_field() {
        let r = parse_resume("EDUCATION\nBSc Computer Science, MIT (2010 - 2014)\n");
        assert_eq!(r.education[0].degree.as_deref(), Some("BSc"));
        assert_eq!(
            r.education[0].discipline.as_deref(),
            Some("Computer Science")
        );
    }

    #[test]
    fn header_is_not_parsed_and_empty_input_is_empty() {
        assert_eq!(parse_resume(""), StructuredResume::default());
        let r = parse_resume("Rust, Go\nEngineer, Acme (2010 - 2012)\n");
        assert_eq!(r, StructuredResume::default());
    }
}

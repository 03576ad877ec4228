//! The shape of a resume's text as the matcher needs it: which section each
//! line is in, which dated position it belongs to, and which lines may be
//! quoted back in an explanation.
//!
//! Never quoted: the header before the first heading (name, contact), the
//! education section (school names, graduation years), and position header
//! lines beyond their title (employer, dates).

use super::timeline::{Period, parse_period};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Header,
    Summary,
    Experience,
    Education,
    Skills,
    Other,
}

/// One line of the resume.
#[derive(Clone, Debug)]
pub struct Line {
    /// Byte offset of the line in the text.
    pub start: usize,
    pub end: usize,
    pub section: Section,
    /// Index into [`Layout::positions`].
    pub position: Option<usize>,
    /// A position header ("Title, Employer (2019 - 2021)").
    pub is_position_header: bool,
}

/// A dated position.
#[derive(Clone, Debug)]
pub struct Position {
    pub title: String,
    pub period: Period,
}

#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub lines: Vec<Line>,
    pub positions: Vec<Position>,
    /// Whether any section heading was found.
    pub has_headings: bool,
}

fn heading(line: &str) -> Option<Section> {
    if line.len() > 40 {
        return None;
    }
    let norm = line
        .trim_matches(|c: char| c == '#' || c == '*' || c == ':' || c == '=' || c.is_whitespace())
        .to_lowercase();
    Some(match norm.as_str() {
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
        "education" | "education and training" | "academic background" => Section::Education,
        "skills" | "technical skills" | "core skills" | "key skills" | "skills and tools"
        | "skills & tools" | "technologies" | "core competencies" => Section::Skills,
        "projects" | "certifications" | "certificates" | "languages" | "interests" | "awards"
        | "publications" | "volunteering" | "qualifications" => Section::Other,
        _ => return None,
    })
}

/// A line about a degree ("BSc Physics, Uni (2015 - 2019)"), not a job
/// ("Scrum Master", "Associate Engineer" are jobs).
fn is_degree_line(line: &str) -> bool {
    let lower = line.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|w| w.trim_matches('.'))
        .collect();
    [
        "bachelor",
        "master of",
        "master's",
        "masters",
        "degree",
        "diploma",
        "university",
        "college",
        "school",
        "institute",
    ]
    .iter()
    .any(|m| lower.contains(m))
        || words.iter().any(|w| {
            matches!(
                *w,
                "bsc"
                    | "b.sc"
                    | "msc"
                    | "m.sc"
                    | "phd"
                    | "ph.d"
                    | "mba"
                    | "ba"
                    | "bs"
                    | "ma"
                    | "ms"
                    | "beng"
                    | "meng"
                    | "b.a"
                    | "b.s"
            )
        })
}

fn is_bullet(line: &str) -> bool {
    line.starts_with(['-', '•', '*', '·', '–', '—'])
}

/// The title part of a position header: before the employer and the dates.
pub fn header_title(line: &str) -> &str {
    let cut = [" at ", ", ", " | ", " (", " — ", " – ", " - "]
        .iter()
        .filter_map(|sep| line.find(sep))
        .min()
        .unwrap_or(line.len());
    line[..cut].trim()
}

impl Layout {
    pub fn of(text: &str) -> Layout {
        let mut out = Layout::default();
        let mut section = Section::Header;
        let mut position: Option<usize> = None;
        let mut offset = 0usize;
        for raw in text.split_inclusive('\n') {
            let start = offset;
            offset += raw.len();
            let line = raw.trim();
            let mut is_header = false;
            if let Some(s) = heading(line) {
                section = s;
                out.has_headings = true;
                position = None;
            } else if !line.is_empty()
                && !is_bullet(line)
                && line.len() <= 160
                && matches!(section, Section::Experience | Section::Header)
                // Without headings, a dated degree is no position.
                && (section == Section::Experience || !is_degree_line(line))
                && let Some(period) = parse_period(line)
            {
                // Without headings (all "header") a dated line is still a position.
                out.positions.push(Position {
                    title: header_title(line).to_string(),
                    period,
                });
                position = Some(out.positions.len() - 1);
                is_header = true;
            }
            out.lines.push(Line {
                start,
                end: offset,
                section,
                position: if matches!(section, Section::Experience | Section::Header) {
                    position
                } else {
                    None
                },
                is_position_header: is_header,
            });
        }
        out
    }

    /// The line holding byte `at`.
    pub fn line_at(&self, at: usize) -> Option<&Line> {
        let i = self.lines.partition_point(|l| l.end <= at);
        self.lines.get(i)
    }

    /// Whether a line may be quoted in an explanation.
    pub fn quotable(&self, line: &Line) -> bool {
        match line.section {
            Section::Education => false,
            // Without headings the text is all "header"; its top lines are
            // the name and contact block.
            Section::Header => !self.has_headings && line.position.is_some(),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Pat Example\npat@example.com\n\nSUMMARY\nBackend engineer.\n\n\
        EXPERIENCE\nSenior Engineer, Acme (Jan 2021 - present)\n- Built Kafka pipelines\n\
        Engineer at Initech (2015 - 2019)\n- Wrote Rust\n\nEDUCATION\nBSc, State University (2011 - 2015)\n\
        SKILLS\nRust, Go\n";

    #[test]
    fn sections_positions_and_quoting() {
        let l = Layout::of(TEXT);
        assert!(l.has_headings);
        let titles: Vec<&str> = l.positions.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, vec!["Senior Engineer", "Engineer"]);
        let at = |needle: &str| l.line_at(TEXT.find(needle).unwrap()).unwrap();
        assert_eq!(at("Built Kafka").position, Some(0));
        assert_eq!(at("Wrote Rust").position, Some(1));
        assert_eq!(at("Rust, Go").section, Section::Skills);
        assert_eq!(at("Rust, Go").position, None);
        assert!(!l.quotable(at("pat@example.com")));
        assert!(!l.quotable(at("State University")));
        assert!(l.quotable(at("Built Kafka")));
        assert!(at("Senior Engineer").is_position_header);
        assert_eq!(
            header_title("Staff Engineer at Globex (2020 - now)"),
            "Staff Engineer"
        );
    }
}

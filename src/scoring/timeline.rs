//! Dates in resumes: periods with month precision where the resume gives
//! months ("Jan 2019 - Mar 2021"), total experience with overlaps merged, and
//! how much old evidence counts (recency).
//!
//! Conventions, so year-only and month-precise resumes agree: a year alone
//! means its January, so "2018 - 2021" is 36 months (as before); an end with a
//! month counts that month ("Jan 2019 - Mar 2021" is 27 months); "present"
//! runs to the scoring month.

use chrono::Datelike;

use crate::model::BlindPosition;

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    pub year: i32,
    /// 1-12.
    pub month: u32,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> YearMonth {
        YearMonth {
            year,
            month: month.clamp(1, 12),
        }
    }

    /// Months since year 0; the difference of two is a month count.
    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }
}

/// "Now" for scoring: a year alone means its January (whole years as before).
impl From<i32> for YearMonth {
    fn from(year: i32) -> YearMonth {
        YearMonth::new(year, 1)
    }
}

impl From<chrono::DateTime<chrono::Utc>> for YearMonth {
    fn from(t: chrono::DateTime<chrono::Utc>) -> YearMonth {
        YearMonth::new(t.year(), t.month())
    }
}

/// A stretch of work: start, and end (`None`: ongoing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: YearMonth,
    pub end: Option<YearMonth>,
    /// The end was written with a month, so that month counts.
    pub end_month_given: bool,
}

impl Period {
    /// Start and exclusive end as month indices, clipped to `now`; `None`
    /// when nothing of it lies before `now`.
    fn span(&self, now: YearMonth) -> Option<(i64, i64)> {
        let start = self.start.index();
        let end = match self.end {
            Some(e) => e.index() + i64::from(self.end_month_given),
            None => now.index(),
        }
        .min(now.index());
        (end > start).then_some((start, end))
    }

    /// Whole years since this period ended (0 while ongoing).
    pub fn years_since_end(&self, now: YearMonth) -> u32 {
        let Some(e) = self.end else { return 0 };
        let months = now.index().saturating_sub(e.index()).max(0);
        u32::try_from(months / 12).unwrap_or(u32::MAX)
    }
}

/// Total months worked, overlapping periods counted once.
pub fn total_months(periods: &[Period], now: YearMonth) -> u32 {
    let mut spans: Vec<(i64, i64)> = periods.iter().filter_map(|p| p.span(now)).collect();
    spans.sort_unstable();
    let mut total = 0i64;
    let mut current: Option<(i64, i64)> = None;
    for (s, e) in spans {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total = total.saturating_add(ce - cs);
                current = Some((s, e));
            }
            None => current = Some((s, e)),
        }
    }
    if let Some((cs, ce)) = current {
        total = total.saturating_add(ce - cs);
    }
    u32::try_from(total.max(0)).unwrap_or(u32::MAX)
}

/// Periods of structured (year-only) work history.
pub fn periods_of(work: &[BlindPosition]) -> Vec<Period> {
    work.iter()
        .filter_map(|w| {
            Some(Period {
                start: YearMonth::from(w.start_year?),
                end: w.end_year.map(YearMonth::from),
                end_month_given: false,
            })
        })
        .collect()
}

/// Percent a skill counts by when its latest dated evidence ended `years`
/// ago: fully up to 5 years, 10 points less for each further year, and half
/// from 10 years on.
pub fn recency_percent(years: u32) -> u8 {
    match years {
        0..=5 => 100,
        6..=9 => (100 - 10 * (years - 5)) as u8,
        _ => 50,
    }
}

const MONTHS: &[(&str, u32)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

fn month_word(w: &str) -> Option<u32> {
    if w.len() < 3 {
        return None;
    }
    MONTHS.iter().find_map(|(m, n)| {
        let full_ok = w.starts_with(m)
            && (w.len() == 3
                || matches!(
                    w,
                    "january"
                        | "february"
                        | "march"
                        | "april"
                        | "june"
                        | "july"
                        | "august"
                        | "sept"
                        | "september"
                        | "october"
                        | "november"
                        | "december"
                ));
        full_ok.then_some(*n)
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Year(i32),
    Month(u32),
    Present,
    Sep,
}

fn tokens(s: &str) -> Vec<Tok> {
    let lower = s.to_lowercase().replace(['–', '—', '‒'], "-");
    let mut out = Vec::new();
    let mut rest = lower.as_str();
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let n = rest.chars().take_while(char::is_ascii_digit).count();
            let (digits, tail) = rest.split_at(n);
            if digits.len() == 4 {
                if let Ok(y) = digits.parse::<i32>()
                    && (1900..=2200).contains(&y)
                {
                    out.push(Tok::Year(y));
                    // "2019-03": a month of that year, not a range.
                    if let Some(t) = tail.strip_prefix('-') {
                        let m = t.chars().take_while(char::is_ascii_digit).count();
                        if m == 2
                            && let Ok(mm) = t[..m].parse::<u32>()
                            && (1..=12).contains(&mm)
                        {
                            out.pop();
                            out.push(Tok::Month(mm));
                            out.push(Tok::Year(y));
                            rest = &t[m..];
                            continue;
                        }
                    }
                }
            } else if digits.len() <= 2
                && tail.starts_with('/')
                && let Ok(mm) = digits.parse::<u32>()
                && (1..=12).contains(&mm)
            {
                // "03/2019"
                out.push(Tok::Month(mm));
                rest = &tail[1..];
                continue;
            }
            rest = tail;
        } else if c.is_alphabetic() {
            let n: usize = rest
                .chars()
                .take_while(|c| c.is_alphabetic())
                .map(char::len_utf8)
                .sum();
            let (word, tail) = rest.split_at(n);
            match word {
                "present" | "current" | "now" | "today" | "ongoing" | "date" => {
                    out.push(Tok::Present)
                }
                "to" | "until" | "till" => out.push(Tok::Sep),
                w => {
                    if let Some(m) = month_word(w) {
                        out.push(Tok::Month(m));
                    }
                }
            }
            rest = tail;
        } else {
            if c == '-' {
                out.push(Tok::Sep);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// A period written in `s`: "Jan 2019 - Mar 2021", "2019 – Present",
/// "03/2019 to 05/2020", "2019-03 - 2020-05", "2015 - 2019".
pub fn parse_period(s: &str) -> Option<Period> {
    let toks = tokens(s);
    // (date, month given) pairs and the separator between them.
    let mut i = 0;
    let date = |i: &mut usize| -> Option<(YearMonth, bool)> {
        while *i < toks.len() {
            match toks[*i] {
                Tok::Month(m) => {
                    if let Some(Tok::Year(y)) = toks.get(*i + 1) {
                        *i += 2;
                        return Some((YearMonth::new(*y, m), true));
                    }
                    *i += 1;
                }
                Tok::Year(y) => {
                    *i += 1;
                    return Some((YearMonth::from(y), false));
                }
                _ => return None,
            }
        }
        None
    };
    let (start, _) = date(&mut i)?;
    if toks.get(i) != Some(&Tok::Sep) {
        return None;
    }
    while toks.get(i) == Some(&Tok::Sep) {
        i += 1; // "2019 - to date"
    }
    if toks.get(i) == Some(&Tok::Present) {
        return Some(Period {
            start,
            end: None,
            end_month_given: false,
        });
    }
    let (end, month_given) = date(&mut i)?;
    (end >= start).then_some(Period {
        start,
        end: Some(end),
        end_month_given: month_given,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth::new(y, m)
    }

    #[test]
    fn periods_with_and_without_months() {
        let p = parse_period("Jan 2019 - Mar 2021").unwrap();
        assert_eq!(
            (p.start, p.end, p.end_month_given),
            (ym(2019, 1), Some(ym(2021, 3)), true)
        );
        assert_eq!(total_months(&[p], ym(2026, 1)), 27);
        let p = parse_period("2015 – 2019").unwrap();
        assert_eq!(total_months(&[p], ym(2026, 1)), 48);
        let p = parse_period("September 2020 to present").unwrap();
        assert_eq!((p.start, p.end), (ym(2020, 9), None));
        assert_eq!(total_months(&[p], ym(2026, 3)), 66);
        assert_eq!(
            parse_period("03/2019 - 05/2020").map(|p| (p.start, p.end)),
            Some((ym(2019, 3), Some(ym(2020, 5))))
        );
        assert_eq!(
            parse_period("2019-03 – 2020-05").map(|p| (p.start, p.end)),
            Some((ym(2019, 3), Some(ym(2020, 5))))
        );
        assert_eq!(
            parse_period("Senior Engineer, Acme (Feb 2018 — Current)").map(|p| p.start),
            Some(ym(2018, 2))
        );
        assert_eq!(parse_period("2021 - 2019"), None);
        assert_eq!(parse_period("Rust, Go"), None);
        assert_eq!(parse_period("in 2019 we shipped"), None);
        assert_eq!(parse_period(""), None);
    }

    #[test]
    fn overlaps_merge_with_months() {
        let a = parse_period("Jan 2019 - Dec 2020").unwrap();
        let b = parse_period("Jun 2020 - Mar 2021").unwrap();
        let c = parse_period("Jan 2023 - Jan 2023").unwrap();
        // Jan 2019..Mar 2021 = 27 months, plus one month in 2023.
        assert_eq!(total_months(&[b, a, c], ym(2026, 1)), 28);
        // Contained period adds nothing; future start adds nothing.
        let inner = parse_period("Mar 2019 - Apr 2019").unwrap();
        let future = parse_period("Jan 2030 - present").unwrap();
        assert_eq!(total_months(&[a, inner, future], ym(2026, 1)), 24);
    }

    #[test]
    fn recency_decays_from_five_years() {
        assert_eq!(recency_percent(0), 100);
        assert_eq!(recency_percent(5), 100);
        assert_eq!(recency_percent(6), 90);
        assert_eq!(recency_percent(9), 60);
        assert_eq!(recency_percent(10), 50);
        assert_eq!(recency_percent(40), 50);
        let p = parse_period("2010 - 2016").unwrap();
        assert_eq!(p.years_since_end(ym(2026, 6)), 10);
        assert_eq!(
            parse_period("2020 - now")
                .unwrap()
                .years_since_end(ym(2026, 6)),
            0
        );
    }
}

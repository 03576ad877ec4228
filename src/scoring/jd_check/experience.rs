//! Inflated experience requirements: more years of a technology than it has
//! existed, or far more years than the job's title implies.

use super::phrases::tokens;

/// Technologies and the year of their first public (1.0 or equivalent)
/// release. Small on purpose: the ones ads most often over-ask.
pub const RELEASED: &[(&str, i32)] = &[
    ("kubernetes", 2014),
    ("k8s", 2014),
    ("rust", 2015),
    ("swift", 2014),
    ("golang", 2009),
    ("typescript", 2012),
    ("react", 2013),
    ("docker", 2013),
    ("terraform", 2014),
    ("kotlin", 2016),
    ("flutter", 2018),
    ("elixir", 2014),
    ("graphql", 2015),
    ("vue", 2014),
    ("tensorflow", 2015),
    ("pytorch", 2016),
    ("kafka", 2011),
    ("spark", 2014),
    ("airflow", 2015),
    ("dbt", 2016),
    ("snowflake", 2014),
    ("helm", 2016),
    ("istio", 2018),
    ("prometheus", 2016),
    ("webassembly", 2017),
    ("wasm", 2017),
    ("svelte", 2016),
    ("deno", 2020),
    ("chatgpt", 2022),
    ("langchain", 2022),
];

/// One "N years" ask and what it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearsAsk {
    pub years: u32,
    /// Byte span of the phrase in the text.
    pub start: usize,
    pub end: usize,
    /// The technology named right after, if it is in [`RELEASED`].
    pub technology: Option<(&'static str, i32)>,
}

/// "5+ years of Rust", "3-5 years experience with Kubernetes", "10 yrs".
/// The lower bound of a range counts (what is required).
pub fn asks(text: &str) -> Vec<YearsAsk> {
    let toks = tokens(text);
    let mut out = Vec::new();
    for i in 0..toks.len() {
        let w = toks[i].2.as_str();
        let Ok(n) = w.parse::<u32>() else { continue };
        if !(1..=50).contains(&n) {
            continue;
        }
        // "3-5 years": skip the upper bound, keep the lower.
        let mut j = i + 1;
        if toks.get(j).is_some_and(|t| t.2.parse::<u32>().is_ok())
            && text[toks[i].1..toks[j].0]
                .trim()
                .chars()
                .all(|c| matches!(c, '-' | '–' | '—'))
            && !text[toks[i].1..toks[j].0].trim().is_empty()
        {
            j += 1;
        } else if i > 0
            && toks[i - 1].2.parse::<u32>().is_ok()
            && text[toks[i - 1].1..toks[i].0]
                .trim()
                .chars()
                .all(|c| matches!(c, '-' | '–' | '—'))
            && !text[toks[i - 1].1..toks[i].0].trim().is_empty()
        {
            continue;
        }
        if !toks
            .get(j)
            .is_some_and(|t| matches!(t.2.as_str(), "years" | "year" | "yrs" | "yr"))
        {
            continue;
        }
        // A technology within the next few words, in the same sentence.
        let mut end = toks[j].1;
        let mut technology = None;
        for t in toks.iter().skip(j + 1).take(6) {
            if text[end..t.0].contains(['.', ';', '\n']) {
                break;
            }
            if let Some(&(name, year)) = RELEASED.iter().find(|(name, _)| *name == t.2) {
                technology = Some((name, year));
                end = t.1;
                break;
            }
        }
        out.push(YearsAsk {
            years: n,
            start: toks[i].0,
            end,
            technology,
        });
    }
    out
}

/// The most years a title's level plausibly needs; `None` when the title
/// says nothing about level (or a senior level, where long asks are normal).
pub fn title_cap(title: &str) -> Option<(u32, &'static str)> {
    let words: Vec<String> = tokens(title).into_iter().map(|t| t.2).collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    if has("intern") || has("internship") || has("trainee") || has("apprentice") {
        Some((1, "intern"))
    } else if has("junior") || has("jr") || has("entry") || has("graduate") {
        Some((2, "junior"))
    } else if has("mid") || has("intermediate") || has("ii") {
        Some((5, "mid-level"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_asks() {
        let a = asks("5+ years of Kubernetes. 3-5 years experience with Rust; 10 yrs overall");
        let got: Vec<(u32, Option<&str>)> = a
            .iter()
            .map(|x| (x.years, x.technology.map(|t| t.0)))
            .collect();
        assert_eq!(
            got,
            vec![(5, Some("kubernetes")), (3, Some("rust")), (10, None)]
        );
        assert!(asks("In 2019 we grew to 50 people").is_empty());
    }

    #[test]
    fn title_levels() {
        assert_eq!(title_cap("Junior Backend Engineer"), Some((2, "junior")));
        assert_eq!(title_cap("Software Engineer II"), Some((5, "mid-level")));
        assert_eq!(title_cap("Senior Engineer"), None);
        assert_eq!(title_cap("Engineering Intern"), Some((1, "intern")));
    }
}

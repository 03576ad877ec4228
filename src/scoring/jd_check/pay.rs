//! Is there a pay range in the ad? Several jurisdictions require one
//! (Colorado, New York City and State, California, Washington; the EU Pay
//! Transparency Directive from June 2026).
//!
//! An amount is a number with a currency next to it ("$120,000", "€60k",
//! "95 000 EUR", "USD 50/hour"), or a number of at least 1,000 (or "NNk")
//! within a few words after "salary", "pay", "compensation", "wage", "rate"
//! or "OTE". Two amounts make a range; one is a single figure.

use super::phrases::tokens;

const CURRENCY_SYMBOLS: &[char] = &['$', '€', '£', '¥', '₹', '₩', '₽', '₺', '₪'];
const CURRENCY_CODES: &[&str] = &[
    "usd", "eur", "gbp", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "pln", "inr", "jpy",
    "sgd", "hkd", "brl", "mxn", "zar", "czk", "huf", "ron",
];
const PAY_WORDS: &[&str] = &[
    "salary",
    "salaries",
    "pay",
    "compensation",
    "wage",
    "wages",
    "rate",
    "ote",
    "remuneration",
    "stipend",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pay {
    Range,
    Single,
    Missing,
}

fn number_like(word: &str) -> bool {
    let w = word.strip_suffix('k').unwrap_or(word);
    !w.is_empty() && w.chars().all(|c| c.is_ascii_digit())
}

fn big(word: &str, next: Option<&str>) -> bool {
    if let Some(w) = word.strip_suffix('k') {
        return !w.is_empty() && w.chars().all(|c| c.is_ascii_digit());
    }
    // "120,000" tokenises as "120" "000".
    if next == Some("000") || next == Some("k") {
        return word.chars().all(|c| c.is_ascii_digit());
    }
    word.parse::<u64>().is_ok_and(|n| n >= 1000)
}

/// Whether the text states pay, and how.
pub fn pay(text: &str) -> Pay {
    let toks = tokens(text);
    let mut amounts: Vec<usize> = Vec::new();
    for (i, (s, _, w)) in toks.iter().enumerate() {
        if !number_like(w) || w.chars().all(|c| c == '0') && w.len() == 3 {
            continue;
        }
        // A currency symbol just before (allowing a space).
        let before = text[..*s].trim_end_matches(' ');
        let symbol = before
            .chars()
            .next_back()
            .is_some_and(|c| CURRENCY_SYMBOLS.contains(&c));
        let code_near = |j: Option<usize>| {
            j.and_then(|j| toks.get(j))
                .is_some_and(|t| CURRENCY_CODES.contains(&t.2.as_str()))
        };
        let code = code_near(i.checked_sub(1)) || code_near(Some(i + 1)) || code_near(Some(i + 2));
        let next = toks.get(i + 1).map(|t| t.2.as_str());
        let after_pay_word = toks[i.saturating_sub(6)..i]
            .iter()
            .any(|t| PAY_WORDS.contains(&t.2.as_str()))
            && big(w, next);
        // The second end of a range: "140000-180000", "USD 40 - 55".
        let follows = amounts.last().is_some_and(|last| i - *last <= 3);
        if symbol || code || after_pay_word || follows {
            // "120,000" is one amount, not two.
            if amounts
                .last()
                .is_some_and(|last| *last + 1 == i && w == "000")
            {
                continue;
            }
            amounts.push(i);
        }
    }
    match amounts.len() {
        0 => Pay::Missing,
        1 => Pay::Single,
        _ => Pay::Range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_single_figures_and_none() {
        for t in [
            "Salary: $120,000 - $150,000 per year",
            "Pay range €60k–€75k",
            "Compensation 95 000 to 110 000 EUR",
            "The base salary range for this role is 140000-180000.",
            "USD 40 - 55 per hour",
            "£45,000 to £55,000 plus benefits",
        ] {
            assert_eq!(pay(t), Pay::Range, "{t}");
        }
        for t in ["Salary: $120,000", "OTE 90k"] {
            assert_eq!(pay(t), Pay::Single, "{t}");
        }
        for t in [
            "Competitive salary and great benefits",
            "5+ years of Rust; 2 years of Kubernetes",
            "Join our team of 1500 engineers since 2012",
        ] {
            assert_eq!(pay(t), Pay::Missing, "{t}");
        }
    }
}

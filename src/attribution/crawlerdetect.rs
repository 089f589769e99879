//! CrawlerDetect's rules (`data/crawlerdetect.txt`, `data/crawlerdetect_exclusions.txt`):
//! its 1 462 crawler patterns, matched against the User-Agent with its browser tokens
//! (exclusions), Lanterne's masks and the Android device model removed.
//!
//! Speed: upstream joins every pattern into one regex, which measured ~6 µs per User-Agent.
//! Here each pattern is reduced to a literal that any match must contain (the whole pattern
//! for the 1 400 plain strings, the longest required run of literal characters for the
//! rest), and those literals join the shared Aho-Corasick scan. A browser User-Agent usually
//! hits none of them and costs nothing more; only on a hit are the exclusions computed (one
//! small regex) and the hit confirmed: a plain string must lie outside every excluded range,
//! a regex must match the User-Agent with the excluded ranges cut out.

use std::ops::Range;

use regex::bytes::{Regex, RegexBuilder};

use super::rules::{Pick, Scan, ScannerBuilder, TableId, rows, token_list};

/// How a literal hit is confirmed.
enum Check {
    /// The literal is the whole pattern (or a word of the catch-all): confirmed when it lies
    /// outside the excluded ranges.
    Literal,
    /// The literal is only required: the pattern must match the stripped User-Agent.
    Regex(Regex),
}

/// The compiled CrawlerDetect rules.
pub(crate) struct CrawlerDetect {
    gates: TableId,
    checks: Vec<Check>,
    exclusions: Regex,
}

impl CrawlerDetect {
    /// Adds the gate literals to the shared scanner and compiles the regex patterns.
    pub(crate) fn new(scanner: &mut ScannerBuilder) -> Self {
        let mut tokens = Vec::new();
        let mut checks = Vec::new();
        for row in rows(include_str!("data/crawlerdetect.txt")) {
            for (token, check) in rules_of(row[0]) {
                tokens.push(token);
                checks.push(check);
            }
        }
        let exclusions: Vec<String> = rows(include_str!("data/crawlerdetect_exclusions.txt"))
            .map(|row| format!("(?:{})", super::bots::lower_pattern(row[0])))
            .collect();
        CrawlerDetect {
            gates: scanner.add(&token_list(tokens, Pick::All)),
            checks,
            exclusions: compile(&exclusions.join("|")),
        }
    }

    /// The range of the confirmed match in `lower_ua`, if a pattern matches. `masks` are
    /// ranges already blanked by Lanterne (masks, device model, carrier fields): no pattern
    /// may match inside them.
    pub(crate) fn find(
        &self,
        lower_ua: &[u8],
        scan: &Scan,
        masks: &[Range<usize>],
    ) -> Option<Range<usize>> {
        let mut hits = scan.hits(self.gates).peekable();
        hits.peek()?;
        let mut excluded: Vec<Range<usize>> = self
            .exclusions
            .find_iter(lower_ua)
            .map(|m| m.range())
            .filter(|r| !r.is_empty())
            .chain(masks.iter().cloned())
            .collect();
        excluded.sort_by_key(|r| r.start);
        let outside =
            |r: &Range<usize>| !excluded.iter().any(|e| e.start < r.end && r.start < e.end);
        let mut stripped: Option<(Vec<u8>, Vec<usize>)> = None;
        for (row, range) in hits {
            match &self.checks[row] {
                Check::Literal => {
                    if outside(&range) {
                        return Some(range);
                    }
                }
                Check::Regex(regex) => {
                    let (text, origin) = stripped.get_or_insert_with(|| strip(lower_ua, &excluded));
                    if let Some(m) = regex.find(text) {
                        let start = origin.get(m.start()).copied().unwrap_or(range.start);
                        let end = origin
                            .get(m.end().saturating_sub(1))
                            .map_or(range.end, |e| e + 1);
                        return Some(start..end.max(start));
                    }
                }
            }
        }
        None
    }
}

/// The User-Agent with the excluded ranges cut out, and each kept byte's original offset.
fn strip(ua: &[u8], excluded: &[Range<usize>]) -> (Vec<u8>, Vec<usize>) {
    let mut text = Vec::with_capacity(ua.len());
    let mut origin = Vec::with_capacity(ua.len());
    for (i, &b) in ua.iter().enumerate() {
        if !excluded.iter().any(|e| e.contains(&i)) {
            text.push(b);
            origin.push(i);
        }
    }
    (text, origin)
}

fn compile(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(16 << 20)
        .build()
        .expect("vendored CrawlerDetect patterns compile")
}

/// The gate literal(s) and check(s) of one upstream pattern: a top-level alternation gives
/// one rule per branch, the catch-all `[a-z0-9\-_]*(bot|crawl|…)` one literal per word.
fn rules_of(pattern: &str) -> Vec<(String, Check)> {
    let lower = super::bots::lower_pattern(pattern);
    if let Some(words) = lower
        .strip_prefix(r"[a-z0-9\-_]*(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return words
            .split('|')
            .map(|w| (w.to_owned(), Check::Literal))
            .collect();
    }
    top_level_branches(&lower)
        .into_iter()
        .map(|branch| {
            if let Some(literal) = super::bots::literal(branch) {
                return (literal, Check::Literal);
            }
            if let Some(literal) = branch.strip_prefix('^').and_then(super::bots::literal) {
                return (format!("^{literal}"), Check::Literal);
            }
            let gate = required_literal(branch)
                .unwrap_or_else(|| panic!("no required literal in CrawlerDetect pattern {branch}"));
            (gate, Check::Regex(compile(branch)))
        })
        .collect()
}

/// Splits a pattern at its top-level `|` (outside groups and classes).
fn top_level_branches(pattern: &str) -> Vec<&str> {
    let bytes = pattern.as_bytes();
    let (mut depth, mut in_class, mut escaped, mut from) = (0usize, false, false, 0);
    let mut out = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => depth += 1,
            b')' if !in_class => depth = depth.saturating_sub(1),
            b'|' if !in_class && depth == 0 => {
                out.push(&pattern[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(&pattern[from..]);
    out
}

/// The longest run of literal characters that every match of `pattern` contains (at least
/// three bytes), skipping groups, classes, escapes like `\d` and optional characters.
fn required_literal(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let quantified = |i: usize| matches!(chars.get(i), Some('?' | '*' | '{'));
    let (mut best, mut run) = (String::new(), String::new());
    let flush = |run: &mut String, best: &mut String| {
        if run.len() > best.len() {
            *best = run.clone();
        }
        run.clear();
    };
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let escaped = chars.get(i + 1).copied().unwrap_or('\\');
                // `\d`, `\s`… are classes; an optional escaped character is not required.
                if escaped.is_ascii_alphanumeric() || quantified(i + 2) {
                    flush(&mut run, &mut best);
                } else {
                    run.push(escaped);
                }
                i += 2;
            }
            '(' | '[' => {
                flush(&mut run, &mut best);
                let (open, close) = if chars[i] == '(' {
                    ('(', ')')
                } else {
                    ('[', ']')
                };
                let mut depth = 0;
                while i < chars.len() {
                    match chars[i] {
                        '\\' => i += 1,
                        c if c == open => depth += 1,
                        c if c == close => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            '.' | '^' | '$' | '?' | '*' | '+' | '{' | '}' | '|' => {
                flush(&mut run, &mut best);
                i += 1;
            }
            c => {
                if quantified(i + 1) {
                    flush(&mut run, &mut best);
                } else {
                    run.push(c);
                    if chars.get(i + 1) == Some(&'+') {
                        flush(&mut run, &mut best);
                    }
                }
                i += 1;
            }
        }
    }
    flush(&mut run, &mut best);
    (best.len() >= 3).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_literals_are_parts_every_match_contains() {
        assert_eq!(required_literal(r"dart\/[0-9]").as_deref(), Some("dart/"));
        assert_eq!(
            required_literal(r"go [\d\.]* package http").as_deref(),
            Some(" package http")
        );
        assert_eq!(
            required_literal(r"daum(oa)?[ \/][0-9]").as_deref(),
            Some("daum")
        );
        assert_eq!(
            required_literal(r"project ?25499").as_deref(),
            Some("project")
        );
        assert_eq!(
            required_literal(r"sitemap(s)? generator").as_deref(),
            Some(" generator")
        );
        assert_eq!(required_literal(r"ptst\/[0-9]+").as_deref(), Some("ptst/"));
        assert_eq!(
            required_literal(r"y!j-[a-z][a-z][a-z]").as_deref(),
            Some("y!j-")
        );
        assert_eq!(required_literal(r"[a-z]x"), None);
    }

    #[test]
    fn alternations_split_at_the_top_level_only() {
        assert_eq!(
            top_level_branches(r"^ruby|ruby\/[0-9]"),
            vec!["^ruby", r"ruby\/[0-9]"]
        );
        assert_eq!(top_level_branches(r"a(b|c)[|]"), vec![r"a(b|c)[|]"]);
    }

    #[test]
    fn every_upstream_pattern_compiles_to_a_gated_rule() {
        let mut builder = ScannerBuilder::default();
        let cd = CrawlerDetect::new(&mut builder);
        assert!(cd.checks.len() > 1_400, "{}", cd.checks.len());
    }
}

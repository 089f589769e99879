//! Bot detection: Lanterne's own named tokens (`data/bots.tsv`) first, then the vendored
//! maintained lists over the lower-cased User-Agent, after the strings in
//! `data/bot_masks.txt` are blanked so that generic tokens ("bot", "scan", "google") do not
//! flag real browsers. Named crawlers (`data/crawler-user-agents.txt`) apply to every
//! User-Agent; isbot's broad heuristics (`data/isbot.txt`) only to User-Agents that are not
//! browser-shaped (`data/browser_marker.txt` + `data/browser_shape.txt`), which get the
//! strong subset (`data/strong_generic.txt`) instead. The 1 456 crawler patterns that are
//! plain strings join the shared Aho-Corasick scan; the rest of each combination is one
//! compiled regex (small enough for the regex engine's literal prefilter).
//! Never sees link previews: those are decided first, in `previews.rs`.

use std::ops::Range;

use regex::bytes::{Regex, RegexBuilder};

use super::crawlerdetect::CrawlerDetect;

use super::rules::{Pick, Scan, ScannerBuilder, TableId, rows, table, token_list};

/// Longest bot name kept in evidence (the name comes from untrusted input).
const MAX_NAME: usize = 40;

/// The compiled bot rules.
pub(crate) struct Bots {
    named: TableId,
    names: Vec<&'static str>,
    masks: TableId,
    crawler_literals: TableId,
    crawlerdetect: CrawlerDetect,
    browser_marker: TableId,
    browser_shape: TableId,
    /// crawler-user-agents + isbot, for User-Agents that do not look like a browser.
    generic: Regex,
    /// crawler-user-agents + strong generic patterns, for browser-shaped User-Agents.
    generic_browser: Regex,
}

impl Bots {
    /// Adds the named bots, masks and browser-shape tokens to the shared scanner and
    /// compiles the vendored lists.
    pub(crate) fn new(scanner: &mut ScannerBuilder) -> Self {
        let named = table(include_str!("data/bots.tsv"), Pick::Leftmost, |name| name);
        let masks = scanner.add(&table(
            include_str!("data/bot_masks.txt"),
            Pick::All,
            |_| (),
        ));
        let browser_marker = scanner.add(&table(
            include_str!("data/browser_marker.txt"),
            Pick::FirstRow,
            |_| (),
        ));
        let browser_shape = scanner.add(&table(
            include_str!("data/browser_shape.txt"),
            Pick::FirstRow,
            |_| (),
        ));
        let (literals, crawlers): (Vec<&str>, Vec<&str>) =
            rows(include_str!("data/crawler-user-agents.txt"))
                .map(|row| row[0])
                .partition(|pattern| literal(pattern).is_some());
        let literals = literals.iter().filter_map(|p| literal(p)).collect();
        let crawler_literals = scanner.add(&token_list(literals, Pick::All));
        let isbot: Vec<&str> = rows(include_str!("data/isbot.txt"))
            .map(|row| row[0])
            .collect();
        let strong: Vec<&str> = rows(include_str!("data/strong_generic.txt"))
            .map(|row| row[0])
            .collect();
        let generic = alternation(crawlers.iter().chain(&isbot));
        let generic_browser = alternation(crawlers.iter().chain(&strong));
        Bots {
            named: scanner.add(&named),
            names: named.values,
            masks,
            crawler_literals,
            crawlerdetect: CrawlerDetect::new(scanner),
            browser_marker,
            browser_shape,
            generic,
            generic_browser,
        }
    }

    /// The bot name if this lower-cased User-Agent (scanned as `scan`) is a bot. Blanks the
    /// masked strings in place, so call it after every other matcher has read the
    /// User-Agent. `inapp` says an in-app browser marker was found (browser-shaped).
    pub(crate) fn name(&self, lower_ua: &mut [u8], scan: &Scan, inapp: bool) -> Option<String> {
        if let Some(row) = scan.row(self.named) {
            return Some(self.names[row].to_owned());
        }
        // '!' is in no pattern's character class, so a blanked string cannot create a match
        // ("mozacfetch/49.0" blanked with '_' would become one long \w run). The Android
        // device model (before " Build/") is blanked too: "B BOT 50", "CUBOT X20" are phones.
        let masks: Vec<Range<usize>> = scan.ranges(self.masks).collect();
        let model = device_model(lower_ua);
        for range in masks.iter().chain(&model) {
            lower_ua[range.clone()].fill(b'!');
        }
        let masked = |r: &Range<usize>| {
            masks
                .iter()
                .chain(&model)
                .any(|m| m.start < r.end && r.start < m.end)
        };
        if let Some(hit) = scan.ranges(self.crawler_literals).find(|r| !masked(r)) {
            return Some(token_around(lower_ua, hit.start, hit.end));
        }
        if let Some(hit) = self
            .crawlerdetect
            .find(lower_ua, scan, &masks, model.clone())
        {
            return Some(token_around(lower_ua, hit.start, hit.end));
        }
        let shaped = inapp
            || (scan.row(self.browser_marker).is_some() && scan.row(self.browser_shape).is_some());
        let generic = if shaped {
            &self.generic_browser
        } else {
            &self.generic
        };
        let m = generic.find(lower_ua)?;
        Some(token_around(lower_ua, m.start(), m.end()))
    }
}

/// The device model of an Android User-Agent: the text between the last `;` (or `(`) and
/// ` Build/` in the same comment ("Mozilla/5.0 (Linux; Android 6.0; B BOT 50 Build/MRA58K)").
fn device_model(lower_ua: &[u8]) -> Option<Range<usize>> {
    const MAX_MODEL: usize = 64;
    let build = lower_ua.windows(7).position(|w| w == b" build/")?;
    let from = build.saturating_sub(MAX_MODEL);
    let start = lower_ua[from..build]
        .iter()
        .rposition(|&b| b == b';' || b == b'(')
        .map(|p| from + p + 1)?;
    (start < build).then_some(start..build)
}

/// One regex matching any of the patterns (lower-cased, ASCII-only).
fn alternation<'a>(patterns: impl Iterator<Item = &'a &'a str>) -> Regex {
    let patterns: Vec<String> = patterns
        .map(|p| format!("(?:{})", lower_pattern(p)))
        .collect();
    // Byte-oriented and ASCII-only: the UA is lower-cased ASCII-wise and `\w`, `\b` need
    // not know Unicode, which keeps the lazy DFA small and fast.
    RegexBuilder::new(&patterns.join("|"))
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(64 << 20)
        .build()
        .expect("vendored bot patterns compile")
}

/// The plain string a pattern matches, lower-cased, if it has no regex syntax besides
/// escaped punctuation (`Googlebot\/`, `yandex\.com\/bots`).
pub(crate) fn literal(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                e @ ('/' | '.' | '-' | ' ' | '+' | '(' | ')' | '[' | ']' | '?' | '*' | '|'
                | '{' | '}' | '\\') => out.push(e),
                _ => return None,
            },
            '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' => {
                return None;
            }
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Lower-cases a regex pattern without touching escapes (`\S` stays `\S`).
pub(crate) fn lower_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut escaped = false;
    for c in pattern.chars() {
        out.push(if escaped { c } else { c.to_ascii_lowercase() });
        escaped = !escaped && c == '\\';
    }
    out
}

/// The word around a generic match (so "bot" inside "ahrefsbot/7.0" names "ahrefsbot"),
/// restricted to `[a-z0-9._-]` and [`MAX_NAME`] bytes.
fn token_around(ua: &[u8], start: usize, end: usize) -> String {
    let word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    // Start from the first word byte of the match ("googlebot/" names "googlebot").
    let Some(first) = (start..end).find(|&i| word(ua[i])) else {
        return "generic".to_owned();
    };
    let mut from = first;
    while from > 0 && word(ua[from - 1]) {
        from -= 1;
    }
    let mut to = first;
    while to < ua.len() && word(ua[to]) {
        to += 1;
    }
    let name: String = ua[from..to]
        .iter()
        .filter(|&&b| word(b))
        .take(MAX_NAME)
        .map(|&b| b as char)
        .collect();
    let name = name.trim_matches(|c| matches!(c, '.' | '_' | '-'));
    if name.is_empty() {
        "generic".to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::signals::LowerUa;
    use super::*;

    fn bots() -> (Bots, super::super::rules::Scanner) {
        let mut builder = ScannerBuilder::default();
        let bots = Bots::new(&mut builder);
        (bots, builder.build())
    }

    fn bot(bots: &(Bots, super::super::rules::Scanner), ua: &str) -> Option<String> {
        let mut lower = LowerUa::new(ua);
        let scan = bots.1.scan(lower.bytes());
        bots.0.name(lower.bytes_mut(), &scan, false)
    }

    /// Real bot User-Agents with the name Lanterne reports.
    const CASES: &[(&str, &str)] = &[
        // crawler-user-agents.json "Googlebot\/"
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "googlebot",
        ),
        // crawler-user-agents.json "bingbot"
        (
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "bingbot",
        ),
        // crawler-user-agents.json "AhrefsBot"
        (
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            "ahrefsbot",
        ),
        // crawler-user-agents.json "GPTBot"
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
            "gptbot",
        ),
        // curl, wget, python-requests, Go, okhttp, axios, node-fetch default User-Agents
        ("curl/8.5.0", "curl"),
        ("Wget/1.21.4", "wget"),
        ("python-requests/2.31.0", "python_requests"),
        ("Go-http-client/1.1", "go_http_client"),
        ("okhttp/4.12.0", "okhttp"),
        ("axios/1.6.2", "axios"),
        (
            "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
            "node_fetch",
        ),
        ("Java/1.8.0_25", "java"),
        // ua-parser/uap-core tests/test_ua.yaml (HeadlessChrome)
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/60.0.3112.78 Safari/537.36",
            "headless_chrome",
        ),
        // https://developer.chrome.com/docs/lighthouse (Lighthouse UA)
        (
            "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
            "lighthouse",
        ),
        // e-mail security scanners: illustrative strings around each vendor's token (bots.tsv);
        // no public capture of these scanners' User-Agents was at hand, so these rows test the
        // token rule, not a recorded User-Agent.
        ("Barracuda Sentinel (EE)", "barracuda"),
        (
            "Mozilla/5.0 (compatible; Mimecast-URL-Protect/1.0)",
            "mimecast",
        ),
        ("Proofpoint URL Defense", "proofpoint"),
        ("Cisco IronPort WSA", "cisco_ironport"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) TrendMicro",
            "trendmicro",
        ),
        ("Mozilla/5.0 (compatible; SophosURLScanner/1.0)", "sophos"),
        ("Zscaler URL Scanner", "zscaler"),
    ];

    #[test]
    fn crawlers_libraries_headless_browsers_and_mail_scanners_are_bots() {
        let bots = bots();
        for (ua, name) in CASES {
            assert_eq!(bot(&bots, ua).as_deref(), Some(*name), "{ua}");
        }
    }

    #[test]
    fn phones_whose_model_contains_bot_are_not_bots() {
        let bots = bots();
        // ua-parser/uap-core tests/test_device.yaml (Cubot devices) and a Galaxy with "scan"-free UA
        for ua in [
            "Mozilla/5.0 (Linux; Android 9; CUBOT_X20_PRO Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.106 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 6.0; CUBOT DINOSAUR Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/55.0.2883.91 Mobile Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        ] {
            assert_eq!(bot(&bots, ua), None, "{ua}");
        }
    }

    #[test]
    fn plain_patterns_become_literals_and_regexes_do_not() {
        assert_eq!(literal(r"Googlebot\/").as_deref(), Some("googlebot/"));
        assert_eq!(
            literal(r"yandex\.com\/bots").as_deref(),
            Some("yandex.com/bots")
        );
        assert_eq!(literal(r"^curl"), None);
        assert_eq!(literal(r"[wW]get"), None);
        assert_eq!(literal(r"BlogTraffic\/\d\.\d+"), None);
    }

    #[test]
    fn escapes_survive_lower_casing_of_patterns() {
        assert_eq!(
            lower_pattern(r"Spider[\s\S]*Spider\.COM"),
            r"spider[\s\S]*spider\.com"
        );
    }
}

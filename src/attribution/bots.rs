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
        let mut masks: Vec<Range<usize>> = scan.ranges(self.masks).collect();
        masks.extend(device_model(lower_ua));
        masks.extend(device_fields(lower_ua));
        for range in &masks {
            lower_ua[range.clone()].fill(b'!');
        }
        let masked = |r: &Range<usize>| masks.iter().any(|m| m.start < r.end && r.start < m.end);
        if let Some(hit) = scan.ranges(self.crawler_literals).find(|r| !masked(r)) {
            return Some(token_around(lower_ua, hit.start, hit.end));
        }
        if let Some(hit) = self.crawlerdetect.find(lower_ua, scan, &masks) {
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

/// Longest device model or device field that is blanked.
const MAX_MODEL: usize = 64;

/// The device part of an Android User-Agent: the model between the last `;` (or `(`) and
/// ` Build/`, and the build id after it up to `;` or `)` ("Mozilla/5.0 (Linux; Android 6.0;
/// B BOT 50 Build/MRA58K)", "MID1125 Build/GreenDemon_v1.0)"). No bot pattern may match there.
fn device_model(lower_ua: &[u8]) -> Option<Range<usize>> {
    let build = lower_ua.windows(7).position(|w| w == b" build/")?;
    let from = build.saturating_sub(MAX_MODEL);
    let start = lower_ua[from..build]
        .iter()
        .rposition(|&b| b == b';' || b == b'(')
        .map(|p| from + p + 1)?;
    let id = build + 7;
    let end = lower_ua[id..lower_ua.len().min(id + MAX_MODEL)]
        .iter()
        .position(|&b| b == b';' || b == b')')
        .map_or(id, |p| id + p);
    (start < build).then_some(start..end)
}

/// The device and carrier fields of Facebook's in-app browsers (`FBDV/`, `FBMD/`, `FBCR/`
/// values up to `;` or `]`): "FBCR/OrangeBotswana" is a carrier, not a bot.
fn device_fields(lower_ua: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    [b"fbcr/", b"fbdv/", b"fbmd/"]
        .into_iter()
        .filter_map(move |field| {
            let at = lower_ua.windows(5).position(|w| w == field)? + 5;
            let len = lower_ua[at..lower_ua.len().min(at + MAX_MODEL)]
                .iter()
                .position(|&b| b == b';' || b == b']')?;
            (len > 0).then_some(at..at + len)
        })
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

    /// Issue 14: bots whose User-Agent is a browser's plus one token, by class. All from
    /// CrawlerDetect 1.4.1 tests/fixtures/user_agent/crawlers.txt (MIT), which also fed the
    /// patterns (crawlerdetect.txt): these rows test the rule, they are not blind.
    const BROWSER_LIKE: &[&str] = &[
        // uptime and performance audit
        "Mozilla/5.0 (compatible; MSIE 8.0; Windows NT 6.3; www.alertra.com)",
        "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0; PTST 2.386) like Gecko",
        // page speed
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.4 (KHTML, like Gecko; Google Page Speed Insights) Chrome/22.0.1229 Safari/537.4",
        // ad rendering and verification
        "Mozilla/5.0 (en-us) AppleWebKit/537.36(KHTML, like Gecko; Google-Adwords-DisplayAds-WebRender;) Chrome/27.0.1453Safari/537.36",
        // privacy / compliance scanner
        "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:26.0) Gecko/20100101 Firefox/26.0 Evidon (lab@evidon.com)",
        // SEO tools
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9) AppleWebKit/537.71 (KHTML, like Gecko) Version/7.0 Safari/537.71 (Rival IQ, rivaliq.com)",
        // publisher plug-ins
        "Mozilla/5.0 (Linux; Android 4.0.4; Galaxy Nexus Build/IMM76B) AppleWebKit/537.36 (KHTML, like Gecko; Google-Publisher-Plugin) Chrome/27.0.1453 Mobile Safari/537.36",
        // regional crawlers disguised as old browsers: Korean, Russian (the Czech
        // "Seznam screenshot-generator Build/Q3" puts its name in the device model, which no
        // pattern may read: a known miss)
        "Mozilla/5.0 (compatible; MSIE or Firefox mutant; not on Windows server;) Daum 4.1",
        "StackRambler/2.0 (MSIE incompatible)",
        // screenshot services
        "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.79 Safari/537.36 (https://shrinktheweb.com)",
    ];

    #[test]
    fn bots_with_browser_like_user_agents_are_bots() {
        let bots = bots();
        for ua in BROWSER_LIKE {
            assert!(bot(&bots, ua).is_some(), "{ua}");
        }
    }

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
            // CrawlerDetect tests/fixtures/user_agent/devices.txt (MIT): models "B BOT 50",
            // "POWER BOT", "M bot", "IDbot" sit before " Build/"
            "Mozilla/5.0 (Linux; Android 6.0; B BOT 50 Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.116 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 6.0; POWER BOT Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.85 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 7.0; M bot 60 Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/67.0.3396.87 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 6.0; IDbot553 Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/59.0.3071.125 Mobile Safari/537.36",
            // apps whose product token a crawler list names by a shorter word (devices.txt)
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E216 Blackboard/3.7.0",
            "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:45.0) Gecko/20100101 Thunderbird/45.6.0 Lightning/4.7.6",
            // ua-parser/uap-core tests/test_ua.yaml: Facebook in-app on carrier "OrangeBotswana"
            "Mozilla/5.0 (iPhone; CPU iPhone OS 11_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15G77 [FBAN/FBIOS;FBAV/194.0.0.38.99;FBBV/127868476;FBDV/iPhone7,2;FBMD/iPhone;FBSN/iOS;FBSV/11.4.1;FBSS/2;FBCR/OrangeBotswana;FBID/phone;FBLC/en_GB;FBOP/5;FBRV/128807018]",
            // ua-parser/uap-core tests/test_device.yaml: a build id and a tablet model that
            // contain crawler names ("GreenDemon", "iBuddy")
            "Mozilla/5.0 (Linux; Android 4.1.1; MID1125 Build/GreenDemon_v1.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/28.0.1500.63 Safari/537.36 OPR/15.0.1162.61541",
            "Mozilla/5.0 (Linux; Android 4.0.4; I-Buddy 7.0 Build/IMM76D) AppleWebKit/535.19 (KHTML, like Gecko) Chrome/18.0.1025.166 Safari/535.19",
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

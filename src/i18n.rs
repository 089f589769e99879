//! The UI's languages: English and French. Every string a page shows comes
//! from a catalogue in `locales/` (compiled in), looked up by key; the
//! language is the user's setting, else the browser's `Accept-Language`.
//! A test checks that both catalogues hold the same keys and that every key
//! the templates and pages use exists.

use std::{collections::HashMap, sync::OnceLock};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// French.
    Fr,
}

const SOURCES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../locales/en.toml")),
    (Lang::Fr, include_str!("../locales/fr.toml")),
];

impl Lang {
    /// Every language, in the order of the language menu.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The ISO 639-1 code (`en`, `fr`), as stored and in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language of a stored code, if it is one of ours.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The language's own name, for the language menu.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    /// The best of our languages for an `Accept-Language` header (RFC 9110
    /// §12.5.4: the highest `q` wins, ties in order); English when none fits.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::En;
        };
        let mut best: Option<(Lang, f32)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::from_code(primary)
                && q > 0.0
                && best.is_none_or(|(_, b)| q > b)
            {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l).unwrap_or(Lang::En)
    }
}

/// The strings of one language, for templates (`{{ t.get("login.title") }}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr(pub Lang);

impl Tr {
    /// The string of `key`; the key itself when missing (a test prevents that).
    pub fn get(&self, key: &str) -> &'static str {
        catalog(self.0).get(key).copied().unwrap_or_else(|| {
            tracing::warn!(i18n.key = key, "missing UI string");
            missing(key)
        })
    }

    /// Whether the catalogue has `key`.
    pub fn has(&self, key: &str) -> bool {
        catalog(self.0).contains_key(key)
    }

    /// The string of `key` with `{name}` replaced by `value`.
    pub fn with(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.get(key)
            .replace(&format!("{{{name}}}"), &value.to_string())
    }

    /// A string with two placeholders filled.
    pub fn with2(
        &self,
        key: &str,
        (n1, v1): (&str, impl std::fmt::Display),
        (n2, v2): (&str, impl std::fmt::Display),
    ) -> String {
        self.with(key, n1, v1)
            .replace(&format!("{{{n2}}}"), &v2.to_string())
    }

    /// The language code, for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.0.code()
    }
}

fn missing(key: &str) -> &'static str {
    // Leaked once per missing key at most: there are few keys, and a test
    // keeps the catalogues complete.
    static MISSING: OnceLock<std::sync::Mutex<HashMap<String, &'static str>>> = OnceLock::new();
    let mut map = MISSING
        .get_or_init(Default::default)
        .lock()
        .expect("not poisoned");
    map.entry(key.to_owned())
        .or_insert_with(|| Box::leak(key.to_owned().into_boxed_str()))
}

type Catalog = HashMap<String, &'static str>;

fn catalog(lang: Lang) -> &'static Catalog {
    static CATALOGS: OnceLock<Vec<(Lang, Catalog)>> = OnceLock::new();
    let all = CATALOGS.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, src)| (*lang, parse(src).expect("the built-in catalogues parse")))
            .collect()
    });
    &all.iter()
        .find(|(l, _)| *l == lang)
        .expect("every language has a catalogue")
        .1
}

/// Flattens a catalogue's tables into dotted keys (`[login] title` → `login.title`).
fn parse(src: &str) -> Result<Catalog, toml::de::Error> {
    fn walk(prefix: &str, table: toml::Table, out: &mut Catalog) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&key, t, out),
                toml::Value::String(s) => {
                    out.insert(key, Box::leak(s.into_boxed_str()));
                }
                other => {
                    out.insert(key, Box::leak(format!("{other:?}").into_boxed_str()));
                }
            }
        }
    }
    let mut out = Catalog::new();
    walk("", src.parse::<toml::Table>()?, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_of_our_languages() {
        let cases = [
            (None, Lang::En),
            (Some("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr),
            (Some("en-GB,fr;q=0.5"), Lang::En),
            (Some("de-DE,fr;q=0.3,en;q=0.2"), Lang::Fr),
            (Some("de, es"), Lang::En),
            (Some("fr;q=0, en"), Lang::En),
            (Some("FR"), Lang::Fr),
            (Some(";;;,q=,"), Lang::En),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let en = catalog(Lang::En);
        let fr = catalog(Lang::Fr);
        let mut only_en: Vec<_> = en.keys().filter(|k| !fr.contains_key(*k)).collect();
        let mut only_fr: Vec<_> = fr.keys().filter(|k| !en.contains_key(*k)).collect();
        only_en.sort();
        only_fr.sort();
        assert!(only_en.is_empty(), "missing in fr.toml: {only_en:?}");
        assert!(only_fr.is_empty(), "missing in en.toml: {only_fr:?}");
        assert!(en.len() > 20);
    }

    #[test]
    fn every_key_used_by_templates_and_pages_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["templates", "src/http"] {
            collect(&root.join(dir), &mut files);
        }
        let used = regex::Regex::new(r#"\bt\.(?:get|with)\(\s*"([a-z0-9_.]+)""#).unwrap();
        let mut missing = Vec::new();
        let mut seen = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for cap in used.captures_iter(&text) {
                seen += 1;
                if !catalog(Lang::En).contains_key(&cap[1]) {
                    missing.push(format!("{}: {}", f.display(), &cap[1]));
                }
            }
        }
        assert!(missing.is_empty(), "keys without a string: {missing:#?}");
        assert!(seen > 20, "the scan found the keys ({seen})");
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                collect(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let t = Tr(Lang::En);
        assert!(!t.with("links.count", "n", 3).contains("{n}"));
    }
}

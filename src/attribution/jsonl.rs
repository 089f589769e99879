//! The database-free engine of `lanterne classify`: JSON Lines in, one JSON line out per
//! input line, in order. A bad line (invalid UTF-8 or JSON, wrong types, bad IP, blank)
//! yields `{"error": "..."}` for that line and the run goes on; only I/O errors stop it.
//! Never keeps an IP: it is handed to the `country` closure and dropped.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    Channel, Classifier, Device, Evidence, Kind, LinkFacts, RecentPreview, Signals, SlugKind,
};

/// Largest `seconds_ago` accepted (about 31 700 years).
const MAX_SECONDS_AGO: f64 = 1e12;

/// One output line.
#[derive(Serialize)]
struct Output<'a> {
    kind: Kind,
    channel: Option<Channel>,
    source: Option<&'a str>,
    inapp: Option<&'a str>,
    evidence: &'a [Evidence],
    browser: Option<&'a str>,
    os: Option<&'a str>,
    device: Device,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<String>,
}

/// Classifies every line of `input` and writes the results to `output`.
/// Blank lines are answered with `{"error":"blank line"}` so that output line N always
/// answers input line N.
pub fn run<R: BufRead, W: Write>(
    classifier: &Classifier,
    mut input: R,
    mut output: W,
    country: &dyn Fn(IpAddr) -> Option<String>,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let answer = match classify_line(classifier, &line, country) {
            Ok(answer) => answer,
            Err(message) => serde_json::json!({ "error": message }).to_string(),
        };
        output.write_all(answer.as_bytes())?;
        output.write_all(b"\n")?;
    }
    output.flush()
}

fn classify_line(
    classifier: &Classifier,
    raw: &[u8],
    country: &dyn Fn(IpAddr) -> Option<String>,
) -> Result<String, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "line is not UTF-8".to_owned())?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Err("blank line".to_owned());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let object = value.as_object().ok_or("a line must be a JSON object")?;
    let headers = headers(object)?;
    let header = |name: &str| headers.get(name).map(String::as_str);
    let method = optional_str(object, "method")?.unwrap_or("GET");
    let link = object.get("link").filter(|v| !v.is_null());
    let link = match link {
        Some(Value::Object(link)) => Some(link),
        Some(_) => return Err("`link` must be an object".to_owned()),
        None => None,
    };
    let utm = match link.and_then(|l| l.get("utm")).filter(|v| !v.is_null()) {
        Some(Value::Object(utm)) => Some(utm),
        Some(_) => return Err("`link.utm` must be an object".to_owned()),
        None => None,
    };
    let slug_kind = match link
        .map(|l| optional_str(l, "slug_kind"))
        .transpose()?
        .flatten()
    {
        None | Some("generated") => SlugKind::Generated,
        Some("custom") => SlugKind::Custom,
        Some(other) => {
            return Err(format!(
                "`link.slug_kind` must be generated or custom, not {other:?}"
            ));
        }
    };
    let facts = LinkFacts {
        declared_channel: link
            .map(|l| optional_str(l, "channel"))
            .transpose()?
            .flatten(),
        utm_source: utm
            .map(|u| optional_str(u, "source"))
            .transpose()?
            .flatten(),
        utm_medium: utm
            .map(|u| optional_str(u, "medium"))
            .transpose()?
            .flatten(),
        slug_kind,
    };
    let previews = recent_previews(object)?;
    let ip = match optional_str(object, "ip")? {
        Some(ip) => Some(
            ip.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("invalid ip {ip:?}"))?,
        ),
        None => None,
    };
    let signals = Signals {
        method,
        user_agent: header("user-agent"),
        referer: header("referer"),
        sec_fetch_site: header("sec-fetch-site"),
        sec_fetch_mode: header("sec-fetch-mode"),
        sec_fetch_dest: header("sec-fetch-dest"),
        sec_fetch_user: header("sec-fetch-user"),
        purpose: header("sec-purpose")
            .or_else(|| header("purpose"))
            .or_else(|| header("x-purpose"))
            .or_else(|| header("x-moz")),
        sec_ch_ua: header("sec-ch-ua"),
        sec_ch_ua_mobile: header("sec-ch-ua-mobile"),
        sec_ch_ua_platform: header("sec-ch-ua-platform"),
        x_requested_with: header("x-requested-with"),
        accept_language: header("accept-language"),
        network: None,
        complete: false,
    };
    let a = classifier.classify(&signals, &facts, &previews);
    let out = Output {
        kind: a.kind,
        channel: a.channel,
        source: a.source.as_deref(),
        inapp: a.inapp.as_deref(),
        evidence: &a.evidence,
        browser: a.browser.as_deref(),
        os: a.os.as_deref(),
        device: a.device,
        country: ip.and_then(country),
    };
    serde_json::to_string(&out).map_err(|e| format!("cannot encode result: {e}"))
}

/// The `headers` object with lower-cased names; every value must be a string.
fn headers(object: &Map<String, Value>) -> Result<HashMap<String, String>, String> {
    let headers = match object.get("headers") {
        Some(Value::Object(headers)) => headers,
        Some(_) => return Err("`headers` must be an object".to_owned()),
        None => return Err("`headers` is required".to_owned()),
    };
    headers
        .iter()
        .map(|(name, value)| match value {
            Value::String(value) => Ok((name.to_ascii_lowercase(), value.clone())),
            _ => Err(format!("header {name:?} must be a string")),
        })
        .collect()
}

fn optional_str<'a>(object: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn recent_previews(object: &Map<String, Value>) -> Result<Vec<RecentPreview>, String> {
    let list = match object.get("recent_previews") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err("`recent_previews` must be a list".to_owned()),
    };
    list.iter()
        .map(|item| {
            let item = item
                .as_object()
                .ok_or("a recent preview must be an object")?;
            let app = optional_str(item, "app")?.ok_or("a recent preview needs `app`")?;
            let seconds = item
                .get("seconds_ago")
                .and_then(Value::as_f64)
                .filter(|s| s.is_finite() && (0.0..=MAX_SECONDS_AGO).contains(s))
                .ok_or("`seconds_ago` must be a number of seconds, 0 or more")?;
            Ok(RecentPreview {
                app: app.to_ascii_lowercase(),
                age: Duration::from_secs_f64(seconds),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::ClassifierConfig;
    use super::*;

    fn run_lines(input: &str) -> Vec<Value> {
        let classifier = Classifier::new(ClassifierConfig::default());
        let mut out = Vec::new();
        let country = |ip: IpAddr| ip.is_ipv4().then(|| "FR".to_owned());
        run(&classifier, input.as_bytes(), &mut out, &country).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn each_input_line_gets_one_answer_in_order_and_bad_lines_get_an_error() {
        let input = concat!(
            r#"{"headers":{"User-Agent":"WhatsApp/2.23.20.0 A"}}"#,
            "\n",
            "not json\n",
            "\n",
            r#"{"headers":{"USER-AGENT":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"},"recent_previews":[{"app":"whatsapp","seconds_ago":30}],"ip":"192.0.2.1"}"#,
            "\n",
            r#"{"headers":{"user-agent":"x"},"ip":"999.1.1.1"}"#,
            "\n",
            r#"{"headers":{"user-agent":5}}"#,
            "\n",
            r#"{"headers":{"user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","referer":"https://www.google.fr/"},"method":"GET","link":{"channel":null,"utm":{"source":"newsletter","medium":"email"},"slug_kind":"custom"},"ip":"2001:db8::1"}"#,
            "\n",
            r#"{"headers":{},"recent_previews":[{"app":"telegram","seconds_ago":-1}]}"#,
        );
        let out = run_lines(input);
        assert_eq!(out.len(), 8, "{out:?}");
        assert_eq!(out[0]["kind"], "preview");
        assert_eq!(out[0]["source"], "whatsapp");
        assert!(
            out[1]["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid JSON")
        );
        assert_eq!(out[2]["error"], "blank line");
        assert_eq!(out[3]["kind"], "human");
        assert_eq!(out[3]["channel"], "dark_social");
        assert_eq!(out[3]["source"], "whatsapp");
        assert_eq!(out[3]["evidence"][0], "recent_preview:whatsapp");
        assert_eq!(out[3]["country"], "FR");
        assert_eq!(out[3]["device"], "mobile");
        assert!(out[4]["error"].as_str().unwrap().contains("invalid ip"));
        assert!(
            out[5]["error"]
                .as_str()
                .unwrap()
                .contains("must be a string")
        );
        assert_eq!(out[6]["channel"], "search");
        assert_eq!(out[6]["source"], "google");
        assert!(
            out[6].get("country").is_none(),
            "closure said None for IPv6"
        );
        assert!(out[7]["error"].as_str().unwrap().contains("seconds_ago"));
    }

    #[test]
    fn output_fields_come_in_the_documented_order() {
        let out = {
            let classifier = Classifier::new(ClassifierConfig::default());
            let mut out = Vec::new();
            run(&classifier, &b"{\"headers\":{}}\n"[..], &mut out, &|_| None).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            out,
            "{\"kind\":\"bot\",\"channel\":null,\"source\":null,\"inapp\":null,\"evidence\":[\"ua_missing\"],\"browser\":null,\"os\":null,\"device\":\"bot\"}\n"
        );
    }

    #[test]
    fn invalid_utf8_is_an_error_line_not_a_failed_run() {
        let classifier = Classifier::new(ClassifierConfig::default());
        let mut out = Vec::new();
        run(
            &classifier,
            &b"\xff\xfe\n{\"headers\":{}}\n"[..],
            &mut out,
            &|_| None,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with("{\"error\":\"line is not UTF-8\"}"));
    }
}

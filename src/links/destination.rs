//! Destinations (where a short link leads) and the one rule for building the
//! redirect target: link UTM fields replace same-named parameters of the
//! destination; parameters of the short URL are appended only when the
//! target does not already carry them ("the marketer wins").

use url::Url;

use super::Utm;

/// Longest destination accepted, in bytes (browsers and proxies handle far
/// longer URLs, but a short link to a 4 KiB URL is a smell worth refusing).
pub const MAX_LENGTH: usize = 4096;

/// A valid destination: absolute http(s), no credentials, not one of our hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination(Url);

/// Why a destination was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// Empty string.
    #[error("the destination is empty")]
    Empty,
    /// Longer than [`MAX_LENGTH`].
    #[error("the destination is longer than {MAX_LENGTH} bytes")]
    TooLong,
    /// Not parseable as an absolute URL.
    #[error("the destination is not an absolute URL ({0})")]
    Invalid(String),
    /// Scheme other than http/https.
    #[error("the destination must use http or https, not {0:?}")]
    Scheme(String),
    /// `user:password@` in the URL.
    #[error("the destination must not contain a user name or password")]
    Credentials,
    /// Points at a domain this Lanterne serves (a redirect loop).
    #[error("the destination points at {0}, a domain this Lanterne serves")]
    SelfReferential(String),
}

impl Destination {
    /// Parses untrusted input; `served` lists our own hosts (lowercase).
    pub fn parse(input: &str, served: &[String]) -> Result<Destination, DestinationError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(DestinationError::Empty);
        }
        if input.len() > MAX_LENGTH {
            return Err(DestinationError::TooLong);
        }
        let url = Url::parse(input).map_err(|e| DestinationError::Invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DestinationError::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(DestinationError::Credentials);
        }
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.trim_end_matches('.').to_ascii_lowercase(),
            _ => return Err(DestinationError::Invalid("no host".into())),
        };
        if served.contains(&host) {
            return Err(DestinationError::SelfReferential(host));
        }
        // Normalisation may lengthen the URL (percent-encoding).
        if url.as_str().len() > MAX_LENGTH {
            return Err(DestinationError::TooLong);
        }
        Ok(Destination(url))
    }

    /// Wraps a destination read back from the database (validated when written).
    pub fn from_stored(stored: &str) -> Option<Destination> {
        Url::parse(stored).ok().map(Destination)
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The redirect target: this destination with the link's UTM fields set.
    pub fn with_utm(&self, utm: &Utm) -> String {
        let fields = utm.pairs();
        if fields.is_empty() {
            return self.0.to_string();
        }
        let mut url = self.0.clone();
        let mut query: Vec<String> = url
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|seg| !seg.is_empty())
            .filter(|seg| !fields.iter().any(|(k, _)| decoded_key(seg) == *k))
            .map(str::to_owned)
            .collect();
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &fields {
            ser.append_pair(k, v);
        }
        query.push(ser.finish());
        url.set_query(Some(&query.join("&")));
        url.to_string()
    }
}

/// Appends the short URL's query parameters to a redirect target, skipping keys
/// the target already has. `extra` comes from the request (untrusted) but is
/// already a valid URI query (the HTTP parser checked its characters).
pub fn with_passthrough(target: &str, extra: &str, max_len: usize) -> Option<String> {
    if extra.is_empty() || extra.len() > max_len {
        return None;
    }
    let (base, fragment) = match target.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (target, None),
    };
    let existing: Vec<String> = base
        .split_once('?')
        .map(|(_, q)| q.split('&').map(decoded_key).collect())
        .unwrap_or_default();
    let added: Vec<&str> = extra
        .split('&')
        .filter(|seg| !seg.is_empty())
        .filter(|seg| !existing.contains(&decoded_key(seg)))
        .collect();
    if added.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(target.len() + extra.len() + 1);
    out.push_str(base);
    out.push(if base.contains('?') { '&' } else { '?' });
    out.push_str(&added.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// The decoded name of one `key=value` query segment.
fn decoded_key(segment: &str) -> String {
    let raw = segment.split('=').next().unwrap_or("");
    url::form_urlencoded::parse(raw.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn served() -> Vec<String> {
        vec!["go.example.com".into(), "localhost".into()]
    }

    #[test]
    fn destinations_are_checked() {
        use DestinationError::*;
        let long = format!("https://example.com/{}", "a".repeat(MAX_LENGTH));
        let cases: &[(&str, Result<&str, DestinationError>)] = &[
            (
                "https://example.com/a?b=c#d",
                Ok("https://example.com/a?b=c#d"),
            ),
            ("  HTTP://Example.COM ", Ok("http://example.com/")),
            ("https://bücher.de/", Ok("https://xn--bcher-kva.de/")),
            ("", Err(Empty)),
            (
                "example.com/page",
                Err(Invalid("relative URL without a base".into())),
            ),
            (
                "/relative",
                Err(Invalid("relative URL without a base".into())),
            ),
            ("javascript:alert(1)", Err(Scheme("javascript".into()))),
            ("ftp://example.com/f", Err(Scheme("ftp".into()))),
            ("data:text/html,hi", Err(Scheme("data".into()))),
            ("https://user:pw@example.com/", Err(Credentials)),
            ("https://user@example.com/", Err(Credentials)),
            (
                "https://GO.example.com./x",
                Err(SelfReferential("go.example.com".into())),
            ),
            (
                "http://localhost:8080/abc",
                Err(SelfReferential("localhost".into())),
            ),
            (&long, Err(TooLong)),
        ];
        for (input, expected) in cases {
            let got = Destination::parse(input, &served());
            assert_eq!(
                got.as_ref().map(Destination::as_str).map_err(Clone::clone),
                expected.clone(),
                "input {input:?}"
            );
        }
    }

    fn utm(source: &str, medium: &str) -> Utm {
        Utm {
            source: Some(source.into()),
            medium: Some(medium.into()),
            ..Utm::default()
        }
    }

    #[test]
    fn utm_fields_replace_same_named_parameters_and_keep_the_rest() {
        let cases = [
            (
                "https://shop.example/p",
                "https://shop.example/p?utm_source=wa&utm_medium=dark+social",
            ),
            (
                "https://shop.example/p?id=7&utm_source=old#top",
                "https://shop.example/p?id=7&utm_source=wa&utm_medium=dark+social#top",
            ),
            (
                "https://shop.example/p?q=a%20b&flag",
                "https://shop.example/p?q=a%20b&flag&utm_source=wa&utm_medium=dark+social",
            ),
        ];
        for (dest, expected) in cases {
            let d = Destination::parse(dest, &served()).unwrap();
            assert_eq!(d.with_utm(&utm("wa", "dark social")), expected, "{dest}");
        }
        let d = Destination::parse("https://shop.example/p?x=1", &served()).unwrap();
        assert_eq!(d.with_utm(&Utm::default()), "https://shop.example/p?x=1");
    }

    #[test]
    fn short_url_parameters_are_appended_unless_the_target_has_them() {
        let t = "https://shop.example/p?id=7&utm_source=wa#top";
        assert_eq!(
            with_passthrough(t, "fbclid=abc&utm_source=evil&id=9", 2048).as_deref(),
            Some("https://shop.example/p?id=7&utm_source=wa&fbclid=abc#top")
        );
        assert_eq!(
            with_passthrough("https://shop.example/", "a=1", 2048).as_deref(),
            Some("https://shop.example/?a=1")
        );
        assert_eq!(
            with_passthrough(t, "id=1", 2048),
            None,
            "nothing new to add"
        );
        assert_eq!(
            with_passthrough(t, "a=1", 2),
            None,
            "over the cap: dropped whole"
        );
        assert_eq!(with_passthrough(t, "", 2048), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = Destination::parse(&s, &served());
        }

        #[test]
        fn passthrough_keeps_the_target_prefix(q in "[a-z0-9=&%]{0,100}") {
            let t = "https://shop.example/p?id=7";
            if let Some(out) = with_passthrough(t, &q, 2048) {
                prop_assert!(out.starts_with("https://shop.example/p?id=7&"));
            }
        }
    }
}

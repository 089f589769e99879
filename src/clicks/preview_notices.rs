//! The notice of stored previews that instances send each other: the
//! [`SeenPreview`] type, the NOTIFY channel and the payload format. A leaf:
//! the store writes notices, the listener in [`super::previews`] reads them,
//! and this module knows neither (no SQL, no I/O).

use time::OffsetDateTime;

/// The NOTIFY channel of stored previews.
pub const CHANNEL: &str = "lanterne_previews";

/// Previews per notification: PostgreSQL refuses payloads of 8,000 bytes or
/// more, and a line is at most about 60 bytes.
const LINES_PER_PAYLOAD: usize = 100;

/// A preview of a link by an app, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenPreview {
    /// The link previewed.
    pub link_id: i64,
    /// The app that fetched the preview (`whatsapp`, `telegram`, …).
    pub app: String,
    /// When.
    pub at: OffsetDateTime,
}

/// Notification payloads for stored previews: a line `<link id> <unix µs>
/// <app>` each (app names are the classifier's own, without spaces).
pub fn payloads(seen: &[SeenPreview]) -> Vec<String> {
    seen.chunks(LINES_PER_PAYLOAD)
        .map(|chunk| {
            chunk
                .iter()
                .map(|p| {
                    let micros = p.at.unix_timestamp_nanos() / 1_000;
                    format!("{} {micros} {}", p.link_id, p.app)
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// The previews of a payload; lines that do not parse are skipped.
pub fn parse(payload: &str) -> Vec<SeenPreview> {
    payload
        .lines()
        .filter_map(|line| {
            let (link, rest) = line.split_once(' ')?;
            let (micros, app) = rest.split_once(' ')?;
            let micros: i128 = micros.parse().ok()?;
            Some(SeenPreview {
                link_id: link.parse().ok()?,
                app: app.to_owned(),
                at: OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).ok()?,
            })
        })
        .filter(|p| !p.app.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(link_id: i64, app: &str, micros: i64) -> SeenPreview {
        SeenPreview {
            link_id,
            app: app.into(),
            at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).unwrap(),
        }
    }

    #[test]
    fn payloads_round_trip_and_stay_under_postgresql_limit() {
        let many: Vec<_> = (0..250)
            .map(|i| {
                seen(
                    9_000_000_000 + i,
                    "facebook_messenger",
                    1_800_000_000_123_456,
                )
            })
            .collect();
        let out = payloads(&many);
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|p| p.len() < 8_000), "{}", out[0].len());
        let back: Vec<_> = out.iter().flat_map(|p| parse(p)).collect();
        assert_eq!(back, many, "microseconds survive");
    }

    #[test]
    fn lines_that_do_not_parse_are_skipped() {
        let got = parse("7 1800000000000000 whatsapp\nx 1 telegram\n8 nope slack\n9 1\n10 5 \n");
        assert_eq!(got, vec![seen(7, "whatsapp", 1_800_000_000_000_000)]);
    }
}

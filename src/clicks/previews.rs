//! Previews shared between instances. A referrerless click is dark social
//! when a messaging app previewed its link shortly before (the preview
//! window), but behind a load balancer the preview and the click may reach
//! different instances, and a restarted instance has forgotten what it saw.
//! So every instance tells the others of the previews it stores (PostgreSQL
//! `NOTIFY`, sent in the transaction that stores them: only stored previews
//! are told, and only once committed), and loads the previews of the last
//! window from `share_events` when it starts and whenever its listener
//! reconnects (notifications sent meanwhile are lost).

use std::{ops::ControlFlow, time::Duration};

use sqlx::{PgPool, postgres::PgListener};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::store;
use crate::notify;

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

/// Hands the previews stored by any instance to the click writer until the
/// pool closes or the writer is gone: those of the last `window` first, then
/// each one as it is stored. After a lost connection it subscribes again and
/// reloads the window, after a pause if the database does not answer.
pub async fn listen(pool: PgPool, window: Duration, to_writer: mpsc::Sender<Vec<SeenPreview>>) {
    let (pool, to_writer) = (&pool, &to_writer);
    notify::follow(
        pool,
        "previews",
        None,
        || catch_up(pool, window, to_writer),
        |payload| async move {
            let seen = parse(&payload);
            if !seen.is_empty() && to_writer.send(seen).await.is_err() {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    )
    .await;
}

/// Subscribes, then loads the window (in that order, so that no preview
/// stored in between is missed; one told twice is harmless).
async fn catch_up(
    pool: &PgPool,
    window: Duration,
    to_writer: &mpsc::Sender<Vec<SeenPreview>>,
) -> anyhow::Result<PgListener> {
    let listener = notify::subscribe(pool, CHANNEL).await?;
    let seen = store::recent_previews(pool, OffsetDateTime::now_utc() - window).await?;
    if !seen.is_empty() {
        let _ = to_writer.send(seen).await;
    }
    Ok(listener)
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

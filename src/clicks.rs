//! Click capture: the `ClickEvent` a redirect hands over, the `ClickRecord`
//! that is stored, and `ClickSender`, the only clicks API the redirect sees.
//! `send` never waits and never refuses: the event goes into the sharded
//! `ClickQueue` the writer drains — a click is never dropped. Header
//! capture itself lives in [`headers`].

pub mod burst;
pub mod enrich;
pub mod headers;
mod jobs;
pub mod journal;
mod pgcopy;
pub mod preview_notices;
pub mod previews;
pub mod queue;
pub mod rollup;
pub mod seed;
pub mod spool;
pub mod store;
pub mod visitor;
pub mod writer;

use std::{net::IpAddr, sync::Arc};

use axum::http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::links::cache::CachedLink;
pub use headers::{CapturedHeaders, HeaderView, RawHeaders, Text};
use queue::ClickQueue;

/// One redirect, as captured on the hot path. Holds the client IP in memory
/// only: it is dropped when the event becomes a [`ClickRecord`]. Header
/// values are copied as received (see [`RawHeaders`]); decoding happens in
/// the writer, off the hot path.
#[derive(Debug, Clone)]
pub struct ClickEvent {
    /// When the redirect was answered.
    pub occurred_at: OffsetDateTime,
    /// The link, with the facts attribution needs.
    pub link: Arc<CachedLink>,
    /// GET or HEAD.
    pub method: &'static str,
    /// The request headers attribution reads, as received.
    pub headers: RawHeaders,
    /// Client IP (socket, or trusted proxy's X-Forwarded-For). Never written.
    pub ip: Option<IpAddr>,
}

impl ClickEvent {
    /// Captures a redirect of `link` answered at `now` (see [`now_micros`]).
    pub fn capture(
        link: Arc<CachedLink>,
        now: OffsetDateTime,
        method: &Method,
        headers: &HeaderMap,
        ip: Option<IpAddr>,
    ) -> ClickEvent {
        ClickEvent {
            occurred_at: now,
            link,
            method: if method == Method::HEAD {
                "HEAD"
            } else {
                "GET"
            },
            headers: RawHeaders::capture(headers),
            ip,
        }
    }
}

/// Now, in whole microseconds: PostgreSQL keeps microseconds, so every path
/// (COPY, the spool, replay) carries exactly the value that is stored, and a
/// spooled event reads back equal to the one captured.
pub fn now_micros() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// A request as written to the database or the spool: its signals and its
/// classification, never an IP address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickRecord {
    /// Event id (UUIDv7), assigned by the writer; kept for exports and
    /// cross-checks (exactly-once is by batch, see [`Batch`]).
    pub id: Uuid,
    /// Capture time.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Link id.
    pub link_id: i64,
    /// GET or HEAD.
    pub method: Text,
    /// Captured headers.
    #[serde(flatten)]
    pub headers: CapturedHeaders,
    /// Classification and enrichment.
    #[serde(flatten)]
    pub attribution: StoredAttribution,
}

/// Events written together under one id, the unit of exactly-once: a batch
/// is formed once and never changed, through retries, the spool and replay,
/// and the database remembers the ids of the batches it stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Assigned when the batch is formed (UUIDv7).
    pub id: Uuid,
    /// Its events, in capture order.
    pub records: Vec<ClickRecord>,
}

impl Batch {
    /// A new batch of `records`, with a fresh id.
    pub fn new(records: Vec<ClickRecord>) -> Batch {
        Batch {
            id: Uuid::now_v7(),
            records,
        }
    }
}

/// What enrichment adds to a request (see `enrich`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredAttribution {
    /// human, preview, bot or prefetch.
    pub kind: Text,
    /// Channel (humans).
    pub channel: Option<Text>,
    /// App or site.
    pub source: Option<Text>,
    /// In-app browser.
    pub inapp: Option<Text>,
    /// Evidence, strongest first.
    pub evidence: Arc<[Text]>,
    /// Browser family.
    pub browser: Option<Text>,
    /// OS family.
    pub os: Option<Text>,
    /// Device class.
    pub device: Option<Text>,
    /// ISO country code.
    pub country: Option<Text>,
    /// Region.
    pub region: Option<Text>,
    /// City.
    pub city: Option<Text>,
    /// Host of the Referer.
    pub referrer_host: Option<Text>,
    /// Visitor hash (absent under DNT/GPC), inline: no allocation a click.
    pub visitor_hash: Option<[u8; visitor::HASH_BYTES]>,
    /// utm_source of the link at click time.
    pub utm_source: Option<Text>,
    /// utm_medium of the link at click time.
    pub utm_medium: Option<Text>,
    /// utm_campaign of the link at click time.
    pub utm_campaign: Option<Text>,
    /// Clicks stored as human that this one shows to be a burst's (see
    /// `burst`): the store moves them to the bots with this batch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub corrects: Vec<Uuid>,
}

/// A flush request: answered once everything sent before it is stored.
pub type FlushWaiter = oneshot::Sender<Result<(), FlushError>>;

/// Why a flush could not complete.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FlushError {
    /// The database refused or did not answer; events are kept (memory or spool).
    #[error("the database is unavailable; clicks are buffered: {0}")]
    Unavailable(String),
    /// The writer has stopped.
    #[error("the click writer has stopped")]
    Stopped,
}

/// Handle the redirect uses to pass clicks on. Cheap to clone.
#[derive(Clone)]
pub struct ClickSender {
    queue: Arc<ClickQueue>,
    flushes: mpsc::Sender<FlushWaiter>,
}

/// The writer's ends: the queue, and flush requests (closed once every
/// [`ClickSender`] is gone).
pub struct ClickReceiver {
    /// Queued events.
    pub queue: Arc<ClickQueue>,
    /// Flush requests.
    pub flushes: mpsc::Receiver<FlushWaiter>,
}

impl std::fmt::Debug for ClickSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickSender").finish_non_exhaustive()
    }
}

impl ClickSender {
    /// A sender and the receiving ends the writer owns; `capacity` events
    /// may wait before they count as overflow (they are kept all the same).
    pub fn channel(capacity: usize) -> (ClickSender, ClickReceiver) {
        let queue = Arc::new(ClickQueue::new(capacity));
        let (flushes, flush_rx) = mpsc::channel(64);
        (
            ClickSender {
                queue: queue.clone(),
                flushes,
            },
            ClickReceiver {
                queue,
                flushes: flush_rx,
            },
        )
    }

    /// Hands a click to the writer without waiting.
    pub fn send(&self, ev: ClickEvent) {
        self.queue.push(ev);
    }

    /// Waits until every click sent before this call is in the database.
    pub async fn flush(&self) -> Result<(), FlushError> {
        let (reply, answer) = oneshot::channel();
        self.flushes
            .send(reply)
            .await
            .map_err(|_| FlushError::Stopped)?;
        answer.await.map_err(|_| FlushError::Stopped)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_times_are_whole_microseconds() {
        for _ in 0..100 {
            assert_eq!(now_micros().nanosecond() % 1_000, 0);
        }
    }

    #[test]
    fn links_header_capture_and_the_click_store_import_nothing_that_imports_them_back() {
        // (file, its source, what it must not name): the import cycles
        // links ↔ clicks and clicks::store ↔ clicks::previews stay broken.
        let cases = [
            (
                "links/cache.rs",
                include_str!("links/cache.rs"),
                "crate::clicks",
            ),
            ("links.rs", include_str!("links.rs"), "crate::clicks"),
            (
                "clicks/store.rs",
                include_str!("clicks/store.rs"),
                "previews::",
            ),
            (
                "clicks/headers.rs",
                include_str!("clicks/headers.rs"),
                "crate::",
            ),
            (
                "clicks/preview_notices.rs",
                include_str!("clicks/preview_notices.rs"),
                "store::",
            ),
        ];
        for (file, source, forbidden) in cases {
            assert!(
                !source.contains(forbidden),
                "src/{file} names {forbidden}, which depends on it"
            );
        }
    }
}

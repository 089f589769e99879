//! Previews shared between instances. A referrerless click is dark social
//! when a messaging app previewed its link shortly before (the preview
//! window), but behind a load balancer the preview and the click may reach
//! different instances, and a restarted instance has forgotten what it saw.
//! So every instance tells the others of the previews it stores (PostgreSQL
//! `NOTIFY`, sent in the transaction that stores them: only stored previews
//! are told, and only once committed), and loads the previews of the last
//! window from `share_events` when it starts and whenever its listener
//! reconnects (notifications sent meanwhile are lost). The notice format
//! is in [`preview_notices`]; this module is the listener.

use std::{ops::ControlFlow, time::Duration};

use sqlx::{PgPool, postgres::PgListener};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::{
    preview_notices::{self, CHANNEL, SeenPreview},
    store,
};
use crate::notify;

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
            let seen = preview_notices::parse(&payload);
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

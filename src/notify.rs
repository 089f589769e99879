//! Following a PostgreSQL `LISTEN` channel through lost connections. Both
//! followers (link changes for the cache, stored previews for the click
//! writer) need the same thing: a listener that does not reconnect silently
//! (notifications sent while it was away are lost, so the follower must
//! catch up), and a catch-up retried with backoff while the database cannot
//! answer.

use std::{future::Future, ops::ControlFlow, time::Duration};

use sqlx::{PgPool, postgres::PgListener};

/// Subscribes to `channel` on a connection of its own that does not
/// reconnect by itself: a lost connection ends [`follow`]'s inner loop, so
/// that the follower catches up before listening on.
pub async fn subscribe(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener.listen(channel).await?;
    Ok(listener)
}

/// Hands every notification's payload to `notice` until the pool closes or
/// `notice` breaks. Starts from `subscribed` if given; otherwise, and after
/// each lost connection, calls `catch_up` (which subscribes again and then
/// catches up, in that order, so that nothing sent in between is missed),
/// retrying it after a pause that doubles up to 5 s while it fails. `name`
/// names the follower in logs.
pub async fn follow<C, N>(
    pool: &PgPool,
    name: &str,
    subscribed: Option<PgListener>,
    mut catch_up: impl FnMut() -> C,
    mut notice: impl FnMut(String) -> N,
) where
    C: Future<Output = anyhow::Result<PgListener>>,
    N: Future<Output = ControlFlow<()>>,
{
    let mut listener = subscribed;
    let mut delay = Duration::from_millis(100);
    while !pool.is_closed() {
        let mut current = match listener.take() {
            Some(l) => l,
            None => match catch_up().await {
                Ok(l) => {
                    delay = Duration::from_millis(100);
                    l
                }
                Err(e) => {
                    tracing::warn!(error = %e, listener = name, "listener cannot catch up; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        loop {
            match current.try_recv().await {
                Ok(Some(n)) => {
                    if notice(n.payload().to_owned()).await.is_break() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, listener = name, "listener lost its connection");
                    break;
                }
            }
        }
    }
}

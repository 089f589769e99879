//! The database jobs the click writer runs, one at a time: writing a batch
//! and replaying a spool segment. Each returns a `Done` that the writer
//! books; none of them touches the writer's state.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use sqlx::PgPool;

use super::{Batch, ClickRecord, spool, store};

/// Longest time one database write may take before it counts as failed
/// (a black-holed connection must not stall the pipeline).
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A finished database job.
pub(crate) struct Done {
    pub(crate) job: Job,
    /// Rows added, or why the database could not be used (retry later).
    pub(crate) result: Result<u64, String>,
}

/// What a job was about.
pub(crate) enum Job {
    /// A batch from memory (kept here so that a failure can put it back).
    Insert(Arc<Batch>),
    /// A sealed spool segment and the events it held.
    Replay(PathBuf, u64),
}

/// Writes a batch exactly once (see [`store::write_batch`]); events the
/// database refuses are set aside in the spool directory `dir`.
pub(crate) async fn insert(pool: PgPool, batch: Arc<Batch>, dir: PathBuf) -> Done {
    let result = write(&pool, &batch, &dir).await;
    Done {
        job: Job::Insert(batch),
        result,
    }
}

async fn write(pool: &PgPool, batch: &Batch, dir: &Path) -> Result<u64, String> {
    let set_aside = |refused: &[ClickRecord]| set_aside(dir, refused);
    match tokio::time::timeout(WRITE_TIMEOUT, store::write_batch(pool, batch, set_aside)).await {
        Ok(Ok(written)) => {
            if written.duplicate {
                metrics::counter!("lanterne_click_batches_duplicate_total").increment(1);
                tracing::info!(batch.id = %batch.id, "click batch was already stored; skipped");
            }
            Ok(written.rows)
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_owned()),
    }
}

/// Keeps events the database refused on disk, out of the way of the others.
fn set_aside(dir: &Path, refused: &[ClickRecord]) -> std::io::Result<()> {
    let path = spool::reject(dir, refused)?;
    metrics::counter!("lanterne_clicks_rejected_total").increment(refused.len() as u64);
    tracing::error!(clicks.count = refused.len(), spool.rejected = %path.display(), "the database refused clicks; set aside");
    Ok(())
}

/// Writes the batches of one sealed segment and deletes it once all are in.
pub(crate) async fn replay(pool: PgPool, path: PathBuf) -> Done {
    let read_path = path.clone();
    let read = tokio::task::spawn_blocking(move || spool::read_segment(&read_path)).await;
    let (batches, bad) = match read {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return replay_failed(path, 0, e.to_string()),
        Err(e) => return replay_failed(path, 0, e.to_string()),
    };
    if bad > 0 {
        tracing::warn!(spool.segment = %path.display(), spool.bad_lines = bad, "skipped unreadable spool lines");
    }
    let events = (batches.iter().map(|b| b.records.len()).sum::<usize>() + bad) as u64;
    let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
    let mut rows = 0;
    for batch in &batches {
        match write(&pool, batch, &dir).await {
            Ok(n) => rows += n,
            Err(e) => return replay_failed(path, events, e),
        }
    }
    if let Err(e) = tokio::fs::remove_file(&path).await {
        return replay_failed(path, events, e.to_string());
    }
    Done {
        job: Job::Replay(path, events),
        result: Ok(rows),
    }
}

fn replay_failed(path: PathBuf, events: u64, error: String) -> Done {
    Done {
        job: Job::Replay(path, events),
        result: Err(error),
    }
}

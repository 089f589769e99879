//! The database jobs the click writer runs, one at a time: writing a batch
//! (COPY, or a duplicate-skipping insert), isolating events the database
//! refuses, and replaying a spool segment. Each returns a `Done` that the
//! writer books; none of them touches the writer's state.

use std::{path::PathBuf, sync::Arc, time::Duration};

use sqlx::PgPool;

use super::{ClickRecord, spool, store};

/// Longest time one database write may take before it counts as failed
/// (a black-holed connection must not stall the pipeline).
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A finished database job.
pub(crate) struct Done {
    pub(crate) job: Job,
    /// Rows added, or why the database could not be used (retry later).
    pub(crate) result: Result<u64, String>,
    /// Events the database refused (bad data): set aside, never retried.
    pub(crate) refused: Vec<ClickRecord>,
}

/// What a job was about.
pub(crate) enum Job {
    /// A batch from memory (kept here so that a failure can put it back).
    Insert(Arc<Vec<ClickRecord>>),
    /// A sealed spool segment and the events it held.
    Replay(PathBuf, u64),
}

/// Writes a batch: `COPY` for fresh events, a duplicate-skipping insert when
/// `careful`. If the database refuses the data, the batch is bisected so that
/// only the refused events are set aside.
pub(crate) async fn insert(pool: PgPool, batch: Arc<Vec<ClickRecord>>, careful: bool) -> Done {
    let result =
        match tokio::time::timeout(WRITE_TIMEOUT, store::write_batch(&pool, &batch, careful)).await
        {
            Ok(Ok(rows)) => Ok((rows, Vec::new())),
            Ok(Err(e)) if store::is_rejection(&e) => write_isolating(&pool, &batch).await,
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_owned()),
        };
    match result {
        Ok((rows, refused)) => Done {
            job: Job::Insert(batch),
            result: Ok(rows),
            refused,
        },
        Err(e) => Done {
            job: Job::Insert(batch),
            result: Err(e),
            refused: Vec::new(),
        },
    }
}

/// Writes records in halves, recursively, until every refused one is alone:
/// returns the rows added and the refused records.
async fn write_isolating(
    pool: &PgPool,
    records: &[ClickRecord],
) -> Result<(u64, Vec<ClickRecord>), String> {
    let (mut rows, mut refused) = (0, Vec::new());
    let mut parts = vec![records];
    while let Some(part) = parts.pop() {
        match tokio::time::timeout(WRITE_TIMEOUT, store::write_batch(pool, part, true)).await {
            Ok(Ok(n)) => rows += n,
            Ok(Err(e)) if store::is_rejection(&e) && part.len() > 1 => {
                let (a, b) = part.split_at(part.len() / 2);
                parts.push(b);
                parts.push(a);
            }
            Ok(Err(e)) if store::is_rejection(&e) => refused.extend_from_slice(part),
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("timed out".to_owned()),
        }
    }
    Ok((rows, refused))
}

/// Writes one sealed segment in batches and deletes it once all are in.
pub(crate) async fn replay(pool: PgPool, path: PathBuf, batch_size: usize) -> Done {
    let read_path = path.clone();
    let read = tokio::task::spawn_blocking(move || spool::read_segment(&read_path)).await;
    let (records, bad) = match read {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return replay_failed(path, 0, e.to_string()),
        Err(e) => return replay_failed(path, 0, e.to_string()),
    };
    if bad > 0 {
        tracing::warn!(spool.segment = %path.display(), spool.bad_lines = bad, "skipped unreadable spool lines");
    }
    let events = (records.len() + bad) as u64;
    let (mut rows, mut refused) = (0, Vec::new());
    for chunk in records.chunks(batch_size) {
        match write_isolating(&pool, chunk).await {
            Ok((n, r)) => {
                rows += n;
                refused.extend(r);
            }
            Err(e) => return replay_failed(path, events, e),
        }
    }
    if !refused.is_empty() {
        // Set aside before the segment goes, so that nothing is lost.
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        metrics::counter!("lanterne_clicks_rejected_total").increment(refused.len() as u64);
        match spool::reject(dir, &refused) {
            Ok(p) => {
                tracing::error!(clicks.count = refused.len(), spool.rejected = %p.display(), "the database refused spooled clicks; set aside")
            }
            Err(e) => return replay_failed(path, events, e.to_string()),
        }
    }
    if let Err(e) = tokio::fs::remove_file(&path).await {
        return replay_failed(path, events, e.to_string());
    }
    Done {
        job: Job::Replay(path, events),
        result: Ok(rows),
        refused: Vec::new(),
    }
}

fn replay_failed(path: PathBuf, events: u64, error: String) -> Done {
    Done {
        job: Job::Replay(path, events),
        result: Err(error),
        refused: Vec::new(),
    }
}

//! Whether the database answers, as this instance last saw it. A request or
//! a click write that finds PostgreSQL unreachable closes the gate; while it
//! is closed the API answers 503 with `Retry-After` at once instead of each
//! request waiting for the pool's acquire timeout, and one probe a
//! [`PROBE_INTERVAL`] checks whether the database is back, which opens it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::PgPool;

/// `Retry-After` (seconds) of a 503 for an unreachable database, the same
/// as the redirect's.
pub const RETRY_AFTER_SECS: u64 = 5;

/// How often a closed gate probes the database.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// Longest wait for one probe's answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A response extension: this answer found the database unreachable.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUnavailable;

/// The gate, shared by the API and the click writer.
#[derive(Debug, Clone, Default)]
pub struct DbHealth(Arc<Flags>);

#[derive(Debug, Default)]
struct Flags {
    down: AtomicBool,
}

impl DbHealth {
    /// An open gate (the database is assumed up).
    pub fn new() -> DbHealth {
        DbHealth::default()
    }

    /// Whether the database was found unreachable and has not answered since.
    pub fn is_down(&self) -> bool {
        self.0.down.load(Ordering::Relaxed)
    }

    /// Closes the gate and, unless one already runs, starts the probe that
    /// opens it again once `pool` answers.
    pub fn mark_down(&self, pool: &PgPool) {
        if self.0.down.swap(true, Ordering::AcqRel) {
            return;
        }
        metrics::counter!("lanterne_database_outages_total").increment(1);
        tracing::warn!("the database is unreachable; the API answers 503 until it is back");
        let (health, pool) = (self.clone(), pool.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_INTERVAL).await;
                let probe = sqlx::query("select 1").execute(&pool);
                if let Ok(Ok(_)) = tokio::time::timeout(PROBE_TIMEOUT, probe).await {
                    health.0.down.store(false, Ordering::Release);
                    tracing::info!("the database answers again");
                    return;
                }
                if pool.is_closed() {
                    return;
                }
            }
        });
    }
}

/// Whether an error means the database cannot be reached (rather than a
/// refused statement): a client should retry later.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        // A connection that broke while being opened (e.g. a proxy in front
        // of PostgreSQL that accepts and closes).
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01-57P03 (the server
        // is shutting down or starting), 53300 (too many connections).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
        _ => false,
    }
}

//! The click writer: one task that turns queued events into stored rows.
//! It batches by size and interval, keeps one insert in flight while it goes
//! on receiving, retries with backoff when the database fails, keeps events
//! in memory up to `clicks.memory_buffer` and spools the excess to disk,
//! replays the spool once the database answers, and on shutdown drains what
//! it can within the deadline and spools the rest. It never drops an event.

use std::{
    collections::VecDeque,
    future::Future,
    mem,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use sqlx::PgPool;
use tokio::{
    sync::{mpsc, oneshot, watch},
    time::{Instant, MissedTickBehavior},
};

use super::{
    ClickEvent, ClickRecord, FlushError, WriterMsg,
    enrich::Enricher,
    jobs::{self, Done, Job},
    spool,
    spool::Spool,
};
use crate::config::ClickSettings;

/// How often the queue is drained (at most `clicks.flush_interval`).
const DRAIN_INTERVAL: Duration = Duration::from_millis(10);

/// What the writer did over its life, returned when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterReport {
    /// Rows added to the database.
    pub written: u64,
    /// Events left in the spool at exit.
    pub spooled: u64,
}

type InFlight = Pin<Box<dyn Future<Output = Done> + Send>>;

/// The writer task's state.
pub struct Writer {
    pool: PgPool,
    rx: mpsc::Receiver<WriterMsg>,
    overflow: Arc<Mutex<Vec<ClickEvent>>>,
    spool: Spool,
    enricher: Enricher,
    cfg: ClickSettings,
    pending: VecDeque<ClickRecord>,
    waiters: Vec<oneshot::Sender<Result<(), FlushError>>>,
    retry_at: Option<Instant>,
    delay: Duration,
    // Set by a failure: events may have been sent before (a write can commit
    // and still fail to be acknowledged), so writes skip duplicates until
    // everything buffered at the time is in. Otherwise the faster COPY is used.
    careful: bool,
    report: WriterReport,
}

impl Writer {
    /// A writer over the receiving ends of a [`super::ClickSender`].
    pub fn new(
        pool: PgPool,
        rx: mpsc::Receiver<WriterMsg>,
        overflow: Arc<Mutex<Vec<ClickEvent>>>,
        spool: Spool,
        enricher: Enricher,
        cfg: ClickSettings,
    ) -> Writer {
        Writer {
            pool,
            rx,
            overflow,
            spool,
            enricher,
            delay: cfg.retry_min,
            cfg,
            pending: VecDeque::new(),
            waiters: Vec::new(),
            retry_at: None,
            careful: false,
            report: WriterReport::default(),
        }
    }

    /// Runs until `shutdown` turns true (or every sender is gone), then drains
    /// within `deadline` and spools what is left.
    pub async fn run(
        mut self,
        mut shutdown: watch::Receiver<bool>,
        deadline: Duration,
    ) -> WriterReport {
        let mut tick = tokio::time::interval(self.cfg.flush_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The queue is drained on a short timer instead of awaited message by
        // message: a send to a task that is not waiting wakes nobody, which
        // spares the redirect a cross-thread wake-up per click.
        let mut drain = tokio::time::interval(DRAIN_INTERVAL.min(self.cfg.flush_interval));
        drain.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut in_flight: Option<InFlight> = None;
        let mut due = false;
        loop {
            tokio::select! {
                biased;
                done = async { in_flight.as_mut().expect("guarded").await }, if in_flight.is_some() => {
                    in_flight = None;
                    self.finish(done);
                }
                _ = drain.tick() => {
                    if !self.drain_queue() {
                        break;
                    }
                    self.drain_overflow();
                }
                _ = tick.tick() => {
                    self.drain_overflow();
                    self.enricher.prune(time::OffsetDateTime::now_utc());
                    self.publish_gauges();
                    due = true;
                }
                _ = shutdown.changed() => break,
            }
            self.spool_excess();
            if in_flight.is_none() {
                in_flight = self.next_job(due);
                due &= in_flight.is_none();
            }
            if in_flight.is_none() {
                self.answer_waiters_if_idle();
            }
        }
        self.stop(in_flight, deadline).await
    }

    /// Starts the next database job, if one is due.
    fn next_job(&mut self, due: bool) -> Option<InFlight> {
        let forced = !self.waiters.is_empty();
        if self.retry_at.is_some_and(|t| Instant::now() < t) && !forced {
            return None;
        }
        if !self.pending.is_empty() && (due || forced || self.pending.len() >= self.cfg.batch_size)
        {
            let n = self.pending.len().min(self.cfg.batch_size);
            let batch = Arc::new(self.pending.drain(..n).collect::<Vec<_>>());
            return Some(Box::pin(jobs::insert(
                self.pool.clone(),
                batch,
                self.careful,
            )));
        }
        if self.pending.is_empty() && self.spool.events() > 0 {
            if let Err(e) = self.spool.seal() {
                tracing::error!(error = %e, "cannot seal the click spool segment");
            }
            let segment = self.spool.sealed().ok()?.into_iter().next()?;
            return Some(Box::pin(jobs::replay(
                self.pool.clone(),
                segment,
                self.cfg.batch_size,
            )));
        }
        None
    }

    /// Books the outcome of a job: counters, backoff, and on failure puts the
    /// batch back in front (a replayed segment simply stays on disk).
    fn finish(&mut self, done: Done) {
        match (done.result, done.job) {
            (Ok(rows), job) => {
                if !done.refused.is_empty() {
                    self.set_aside(&done.refused);
                }
                self.retry_at = None;
                self.careful &= !self.pending.is_empty();
                self.delay = self.cfg.retry_min;
                self.report.written += rows;
                metrics::counter!("lanterne_click_batches_written_total").increment(1);
                metrics::counter!("lanterne_click_rows_written_total").increment(rows);
                if let Job::Replay(path, events) = job {
                    self.spool.replayed(events);
                    metrics::counter!("lanterne_clicks_replayed_total").increment(events);
                    tracing::info!(spool.segment = %path.display(), batch.rows = rows, "click spool segment replayed");
                }
            }
            (Err(error), job) => {
                self.careful = true;
                metrics::counter!("lanterne_click_write_errors_total").increment(1);
                tracing::warn!(error = %error, retry_in_ms = self.delay.as_millis() as u64, "click write failed; events kept");
                self.retry_at = Some(Instant::now() + self.delay);
                self.delay = (self.delay * 2).min(self.cfg.retry_max);
                if let Job::Insert(batch) = job {
                    let batch = Arc::try_unwrap(batch).unwrap_or_else(|b| (*b).clone());
                    for r in batch.into_iter().rev() {
                        self.pending.push_front(r);
                    }
                }
                for w in self.waiters.drain(..) {
                    let _ = w.send(Err(FlushError::Unavailable(error.clone())));
                }
            }
        }
    }

    /// Takes every queued message; false once every sender is gone.
    fn drain_queue(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(WriterMsg::Click(ev)) => {
                    let record = self.enricher.enrich(ev);
                    self.pending.push_back(record);
                }
                Ok(WriterMsg::Flush(w)) => self.waiters.push(w),
                Err(mpsc::error::TryRecvError::Empty) => return true,
                Err(mpsc::error::TryRecvError::Disconnected) => return false,
            }
        }
    }

    /// Keeps events the database refused on disk, out of the way of the others.
    fn set_aside(&mut self, records: &[ClickRecord]) {
        metrics::counter!("lanterne_clicks_rejected_total").increment(records.len() as u64);
        match spool::reject(self.spool.dir(), records) {
            Ok(path) => {
                tracing::error!(clicks.count = records.len(), spool.rejected = %path.display(), "the database refused clicks; set aside")
            }
            // Keep them in memory rather than lose them; they will be refused again.
            Err(e) => {
                tracing::error!(error = %e, "refused clicks could not be set aside; keeping them in memory");
                self.pending.extend(records.iter().cloned());
            }
        }
    }

    /// Moves events that overflowed the queue into the buffer.
    fn drain_overflow(&mut self) {
        let spilled = mem::take(&mut *self.overflow.lock().unwrap_or_else(|p| p.into_inner()));
        let enricher = &mut self.enricher;
        self.pending
            .extend(spilled.into_iter().map(|ev| enricher.enrich(ev)));
    }

    /// Keeps memory bounded: the newest events beyond the buffer go to disk.
    fn spool_excess(&mut self) {
        let limit = self.cfg.memory_buffer;
        if self.pending.len() <= limit {
            return;
        }
        let excess: Vec<ClickRecord> = self.pending.drain(limit..).collect();
        self.spool_records(excess);
    }

    fn spool_records(&mut self, records: Vec<ClickRecord>) {
        match self.spool.append(&records) {
            Ok(()) => {
                metrics::counter!("lanterne_clicks_spooled_total").increment(records.len() as u64)
            }
            Err(e) => {
                // Disk full or unwritable: keep them in memory rather than lose them.
                tracing::error!(error = %e, "cannot write the click spool; keeping events in memory");
                self.pending.extend(records);
            }
        }
    }

    /// Answers flush requests once nothing is buffered, in flight or spooled.
    fn answer_waiters_if_idle(&mut self) {
        if self.pending.is_empty() && self.spool.events() == 0 && self.overflow_is_empty() {
            for w in self.waiters.drain(..) {
                let _ = w.send(Ok(()));
            }
        }
    }

    fn overflow_is_empty(&self) -> bool {
        self.overflow
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    fn publish_gauges(&self) {
        metrics::gauge!("lanterne_click_queue_depth").set(self.rx.len() as f64);
        metrics::gauge!("lanterne_click_buffer_events").set(self.pending.len() as f64);
        metrics::gauge!("lanterne_click_spool_events").set(self.spool.events() as f64);
    }

    /// Shutdown: take everything queued, write within the deadline, spool the rest.
    async fn stop(mut self, in_flight: Option<InFlight>, deadline: Duration) -> WriterReport {
        let until = Instant::now() + deadline;
        self.rx.close();
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                WriterMsg::Click(ev) => {
                    let record = self.enricher.enrich(ev);
                    self.pending.push_back(record);
                }
                WriterMsg::Flush(w) => self.waiters.push(w),
            }
        }
        self.drain_overflow();
        if let Some(job) = in_flight {
            match tokio::time::timeout_at(until, job).await {
                Ok(done) => self.finish(done),
                // The batch may or may not have committed: spool it; replay is idempotent.
                Err(_) => tracing::warn!("click write still running at the shutdown deadline"),
            }
        }
        while !self.pending.is_empty() && Instant::now() < until {
            let n = self.pending.len().min(self.cfg.batch_size);
            let batch = Arc::new(self.pending.drain(..n).collect::<Vec<_>>());
            match tokio::time::timeout_at(
                until,
                jobs::insert(self.pool.clone(), batch.clone(), true),
            )
            .await
            {
                Ok(done) if done.result.is_ok() => self.finish(done),
                Ok(done) => {
                    self.finish(done);
                    break;
                }
                Err(_) => {
                    self.pending
                        .extend(Arc::try_unwrap(batch).unwrap_or_else(|b| (*b).clone()));
                    break;
                }
            }
        }
        let rest: Vec<ClickRecord> = self.pending.drain(..).collect();
        if !rest.is_empty() {
            self.spool_records(rest);
        }
        if let Err(e) = self.spool.seal() {
            tracing::error!(error = %e, "cannot seal the click spool at shutdown");
        }
        let left = self.pending.len();
        if left > 0 {
            tracing::error!(
                clicks.lost = left,
                "clicks could be neither written nor spooled"
            );
        }
        for w in self.waiters.drain(..) {
            let _ = w.send(Err(FlushError::Stopped));
        }
        self.report.spooled = self.spool.events();
        self.publish_gauges();
        tracing::info!(
            clicks.written = self.report.written,
            clicks.spooled = self.report.spooled,
            "click writer stopped"
        );
        self.report
    }
}

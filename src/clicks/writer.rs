//! The click writer: one task that turns queued events into stored rows.
//! It forms batches by size and interval (a batch, once formed, never
//! changes: it is the unit of exactly-once), keeps one write in flight while
//! it goes on receiving, retries with backoff when the database fails, keeps
//! events in memory up to `clicks.memory_buffer` and spools whole batches
//! beyond it, replays the spool once the database answers, and on shutdown
//! drains what it can within the deadline and spools the rest. It never
//! drops an event.

use std::{collections::VecDeque, future::Future, mem, pin::Pin, sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::{
    sync::{mpsc, watch},
    time::{Instant, MissedTickBehavior},
};
use uuid::Uuid;

use super::{
    Batch, ClickEvent, ClickReceiver, ClickRecord, FlushError, FlushWaiter,
    enrich::Enricher,
    jobs::{self, Done, Job},
    journal::Journal,
    preview_notices::SeenPreview,
    queue::ClickQueue,
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
    queue: Arc<ClickQueue>,
    flushes: mpsc::Receiver<FlushWaiter>,
    // Previews stored by any instance (see `previews.rs`), for the enricher.
    stored_previews: Option<mpsc::Receiver<Vec<SeenPreview>>>,
    // Reused between drains.
    taken: Vec<ClickEvent>,
    spool: Spool,
    enricher: Enricher,
    cfg: ClickSettings,
    // Events not yet in a batch.
    open: Vec<ClickRecord>,
    // Formed batches waiting to be written, oldest first.
    batches: VecDeque<Batch>,
    // The batch being written, kept so that shutdown can spool it if the
    // write does not finish in time (the ledger makes that safe either way).
    sending: Option<Arc<Batch>>,
    waiters: Vec<FlushWaiter>,
    retry_at: Option<Instant>,
    delay: Duration,
    report: WriterReport,
    // When the write in flight started.
    sending_since: Option<Instant>,
    // In an outage (see `clicks.spool_after`): everything held is spooled.
    outage: bool,
    // The id the open events' batch will have (journaled under it).
    open_id: Uuid,
    // `clicks.durability = "spool"`: every drain is journaled.
    journal: Option<Journal>,
}

impl Writer {
    /// A writer over the receiving ends of a [`super::ClickSender`].
    pub fn new(
        pool: PgPool,
        receiver: ClickReceiver,
        spool: Spool,
        enricher: Enricher,
        cfg: ClickSettings,
    ) -> Writer {
        Writer {
            pool,
            queue: receiver.queue,
            flushes: receiver.flushes,
            stored_previews: None,
            taken: Vec::new(),
            spool,
            enricher,
            delay: cfg.retry_min,
            cfg,
            open: Vec::new(),
            batches: VecDeque::new(),
            sending: None,
            waiters: Vec::new(),
            retry_at: None,
            report: WriterReport::default(),
            sending_since: None,
            outage: false,
            open_id: Uuid::now_v7(),
            journal: None,
        }
    }

    /// Gives the enricher the previews stored by every instance, so that a
    /// click is matched with a preview whichever instance saw it.
    pub fn with_stored_previews(mut self, previews: mpsc::Receiver<Vec<SeenPreview>>) -> Writer {
        self.stored_previews = Some(previews);
        self
    }

    /// Journals every drain of events before its batch is sent
    /// (`clicks.durability = "spool"`).
    pub fn with_journal(mut self, journal: Journal) -> Writer {
        self.journal = Some(journal);
        self
    }

    /// Runs until `shutdown` names an instant (or every sender is gone), then
    /// drains until that instant and spools what is left.
    pub async fn run(
        mut self,
        mut shutdown: watch::Receiver<Option<Instant>>,
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
                    let open = self.drain_queue();
                    self.sync_journal();
                    if !open {
                        break;
                    }
                }
                _ = tick.tick() => {
                    self.enricher.prune(time::OffsetDateTime::now_utc());
                    self.publish_gauges();
                    due = true;
                }
                _ = shutdown.wait_for(Option::is_some) => break,
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
        let until = shutdown
            .borrow()
            .unwrap_or_else(|| Instant::now() + deadline);
        self.stop(in_flight, until).await
    }

    /// Starts the next database job, if one is due.
    fn next_job(&mut self, due: bool) -> Option<InFlight> {
        let forced = !self.waiters.is_empty();
        if self.retry_at.is_some_and(|t| Instant::now() < t) && !forced {
            return None;
        }
        if self.batches.is_empty() && !self.open.is_empty() && (due || forced) {
            self.form_batch();
        }
        if let Some(batch) = self.batches.pop_front() {
            let batch = Arc::new(batch);
            self.sending = Some(batch.clone());
            self.sending_since = Some(Instant::now());
            return Some(Box::pin(jobs::insert(
                self.pool.clone(),
                batch,
                self.spool.dir().to_owned(),
            )));
        }
        if self.spool.events() > 0 {
            if let Err(e) = self.spool.seal() {
                tracing::error!(error = %e, "cannot seal the click spool segment");
            }
            let segment = self.spool.sealed().ok()?.into_iter().next()?;
            return Some(Box::pin(jobs::replay(self.pool.clone(), segment)));
        }
        None
    }

    /// Turns the events not yet in a batch into one.
    fn form_batch(&mut self) {
        if !self.open.is_empty() {
            // The next batch is likely the size of this one: reserving it
            // spares the pushes a run of reallocations and moves.
            let next = Vec::with_capacity(self.open.len().min(self.cfg.batch_size));
            let records = mem::replace(&mut self.open, next);
            let id = mem::replace(&mut self.open_id, Uuid::now_v7());
            self.batches.push_back(Batch { id, records });
        }
    }

    /// Events held in memory.
    fn buffered(&self) -> usize {
        self.open.len() + self.batches.iter().map(|b| b.records.len()).sum::<usize>()
    }

    /// Books the outcome of a job: counters, backoff, and on failure puts the
    /// batch back in front, unchanged (a replayed segment simply stays on disk).
    fn finish(&mut self, done: Done) {
        self.sending = None;
        self.sending_since = None;
        match (done.result, done.job) {
            (Ok(rows), job) => {
                if let Job::Insert(batch) = &job {
                    self.retire(batch.id);
                }
                if self.outage {
                    tracing::info!("click writes succeed again; the outage is over");
                }
                self.outage = false;
                self.retry_at = None;
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
                metrics::counter!("lanterne_click_write_errors_total").increment(1);
                tracing::warn!(error = %error, retry_in_ms = self.delay.as_millis() as u64, "click write failed; events kept");
                self.retry_at = Some(Instant::now() + self.delay);
                self.delay = (self.delay * 2).min(self.cfg.retry_max);
                if let Job::Insert(batch) = job {
                    self.batches.push_front(unshare(batch));
                }
                self.begin_outage();
                for w in self.waiters.drain(..) {
                    let _ = w.send(Err(FlushError::Unavailable(error.clone())));
                }
            }
        }
    }

    /// Takes flush requests and every queued event; false once every
    /// sender is gone.
    fn drain_queue(&mut self) -> bool {
        let mut open = true;
        loop {
            match self.flushes.try_recv() {
                Ok(w) => self.waiters.push(w),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        // Previews first: a click queued after one must see it.
        if let Some(previews) = &mut self.stored_previews {
            let now = time::OffsetDateTime::now_utc();
            while let Ok(stored) = previews.try_recv() {
                self.enricher.remember_stored(stored, now);
            }
        }
        let mut taken = mem::take(&mut self.taken);
        self.queue.take_all(&mut taken);
        for ev in taken.drain(..) {
            self.accept(ev);
        }
        self.taken = taken;
        open
    }

    /// Enriches an event into the open batch; a full batch is formed.
    fn accept(&mut self, ev: ClickEvent) {
        let record = self.enricher.enrich(ev);
        self.journal_record(&record);
        self.open.push(record);
        if self.open.len() >= self.cfg.batch_size {
            self.form_batch();
        }
    }

    /// Starts spooling everything (a write failed, or hangs).
    fn begin_outage(&mut self) {
        if !self.outage {
            tracing::warn!("click writes fail or hang; spooling clicks until the database is back");
            metrics::counter!("lanterne_click_outages_total").increment(1);
        }
        self.outage = true;
    }

    /// Keeps memory bounded: the newest whole batches beyond the buffer go
    /// to disk; during an outage, every batch (and the open events).
    fn spool_excess(&mut self) {
        if !self.outage
            && self
                .sending_since
                .is_some_and(|t| t.elapsed() >= self.cfg.spool_after)
        {
            self.begin_outage();
        }
        if self.outage {
            self.form_batch();
            while let Some(batch) = self.batches.pop_front() {
                let before = self.batches.len();
                self.spool_batch(batch);
                if self.batches.len() > before {
                    break; // the spool refused it: kept in memory
                }
            }
            return;
        }
        let limit = self.cfg.memory_buffer;
        let mut held = self.buffered();
        if held <= limit {
            return;
        }
        self.form_batch();
        let mut spill = Vec::new();
        while held > limit {
            let Some(batch) = self.batches.pop_back() else {
                break;
            };
            held -= batch.records.len();
            spill.push(batch);
        }
        for batch in spill.into_iter().rev() {
            self.spool_batch(batch);
        }
    }

    fn spool_batch(&mut self, batch: Batch) {
        match self.spool.append(&batch) {
            Ok(()) => {
                self.retire(batch.id);
                metrics::counter!("lanterne_clicks_spooled_total")
                    .increment(batch.records.len() as u64)
            }
            Err(e) => {
                // Disk full or unwritable: keep them in memory rather than lose them.
                tracing::error!(error = %e, "cannot write the click spool; keeping events in memory");
                self.batches.push_back(batch);
            }
        }
    }

    /// Answers flush requests once nothing is buffered, in flight or spooled.
    fn answer_waiters_if_idle(&mut self) {
        if self.buffered() == 0 && self.spool.events() == 0 && self.queue.is_empty() {
            for w in self.waiters.drain(..) {
                let _ = w.send(Ok(()));
            }
        }
    }

    fn publish_gauges(&self) {
        metrics::gauge!("lanterne_click_queue_depth").set(self.queue.len() as f64);
        metrics::gauge!("lanterne_click_buffer_events").set(self.buffered() as f64);
        metrics::gauge!("lanterne_click_spool_events").set(self.spool.events() as f64);
    }

    /// Shutdown: take everything queued, write within the deadline, spool the rest.
    async fn stop(mut self, in_flight: Option<InFlight>, until: Instant) -> WriterReport {
        self.flushes.close();
        self.drain_queue();
        self.sync_journal();
        self.form_batch();
        if let Some(job) = in_flight
            && let Ok(done) = tokio::time::timeout_at(until, job).await
        {
            self.finish(done);
        }
        while Instant::now() < until && self.sending.is_none() {
            let Some(batch) = self.batches.pop_front() else {
                break;
            };
            let batch = Arc::new(batch);
            self.sending = Some(batch.clone());
            let job = jobs::insert(self.pool.clone(), batch, self.spool.dir().to_owned());
            match tokio::time::timeout_at(until, job).await {
                Ok(done) if done.result.is_ok() => self.finish(done),
                Ok(done) => {
                    self.finish(done);
                    break;
                }
                Err(_) => break,
            }
        }
        if let Some(batch) = self.sending.take() {
            // Cut by the deadline: it may or may not have committed. Spooled
            // under its id, it is stored once either way.
            tracing::warn!(batch.id = %batch.id, "click write still running at the shutdown deadline; spooling its batch");
            self.batches.push_front(unshare(batch));
        }
        while let Some(batch) = self.batches.pop_front() {
            let before = self.batches.len();
            self.spool_batch(batch);
            if self.batches.len() > before {
                // The spool refused it (and kept it in memory): stop trying.
                break;
            }
        }
        if let Err(e) = self.spool.seal() {
            tracing::error!(error = %e, "cannot seal the click spool at shutdown");
        }
        let left = self.buffered();
        if left > 0 {
            tracing::error!(
                clicks.lost = left,
                "clicks could be neither written nor spooled"
            );
        }
        for w in self.waiters.drain(..) {
            let _ = w.send(Err(FlushError::Stopped));
        }
        if let Some(journal) = self.journal.take() {
            journal.close();
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

/// The journal (`clicks.durability = "spool"`), kept apart from the rest of
/// the writer.
impl Writer {
    /// Adds an accepted event to the next journal sync.
    fn journal_record(&mut self, record: &ClickRecord) {
        if let Some(journal) = &mut self.journal
            && let Err(e) = journal.record(self.open_id, record)
        {
            metrics::counter!("lanterne_click_journal_errors_total").increment(1);
            tracing::error!(error = %e, "cannot journal a click");
        }
    }

    /// One fsync for everything drained since the last one, before any of
    /// it is sent.
    fn sync_journal(&mut self) {
        if let Some(journal) = &mut self.journal
            && let Err(e) = journal.sync()
        {
            metrics::counter!("lanterne_click_journal_errors_total").increment(1);
            tracing::error!(error = %e, "cannot sync the click journal; a crash may lose these clicks");
        }
    }

    /// A batch is committed or spooled: the journal lets it go.
    fn retire(&mut self, batch: Uuid) {
        if let Some(journal) = &mut self.journal {
            journal.retire(batch);
        }
    }
}

/// The batch of a finished job (the writer held the only other reference).
fn unshare(batch: Arc<Batch>) -> Batch {
    Arc::try_unwrap(batch).unwrap_or_else(|b| (*b).clone())
}

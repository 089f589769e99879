//! The journal behind `clicks.durability = "spool"`: every drain of events
//! is appended, in the spool's line format, to a file of
//! `<spool_dir>/journal/` with one fsync for the whole drain, before its
//! batch is sent. A journal file remembers which of its batches are not yet
//! committed (or moved to the spool); once none is left it is deleted.
//! After a crash, [`recover`] turns the journal files into spool segments:
//! replay stores the batches the ledger does not have yet, and skips the
//! others, so every click is stored exactly once.

use std::{
    collections::HashSet,
    fs::{self, File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
};

use uuid::Uuid;

use super::{ClickRecord, spool};

/// Lines per journal file before the next batch starts a new one (a batch
/// is never split across files, so that replay stores it whole).
const FILE_LINES: usize = 10_000;

const DIR: &str = "journal";
const EXT: &str = "wal";

/// A journal file and the batches in it that are not yet retired.
#[derive(Debug)]
struct JournalFile {
    path: PathBuf,
    file: Option<File>,
    lines: usize,
    pending: HashSet<Uuid>,
}

/// The open journal of one writer.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    // Lines recorded since the last sync, for the current file.
    buf: Vec<u8>,
    last_batch: Option<Uuid>,
    current: Option<JournalFile>,
    // Older files that still hold a pending batch.
    older: Vec<JournalFile>,
}

impl Journal {
    /// Opens (creating) `<spool_dir>/journal`. Files left by a crash have
    /// been moved to the spool by [`recover`] (see `Spool::open`).
    pub fn open(spool_dir: &Path) -> io::Result<Journal> {
        let dir = spool_dir.join(DIR);
        fs::create_dir_all(&dir)?;
        Ok(Journal {
            dir,
            buf: Vec::new(),
            last_batch: None,
            current: None,
            older: Vec::new(),
        })
    }

    /// Adds an event of `batch` to the next sync.
    pub fn record(&mut self, batch: Uuid, record: &ClickRecord) -> io::Result<()> {
        if self.last_batch != Some(batch) {
            self.last_batch = Some(batch);
            if self.current.as_ref().is_some_and(|f| f.lines >= FILE_LINES) {
                self.sync()?;
                let full = self.current.take().expect("checked");
                self.keep_or_delete(full);
            }
        }
        spool::write_line(&mut self.buf, batch, record)?;
        let current = self.current_file()?;
        current.lines += 1;
        current.pending.insert(batch);
        Ok(())
    }

    /// Writes what was recorded since the last sync and fsyncs it (one
    /// fsync for the whole drain).
    pub fn sync(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        let file = self.current_file()?;
        let handle = file.file.as_mut().expect("the current file is open");
        let written = handle.write_all(&buf).and_then(|()| handle.sync_data());
        // Cleared even on failure: a retried partial write could repeat
        // lines; the events are still held in memory either way.
        self.buf = buf;
        self.buf.clear();
        written
    }

    /// A batch is committed, or held by the spool: the journal no longer
    /// needs it. Files left without a pending batch are deleted.
    pub fn retire(&mut self, batch: Uuid) {
        if let Some(current) = &mut self.current {
            current.pending.remove(&batch);
        }
        let mut kept = Vec::with_capacity(self.older.len());
        for mut file in self.older.drain(..) {
            file.pending.remove(&batch);
            if file.pending.is_empty() {
                delete(&file.path);
            } else {
                kept.push(file);
            }
        }
        self.older = kept;
    }

    /// Batches recorded and not yet retired.
    pub fn pending(&self) -> usize {
        self.older
            .iter()
            .chain(&self.current)
            .map(|f| f.pending.len())
            .sum()
    }

    /// At a clean stop: deletes the files once nothing in them is pending
    /// (everything was written or spooled); otherwise leaves them for
    /// [`recover`].
    pub fn close(mut self) {
        if let Some(current) = self.current.take() {
            self.keep_or_delete(current);
        }
        if !self.older.is_empty() {
            tracing::warn!(
                journal.files = self.older.len(),
                "click journal kept: some batches were neither written nor spooled"
            );
        }
    }

    fn keep_or_delete(&mut self, mut file: JournalFile) {
        file.file = None;
        if file.pending.is_empty() {
            delete(&file.path);
        } else {
            self.older.push(file);
        }
    }

    fn current_file(&mut self) -> io::Result<&mut JournalFile> {
        if self.current.is_none() {
            let path = self
                .dir
                .join(format!("clicks-{}.{EXT}", Uuid::now_v7().simple()));
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)?;
            self.current = Some(JournalFile {
                path,
                file: Some(file),
                lines: 0,
                pending: HashSet::new(),
            });
        }
        Ok(self.current.as_mut().expect("just set"))
    }
}

fn delete(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        tracing::warn!(error = %e, journal.file = %path.display(), "cannot delete a retired click journal file");
    }
}

/// Moves journal files left by a crash into the spool directory as sealed
/// segments, to be replayed (batches already stored are skipped by the
/// ledger). Returns how many were moved.
pub fn recover(spool_dir: &Path) -> io::Result<usize> {
    let dir = spool_dir.join(DIR);
    if !dir.is_dir() {
        return Ok(0);
    }
    let mut moved = 0;
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == EXT) {
            let name = path.file_stem().unwrap_or_default();
            let to = spool_dir.join(name).with_extension("jsonl");
            fs::rename(&path, to)?;
            moved += 1;
        }
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clicks::{Batch, spool::Spool};

    fn record(i: i64) -> ClickRecord {
        ClickRecord {
            id: Uuid::now_v7(),
            occurred_at: time::OffsetDateTime::now_utc(),
            link_id: i,
            method: "GET".into(),
            headers: Default::default(),
            attribution: Default::default(),
        }
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lanterne-journal-{}", Uuid::now_v7()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn files(dir: &Path) -> usize {
        fs::read_dir(dir.join(DIR)).unwrap().count()
    }

    #[test]
    fn a_crash_leaves_unretired_batches_to_the_spool_whole() {
        let dir = tempdir();
        let mut journal = Journal::open(&dir).unwrap();
        let first = Batch::new((0..3).map(record).collect());
        let second = Batch::new((3..5).map(record).collect());
        for b in [&first, &second] {
            for r in &b.records {
                journal.record(b.id, r).unwrap();
            }
        }
        journal.sync().unwrap();
        journal.retire(first.id);
        assert_eq!(journal.pending(), 1);
        drop(journal); // a crash: never closed
        assert_eq!(recover(&dir).unwrap(), 1);
        assert_eq!(files(&dir), 0, "recovered files leave the journal");
        let spool = Spool::open(&dir).unwrap();
        let segs = spool.sealed().unwrap();
        assert_eq!(segs.len(), 1);
        let (read, bad) = spool::read_segment(&segs[0]).unwrap();
        assert_eq!(bad, 0);
        // The file still holds the retired batch: the ledger skips it on replay.
        assert_eq!(read, vec![first, second]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn files_whose_batches_are_all_retired_are_deleted() {
        let dir = tempdir();
        let mut journal = Journal::open(&dir).unwrap();
        let mut ids = Vec::new();
        // Enough batches to fill two files and start a third.
        for _ in 0..(2 * FILE_LINES / 1000 + 1) {
            let b = Batch::new((0..1000).map(record).collect());
            for r in &b.records {
                journal.record(b.id, r).unwrap();
            }
            journal.sync().unwrap();
            ids.push(b.id);
        }
        assert_eq!(files(&dir), 3);
        let last = ids.pop().unwrap();
        for id in &ids {
            journal.retire(*id);
        }
        assert_eq!(files(&dir), 1, "only the current file is left");
        assert_eq!(journal.pending(), 1);
        journal.retire(last);
        journal.close();
        assert_eq!(files(&dir), 0, "a clean stop leaves no journal");
        assert_eq!(recover(&dir).unwrap(), 0);
        fs::remove_dir_all(dir).unwrap();
    }
}

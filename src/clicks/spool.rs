//! The spool: append-only files of click batches (JSON Lines, one event per
//! line carrying its batch id) that hold what the database could not take
//! yet. A batch is never split across segments, so that replay writes it
//! whole under its id (exactly once, see `store::write_batch`). A segment is
//! written as `*.open` and renamed to `*.jsonl` once sealed; sealed segments
//! are replayed oldest first and deleted only after every batch is in the
//! database. Records never hold an IP address. One spool directory belongs
//! to one instance.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Batch, ClickRecord};

/// Records per segment before a new one is started (a few MB: a segment is
/// read whole on replay). A segment may exceed it by less than one batch.
const SEGMENT_RECORDS: usize = 10_000;

/// A spool line as written: the event and the batch it belongs to.
#[derive(Serialize)]
struct LineOut<'a> {
    batch: Uuid,
    #[serde(flatten)]
    record: &'a ClickRecord,
}

/// A spool line as read. Lines without a batch id (none are written any
/// more) form one batch per segment whose id is derived from the segment's
/// name, so that replaying the same file twice still stores them once.
#[derive(Deserialize)]
struct LineIn {
    #[serde(default)]
    batch: Option<Uuid>,
    #[serde(flatten)]
    record: ClickRecord,
}

/// An open spool directory.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    current: Option<(PathBuf, File, usize)>,
    events: u64,
}

impl Spool {
    /// Opens (creating) the directory; segments left open by a crash are sealed.
    pub fn open(dir: &Path) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let recovered = super::journal::recover(dir)?;
        if recovered > 0 {
            tracing::info!(
                journal.files = recovered,
                "click journal left by a crash moved to the spool"
            );
        }
        let mut events = 0;
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "open") {
                fs::rename(&path, path.with_extension("jsonl"))?;
            }
        }
        for path in segments(dir)? {
            events += count_lines(&path)?;
        }
        Ok(Spool {
            dir: dir.to_owned(),
            current: None,
            events,
        })
    }

    /// Appends a batch, whole, to the current segment and syncs it to disk.
    pub fn append(&mut self, batch: &Batch) -> io::Result<()> {
        let mut buf = Vec::with_capacity(batch.records.len() * 600);
        for record in &batch.records {
            write_line(&mut buf, batch.id, record)?;
        }
        let (_, file, count) = self.current_segment()?;
        file.write_all(&buf)?;
        file.sync_data()?;
        *count += batch.records.len();
        let full = *count >= SEGMENT_RECORDS;
        self.events += batch.records.len() as u64;
        if full {
            self.seal()?;
        }
        Ok(())
    }

    /// Closes the segment being written so that it can be replayed.
    pub fn seal(&mut self) -> io::Result<()> {
        if let Some((path, file, _)) = self.current.take() {
            file.sync_all()?;
            drop(file);
            fs::rename(&path, path.with_extension("jsonl"))?;
        }
        Ok(())
    }

    /// Sealed segments, oldest first.
    pub fn sealed(&self) -> io::Result<Vec<PathBuf>> {
        segments(&self.dir)
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Events currently spooled (sealed or not).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Records that a replayed segment's events left the spool.
    pub fn replayed(&mut self, events: u64) {
        self.events = self.events.saturating_sub(events);
    }

    fn current_segment(&mut self) -> io::Result<&mut (PathBuf, File, usize)> {
        if self.current.is_none() {
            // Time-ordered names: replay takes the oldest first.
            let name = format!("clicks-{}.open", uuid::Uuid::now_v7().simple());
            let path = self.dir.join(name);
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)?;
            self.current = Some((path, file, 0));
        }
        Ok(self.current.as_mut().expect("just set"))
    }
}

/// Appends one spool line (`record` of batch `batch`) to `buf`.
pub(crate) fn write_line(buf: &mut Vec<u8>, batch: Uuid, record: &ClickRecord) -> io::Result<()> {
    serde_json::to_writer(&mut *buf, &LineOut { batch, record }).map_err(io::Error::other)?;
    buf.push(b'\n');
    Ok(())
}

/// Sets records that PostgreSQL refused aside, in `*.rejected` files of
/// the spool directory (never replayed; kept for inspection).
pub fn reject(dir: &Path, records: &[ClickRecord]) -> io::Result<PathBuf> {
    let path = dir.join(format!("clicks-{}.rejected", uuid::Uuid::now_v7().simple()));
    let mut file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&path)?;
    for r in records {
        serde_json::to_writer(&mut file, r).map_err(io::Error::other)?;
        file.write_all(b"\n")?;
    }
    file.sync_all()?;
    Ok(path)
}

/// Reads a sealed segment as the batches it holds, in order. Lines that do
/// not parse (a torn write at a crash) are counted and skipped.
pub fn read_segment(path: &Path) -> io::Result<(Vec<Batch>, usize)> {
    let mut batches: Vec<Batch> = Vec::new();
    let mut legacy = Vec::new();
    let mut bad = 0;
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<LineIn>(&line) {
            Ok(LineIn {
                batch: Some(id),
                record,
            }) => match batches.last_mut() {
                Some(last) if last.id == id => last.records.push(record),
                _ => batches.push(Batch {
                    id,
                    records: vec![record],
                }),
            },
            Ok(LineIn {
                batch: None,
                record,
            }) => legacy.push(record),
            Err(_) => bad += 1,
        }
    }
    if !legacy.is_empty() {
        let name = path.file_stem().unwrap_or_default().as_encoded_bytes();
        let digest = Sha256::digest(name);
        let mut id = [0; 16];
        id.copy_from_slice(&digest[..16]);
        batches.push(Batch {
            id: Uuid::from_bytes(id),
            records: legacy,
        });
    }
    Ok((batches, bad))
}

fn segments(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    found.sort();
    Ok(found)
}

fn count_lines(path: &Path) -> io::Result<u64> {
    Ok(BufReader::new(File::open(path)?).lines().count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clicks::CapturedHeaders;
    use time::OffsetDateTime;

    fn record(i: i64) -> ClickRecord {
        ClickRecord {
            id: uuid::Uuid::now_v7(),
            occurred_at: OffsetDateTime::now_utc(),
            link_id: i,
            method: "GET".into(),
            headers: CapturedHeaders {
                user_agent: Some("Mozilla/5.0 \"quoted\"\n".into()),
                ..CapturedHeaders::default()
            },
            attribution: crate::clicks::StoredAttribution {
                kind: "human".into(),
                evidence: vec!["inapp_ua:instagram".into()].into(),
                visitor_hash: Some([7; crate::clicks::visitor::HASH_BYTES]),
                ..Default::default()
            },
        }
    }

    #[test]
    fn lines_without_a_batch_id_replay_under_an_id_derived_from_the_segment() {
        let dir = tempdir();
        let path = dir.join("clicks-0001.jsonl");
        let lines: String = (0..3)
            .map(|i| serde_json::to_string(&record(i)).unwrap() + "\n")
            .collect();
        fs::write(&path, lines).unwrap();
        let (first, _) = read_segment(&path).unwrap();
        let (again, _) = read_segment(&path).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].records.len(), 3);
        assert_eq!(first[0].id, again[0].id, "the same file gives the same id");
        fs::remove_dir_all(dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lanterne-spool-{}", uuid::Uuid::now_v7()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn records_survive_a_round_trip_and_torn_lines_are_skipped() {
        let dir = tempdir();
        let mut spool = Spool::open(&dir).unwrap();
        let first = Batch::new((0..3).map(record).collect());
        let second = Batch::new((3..5).map(record).collect());
        spool.append(&first).unwrap();
        spool.append(&second).unwrap();
        assert!(
            spool.sealed().unwrap().is_empty(),
            "the open segment is not replayable yet"
        );
        spool.seal().unwrap();
        let segs = spool.sealed().unwrap();
        assert_eq!(segs.len(), 1);
        // A crash mid-write leaves half a line.
        OpenOptions::new()
            .append(true)
            .open(&segs[0])
            .unwrap()
            .write_all(b"{\"id\":\"tor")
            .unwrap();
        let (read, bad) = read_segment(&segs[0]).unwrap();
        assert_eq!(
            read,
            vec![first, second],
            "batches keep their ids and events"
        );
        assert_eq!(bad, 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reopening_seals_segments_left_open_and_counts_events() {
        let dir = tempdir();
        let mut spool = Spool::open(&dir).unwrap();
        spool
            .append(&Batch::new((0..3).map(record).collect()))
            .unwrap();
        drop(spool); // a crash: never sealed
        let spool = Spool::open(&dir).unwrap();
        assert_eq!(spool.sealed().unwrap().len(), 1);
        assert_eq!(spool.events(), 3);
        fs::remove_dir_all(dir).unwrap();
    }
}

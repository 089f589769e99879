//! The spool: append-only files of click records (JSON Lines) that hold what
//! the database could not take yet. A segment is written as `*.open` and
//! renamed to `*.jsonl` once sealed; sealed segments are replayed oldest first
//! and deleted only after every record is in the database. Records never hold
//! an IP address. One spool directory belongs to one instance.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use super::ClickRecord;

/// Records per segment before a new one is started (a few MB: a segment is
/// read whole on replay).
const SEGMENT_RECORDS: usize = 10_000;

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

    /// Appends records and syncs them to disk.
    pub fn append(&mut self, records: &[ClickRecord]) -> io::Result<()> {
        for chunk in records.chunks(SEGMENT_RECORDS) {
            let (_, file, count) = self.current_segment()?;
            let mut buf = Vec::with_capacity(chunk.len() * 400);
            for r in chunk {
                serde_json::to_writer(&mut buf, r).map_err(io::Error::other)?;
                buf.push(b'\n');
            }
            file.write_all(&buf)?;
            file.sync_data()?;
            *count += chunk.len();
            let full = *count >= SEGMENT_RECORDS;
            self.events += chunk.len() as u64;
            if full {
                self.seal()?;
            }
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

/// Reads a sealed segment. Lines that do not parse (a torn write at a crash)
/// are counted and skipped.
pub fn read_segment(path: &Path) -> io::Result<(Vec<ClickRecord>, usize)> {
    let mut records = Vec::new();
    let mut bad = 0;
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(r) => records.push(r),
            Err(_) => bad += 1,
        }
    }
    Ok((records, bad))
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
                evidence: vec!["inapp_ua:instagram".into()],
                visitor_hash: Some(vec![1, 2, 3]),
                ..Default::default()
            },
        }
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
        let written: Vec<_> = (0..5).map(record).collect();
        spool.append(&written).unwrap();
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
        assert_eq!(read, written);
        assert_eq!(bad, 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reopening_seals_segments_left_open_and_counts_events() {
        let dir = tempdir();
        let mut spool = Spool::open(&dir).unwrap();
        spool
            .append(&(0..3).map(record).collect::<Vec<_>>())
            .unwrap();
        drop(spool); // a crash: never sealed
        let spool = Spool::open(&dir).unwrap();
        assert_eq!(spool.sealed().unwrap().len(), 1);
        assert_eq!(spool.events(), 3);
        fs::remove_dir_all(dir).unwrap();
    }
}

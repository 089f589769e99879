//! A MaxMind-format database file (`.mmdb`) kept in memory and swapped when
//! the file changes: the file handling that [`crate::geo`] and
//! [`crate::asn`] share. A missing or broken file is never an error for the
//! caller, only "nothing known"; lookups are lock-free (`ArcSwapOption`),
//! and the log lines name the file, never an address.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::{ArcSwapOption, Guard};
use maxminddb::Reader;

/// What identifies one version of the file. The size rides along with the
/// mtime because a copy that preserves mtimes (`cp -p`, rsync) of a
/// different file would otherwise go unnoticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: SystemTime,
    len: u64,
}

/// One watched database file.
#[derive(Debug)]
pub struct WatchedFile {
    /// What the file is, for the logs ("geography database").
    what: &'static str,
    /// Words of the editions expected in its metadata (`City`, `ASN`…).
    editions: &'static [&'static str],
    /// Current reader; `None` while nothing is loaded.
    reader: ArcSwapOption<Reader<Vec<u8>>>,
    /// The file; `None` when switched off.
    path: Option<PathBuf>,
    /// Stamp of the file as last seen (`None`: absent or not statable). The
    /// mutex only serialises reloads; lookups never touch it.
    seen: Mutex<Option<Stamp>>,
}

impl WatchedFile {
    /// Opens the file at `path` (`what` names it in the logs, `editions` are
    /// the words expected in its metadata, `without` says what is missing while
    /// none is loaded); `None`, a missing or an unreadable file give
    /// an empty one, with one warning (a file that appears later is picked up
    /// by [`WatchedFile::reload_if_changed`]).
    pub fn open(
        (what, editions, without): (&'static str, &'static [&'static str], &'static str),
        path: Option<&Path>,
    ) -> WatchedFile {
        let file = WatchedFile {
            what,
            editions,
            reader: ArcSwapOption::empty(),
            path: path.map(Path::to_path_buf),
            seen: Mutex::new(None),
        };
        let Some(path) = path else {
            return file;
        };
        let now = stamp(path);
        *file.seen.lock().unwrap_or_else(PoisonError::into_inner) = now;
        if now.is_none() {
            tracing::warn!(path = %path.display(), "{what} not found; {without} until it appears");
            return file;
        }
        match file.load(path) {
            Ok(reader) => file.reader.store(Some(Arc::new(reader))),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "{what} unreadable; {without} until it changes");
            }
        }
        file
    }

    /// The reader in use, if any (lock-free).
    pub fn reader(&self) -> Guard<Option<Arc<Reader<Vec<u8>>>>> {
        self.reader.load()
    }

    /// Whether a database is loaded.
    pub fn is_loaded(&self) -> bool {
        self.reader.load().is_some()
    }

    /// Re-reads the file when its stamp changed or it appeared, and swaps it
    /// in; an invalid new file is reported once and the old reader kept.
    /// Returns `true` when a new reader was swapped in.
    pub fn reload_if_changed(&self) -> bool {
        let Some(path) = self.path.as_deref() else {
            return false;
        };
        let what = self.what;
        // Held across the read so two concurrent calls cannot both load.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamp(path);
        if now == *seen {
            return false;
        }
        // Recorded before reading so a bad file is reported once, not per tick;
        // any later write changes the stamp and brings a new attempt.
        *seen = now;
        if now.is_none() {
            // Often a moment inside a replace; the loaded data is still good.
            tracing::warn!(path = %path.display(), "{what} disappeared; keeping the one in memory");
            return false;
        }
        match self.load(path) {
            Ok(reader) => {
                tracing::info!(path = %path.display(), build_epoch = reader.metadata().build_epoch, "{what} reloaded");
                self.reader.store(Some(Arc::new(reader)));
                true
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "new {what} is invalid; keeping the previous one");
                false
            }
        }
    }

    /// Reads and parses the whole file. It is read into memory rather than
    /// mapped because a mapped file being replaced in place would crash us.
    fn load(&self, path: &Path) -> Result<Reader<Vec<u8>>, maxminddb::MaxMindDbError> {
        let reader = Reader::from_source(fs::read(path)?)?;
        let kind = &reader.metadata().database_type;
        // Another edition parses fine but yields nothing useful here.
        if !self.editions.iter().any(|e| kind.contains(e)) {
            tracing::warn!(path = %path.display(), database_type = %kind, "the {} is not of the expected edition ({:?}); lookups will mostly be empty", self.what, self.editions);
        }
        Ok(reader)
    }
}

/// Calls `reload` every `every`, forever. The check is a `stat`; the file is
/// only read (synchronously, a few tens of ms for a City database) when it
/// changed, which is rare enough not to need a blocking pool.
pub async fn watch(every: Duration, reload: impl Fn() -> bool) {
    let mut ticks = tokio::time::interval(every);
    // A stalled runtime should not cause a burst of back-to-back reloads.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick fires at once, and `open` has just read the file.
    ticks.tick().await;
    loop {
        ticks.tick().await;
        reload();
    }
}

/// The file's current stamp, or `None` when it cannot be stat'ed.
fn stamp(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok()?,
        len: meta.len(),
    })
}

//! Networks: turns a client IP into its autonomous system (number and
//! organisation) with an optional MaxMind-format ASN database (GeoLite2-ASN,
//! DB-IP ASN Lite), so that attribution can tell e-mail security scanners and
//! data-centre scripts from people (see `attribution/networks.rs`).
//!
//! Like [`crate::geo`], whose file handling it shares: the database is read
//! into memory, swapped lock-free when the file changes, and a missing or
//! broken file just means "no network known". It never writes, stores or logs
//! an address; only the writer's enrichment calls it, never the redirect.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use maxminddb::Reader;

use crate::geo::{Stamp, is_public, stamp};

/// The ASN database in use, swappable without blocking lookups.
#[derive(Debug)]
pub struct AsnDb {
    reader: ArcSwapOption<Reader<Vec<u8>>>,
    path: Option<PathBuf>,
    seen: Mutex<Option<Stamp>>,
}

impl AsnDb {
    /// Opens the database at `path`; `None`, a missing or an unreadable file
    /// give an empty one (a file that appears later is picked up by
    /// [`AsnDb::reload_if_changed`]).
    pub fn open(path: Option<&Path>) -> AsnDb {
        let db = AsnDb {
            reader: ArcSwapOption::empty(),
            path: path.map(Path::to_path_buf),
            seen: Mutex::new(None),
        };
        let Some(path) = path else {
            return db;
        };
        let now = stamp(path);
        *db.seen.lock().unwrap_or_else(PoisonError::into_inner) = now;
        if now.is_none() {
            tracing::warn!(path = %path.display(), "ASN database not found; no network rule until it appears");
            return db;
        }
        match load(path) {
            Ok(reader) => db.reader.store(Some(Arc::new(reader))),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ASN database unreadable; no network rule until it changes");
            }
        }
        db
    }

    /// `f(number, organisation)` of the autonomous system of `ip`, if the
    /// database knows it (private and loopback addresses never are). The
    /// organisation is borrowed from the database: nothing is allocated.
    pub fn with<T>(&self, ip: IpAddr, f: impl FnOnce(u32, Option<&str>) -> T) -> Option<T> {
        let ip = ip.to_canonical();
        if !is_public(ip) {
            return None;
        }
        let guard = self.reader.load();
        let reader = guard.as_deref()?;
        let found = reader.lookup(ip).ok()?;
        if !found.has_data() {
            return None;
        }
        let number = found
            .decode_path::<u32>(&maxminddb::path!["autonomous_system_number"])
            .ok()
            .flatten()?;
        let org = found
            .decode_path::<&str>(&maxminddb::path!["autonomous_system_organization"])
            .ok()
            .flatten();
        Some(f(number, org))
    }

    /// Re-reads the file when it changed or appeared; an invalid new file is
    /// reported once and the old reader kept. `true` when a reader was swapped in.
    pub fn reload_if_changed(&self) -> bool {
        let Some(path) = self.path.as_deref() else {
            return false;
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamp(path);
        if now == *seen {
            return false;
        }
        *seen = now;
        if now.is_none() {
            tracing::warn!(path = %path.display(), "ASN database disappeared; keeping the one in memory");
            return false;
        }
        match load(path) {
            Ok(reader) => {
                tracing::info!(path = %path.display(), build_epoch = reader.metadata().build_epoch, "ASN database reloaded");
                self.reader.store(Some(Arc::new(reader)));
                true
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "new ASN database is invalid; keeping the previous one");
                false
            }
        }
    }

    /// Whether a database is loaded.
    pub fn is_loaded(&self) -> bool {
        self.reader.load().is_some()
    }
}

/// Calls [`AsnDb::reload_if_changed`] every `every`, forever.
pub async fn watch(db: Arc<AsnDb>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        db.reload_if_changed();
    }
}

fn load(path: &Path) -> Result<Reader<Vec<u8>>, maxminddb::MaxMindDbError> {
    let reader = Reader::from_source(fs::read(path)?)?;
    let kind = &reader.metadata().database_type;
    if !kind.contains("ASN") {
        tracing::warn!(path = %path.display(), database_type = %kind, "the ASN database is not an ASN edition; lookups will mostly be empty");
    }
    Ok(reader)
}

/// A test ASN database (MaxMind GeoLite2-ASN layout), built in memory with
/// `mmdb-writer`: `networks` are (CIDR, number, organisation).
#[cfg(test)]
pub(crate) fn fixture(networks: &[(&str, u32, &str)]) -> Vec<u8> {
    use mmdb_writer::Value;
    use mmdb_writer::ipnet::IpNet;
    let mut writer = mmdb_writer::Writer::new("GeoLite2-ASN");
    for (net, number, org) in networks {
        let record = Value::map([
            ("autonomous_system_number", Value::from(*number)),
            ("autonomous_system_organization", Value::from(*org)),
        ]);
        writer
            .insert_value(net.parse::<IpNet>().unwrap(), record)
            .unwrap();
    }
    writer.to_bytes().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn file(name: &str, bytes: &[u8], secs: u64) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("lanterne-asn-{}-{name}.mmdb", std::process::id()));
        fs::write(&path, bytes).unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(SystemTime::now() + Duration::from_secs(secs))
            .unwrap();
        path
    }

    fn lookup(db: &AsnDb, ip: &str) -> Option<(u32, Option<String>)> {
        db.with(ip.parse().unwrap(), |n, org| (n, org.map(str::to_owned)))
    }

    #[test]
    fn lookups_name_the_system_and_skip_private_addresses() {
        let bytes = fixture(&[
            ("198.51.100.0/24", 22843, "Proofpoint, Inc."),
            ("2001:db8::/32", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK"),
            ("10.0.0.0/8", 16509, "AMAZON-02"),
        ]);
        let path = file("lookups", &bytes, 0);
        let db = AsnDb::open(Some(&path));
        assert!(db.is_loaded());
        assert_eq!(
            lookup(&db, "198.51.100.9"),
            Some((22843, Some("Proofpoint, Inc.".into())))
        );
        assert_eq!(lookup(&db, "2001:db8::1").map(|(n, _)| n), Some(8075));
        assert_eq!(
            lookup(&db, "::ffff:198.51.100.9").map(|(n, _)| n),
            Some(22843)
        );
        assert_eq!(lookup(&db, "10.1.2.3"), None, "private wins");
        assert_eq!(lookup(&db, "203.0.113.1"), None, "not in the database");
        let _ = fs::remove_file(path);
    }

    #[test]
    fn a_missing_file_is_empty_and_a_new_one_is_picked_up_while_garbage_is_not() {
        let path =
            std::env::temp_dir().join(format!("lanterne-asn-{}-appears.mmdb", std::process::id()));
        let _ = fs::remove_file(&path);
        let db = AsnDb::open(Some(&path));
        assert!(!db.is_loaded());
        assert_eq!(lookup(&db, "198.51.100.9"), None);
        file("appears", &fixture(&[("198.51.100.0/24", 1, "A")]), 0);
        assert!(db.reload_if_changed());
        assert_eq!(lookup(&db, "198.51.100.9").map(|(n, _)| n), Some(1));
        file("appears", b"garbage", 10);
        assert!(!db.reload_if_changed());
        assert_eq!(lookup(&db, "198.51.100.9").map(|(n, _)| n), Some(1), "kept");
        file("appears", &fixture(&[("198.51.100.0/24", 2, "B")]), 20);
        assert!(db.reload_if_changed());
        assert_eq!(lookup(&db, "198.51.100.9").map(|(n, _)| n), Some(2));
        assert!(!AsnDb::open(None).reload_if_changed());
        let _ = fs::remove_file(path);
    }
}

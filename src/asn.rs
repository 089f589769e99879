//! Networks: turns a client IP into its autonomous system (number and
//! organisation) with an optional MaxMind-format ASN database (GeoLite2-ASN,
//! DB-IP ASN Lite), so that attribution can tell e-mail security scanners and
//! data-centre scripts from people (see `attribution/networks.rs`).
//!
//! Like [`crate::geo`], whose file handling it shares: the database is read
//! into memory, swapped lock-free when the file changes, and a missing or
//! broken file just means "no network known". It never writes, stores or logs
//! an address; only the writer's enrichment calls it, never the redirect.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::geo::is_public;
use crate::mmdb::{self, WatchedFile};

/// The ASN database in use, swappable without blocking lookups.
#[derive(Debug)]
pub struct AsnDb {
    file: WatchedFile,
}

impl AsnDb {
    /// Opens the database at `path`; `None`, a missing or an unreadable file
    /// give an empty one (a file that appears later is picked up by
    /// [`AsnDb::reload_if_changed`]).
    pub fn open(path: Option<&Path>) -> AsnDb {
        let what = ("ASN database", &["ASN"][..], "no network rule");
        AsnDb {
            file: WatchedFile::open(what, path),
        }
    }

    /// `f(number, organisation)` of the autonomous system of `ip`, if the
    /// database knows it (private and loopback addresses never are). The
    /// organisation is borrowed from the database: nothing is allocated.
    pub fn with<T>(&self, ip: IpAddr, f: impl FnOnce(u32, Option<&str>) -> T) -> Option<T> {
        let ip = ip.to_canonical();
        if !is_public(ip) {
            return None;
        }
        let guard = self.file.reader();
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

    /// Re-reads the file when it changed or appeared (see
    /// [`WatchedFile::reload_if_changed`]); `true` when a reader was swapped in.
    pub fn reload_if_changed(&self) -> bool {
        self.file.reload_if_changed()
    }

    /// Whether a database is loaded.
    pub fn is_loaded(&self) -> bool {
        self.file.is_loaded()
    }
}

/// Calls [`AsnDb::reload_if_changed`] every `every`, forever.
pub async fn watch(db: Arc<AsnDb>, every: Duration) {
    mmdb::watch(every, move || db.reload_if_changed()).await
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
    use std::fs;
    use std::path::PathBuf;
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

//! Geography: turns a visitor's IP address into a coarse place (country,
//! region, city) using a MaxMind-format `.mmdb` database (GeoLite2 or DB-IP
//! Lite, City or Country editions).
//!
//! This module owns the in-memory database, its hot reload when the file on
//! disk changes, and the IP-to-place lookup. It must never write, store or log
//! an IP address: the address goes in, only the place comes out, and every log
//! line here names the database file, never a visitor. Missing geography is
//! never an error for the caller: an absent or broken database just means
//! "unknown", so a redirect never fails because of it.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use maxminddb::{PathElement, Reader};

/// The geography database currently in use, swappable without blocking lookups.
#[derive(Debug)]
pub struct GeoDb {
    /// Current reader; `None` while geography is unknown. `ArcSwapOption` keeps
    /// lookups lock-free while a reload swaps in a new reader.
    reader: ArcSwapOption<Reader<Vec<u8>>>,
    /// File the reader comes from; `None` when geography is switched off.
    path: Option<PathBuf>,
    /// Stamp of the file as last seen (`None`: absent or not statable). The
    /// mutex only serialises reloads; lookups never touch it.
    seen: Mutex<Option<Stamp>>,
}

/// What identifies one version of the database file. The size rides along
/// with the mtime because a copy that preserves mtimes (`cp -p`, rsync) of a
/// different file would otherwise go unnoticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    modified: SystemTime,
    len: u64,
}

/// A visitor's coarse location; every part is `None` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Geo {
    /// ISO 3166-1 alpha-2 country code, e.g. `"FR"`.
    pub country: Option<String>,
    /// First (largest) subdivision: its ISO 3166-2 code without the country
    /// prefix (e.g. `"IDF"`) when the database has one, else its English name.
    pub region: Option<String>,
    /// English city name, e.g. `"Paris"`.
    pub city: Option<String>,
}

impl GeoDb {
    /// Opens the database at `path`. `None`, a missing or an unreadable file
    /// all give a `GeoDb` whose lookups are unknown, with a single warning;
    /// a file that appears later is picked up by [`GeoDb::reload_if_changed`].
    pub fn open(path: Option<&Path>) -> GeoDb {
        let db = GeoDb {
            reader: ArcSwapOption::empty(),
            path: path.map(Path::to_path_buf),
            seen: Mutex::new(None),
        };
        let Some(path) = path else {
            tracing::warn!(
                "no geography database configured; country, region and city will be unknown"
            );
            return db;
        };
        let stamp = stamp(path);
        *db.seen.lock().unwrap_or_else(PoisonError::into_inner) = stamp;
        if stamp.is_none() {
            tracing::warn!(path = %path.display(), "geography database not found; country, region and city will be unknown until it appears");
            return db;
        }
        match load(path) {
            Ok(reader) => db.reader.store(Some(Arc::new(reader))),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "geography database unreadable; country, region and city will be unknown until it changes");
            }
        }
        db
    }

    /// Looks `ip` up; unknown, private, loopback and link-local addresses give
    /// [`Geo::default()`]. Lock-free; allocates only the returned strings.
    pub fn lookup(&self, ip: IpAddr) -> Geo {
        // `::ffff:a.b.c.d` is how dual-stack sockets report IPv4 peers; treat it
        // as the IPv4 address so the private-range check and the tree agree.
        let ip = ip.to_canonical();
        if !is_public(ip) {
            return Geo::default();
        }
        let guard = self.reader.load();
        let Some(reader) = guard.as_deref() else {
            return Geo::default();
        };
        // An IPv6 address in an IPv4-only database is an error here, and a
        // corrupt record too: both just mean "unknown". Nothing is logged,
        // because a log per lookup would flood and could be tied to a visitor.
        let Ok(found) = reader.lookup(ip) else {
            return Geo::default();
        };
        if !found.has_data() {
            return Geo::default();
        }
        // Path decoding borrows `&str` from the database buffer and skips every
        // other field, so the only allocations are the three `String`s below.
        let text = |path: &[PathElement<'_>]| -> Option<String> {
            match found.decode_path::<&str>(path) {
                Ok(Some(s)) if !s.is_empty() => Some(s.to_owned()),
                _ => None,
            }
        };
        Geo {
            country: text(&maxminddb::path!["country", "iso_code"]),
            // DB-IP Lite subdivisions carry only names, GeoLite2 ones both.
            region: text(&maxminddb::path!["subdivisions", 0, "iso_code"])
                .or_else(|| text(&maxminddb::path!["subdivisions", 0, "names", "en"])),
            city: text(&maxminddb::path!["city", "names", "en"]),
        }
    }

    /// Re-reads the file when its mtime (or size) changed or it appeared, and
    /// swaps it in; an invalid new file is reported once and the old reader
    /// kept. Returns `true` when a new reader was swapped in.
    pub fn reload_if_changed(&self) -> bool {
        let Some(path) = self.path.as_deref() else {
            return false;
        };
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
            tracing::warn!(path = %path.display(), "geography database disappeared; keeping the one in memory");
            return false;
        }
        match load(path) {
            Ok(reader) => {
                tracing::info!(path = %path.display(), build_epoch = reader.metadata().build_epoch, "geography database reloaded");
                self.reader.store(Some(Arc::new(reader)));
                true
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "new geography database is invalid; keeping the previous one");
                false
            }
        }
    }

    /// Whether a database is loaded, i.e. lookups can return something.
    pub fn is_loaded(&self) -> bool {
        self.reader.load().is_some()
    }
}

/// Calls [`GeoDb::reload_if_changed`] every `every`, forever. The check is a
/// `stat`; the file is only read (synchronously, a few tens of ms for a City
/// database) when it changed, which is rare enough not to need a blocking pool.
pub async fn watch(db: Arc<GeoDb>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    // A stalled runtime should not cause a burst of back-to-back reloads.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick fires at once, and `open` has just read the file.
    ticks.tick().await;
    loop {
        ticks.tick().await;
        db.reload_if_changed();
    }
}

/// The file's current stamp, or `None` when it cannot be stat'ed.
pub(crate) fn stamp(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok()?,
        len: meta.len(),
    })
}

/// Reads and parses the whole file. The database is read into memory rather
/// than mapped because a mapped file being replaced in place would crash us.
fn load(path: &Path) -> Result<Reader<Vec<u8>>, maxminddb::MaxMindDbError> {
    let reader = Reader::from_source(fs::read(path)?)?;
    let kind = &reader.metadata().database_type;
    // Anything else (ASN, ISP...) parses fine but yields no geography at all.
    if !kind.contains("City") && !kind.contains("Country") {
        tracing::warn!(path = %path.display(), database_type = %kind, "geography database is neither a City nor a Country edition; lookups will mostly be unknown");
    }
    Ok(reader)
}

/// Whether `ip` can have a public location. Private, loopback, link-local,
/// unspecified and multicast addresses are skipped: a database could hold
/// them (by mistake or as a placeholder) and they would then lie.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                // 100.64.0.0/10, carrier-grade NAT: shared, not locatable.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmdb_writer::Value;
    use mmdb_writer::ipnet::IpNet;

    /// The committed fixture, see `tests/data/README.md`.
    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/geo-test.mmdb");

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn geo(country: &str, region: Option<&str>, city: Option<&str>) -> Geo {
        Geo {
            country: Some(country.to_owned()),
            region: region.map(str::to_owned),
            city: city.map(str::to_owned),
        }
    }

    /// A file in the temp dir, unique per test, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("lanterne-geo-{}-{name}.mmdb", std::process::id()));
            let _ = fs::remove_file(&path);
            TempFile(path)
        }

        /// Overwrites the file in place, then moves its mtime `secs` ahead so
        /// the change is seen even on filesystems with coarse timestamps.
        fn write(&self, bytes: &[u8], secs: u64) {
            fs::write(&self.0, bytes).unwrap();
            fs::File::options()
                .write(true)
                .open(&self.0)
                .unwrap()
                .set_modified(SystemTime::now() + Duration::from_secs(secs))
                .unwrap();
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = fs::remove_file(&self.0);
        }
    }

    /// A second, different valid database: 203.0.113.0/24 moves to Japan.
    fn other_db() -> Vec<u8> {
        let mut writer = mmdb_writer::Writer::new("GeoLite2-Country");
        let record = Value::map([(
            "country",
            Value::map([
                ("iso_code", Value::from("JP")),
                ("names", Value::map([("en", "Japan")])),
            ]),
        )]);
        writer
            .insert_value("203.0.113.0/24".parse::<IpNet>().unwrap(), record)
            .unwrap();
        writer.to_bytes().unwrap()
    }

    #[test]
    fn fixture_is_a_valid_database() {
        let reader = Reader::open_readfile(FIXTURE).unwrap();
        reader.verify().unwrap();
        assert_eq!(reader.metadata().database_type, "GeoLite2-City");
    }

    #[test]
    fn lookups_hit_the_right_place() {
        let db = GeoDb::open(Some(Path::new(FIXTURE)));
        assert!(db.is_loaded());
        let cases = [
            ("81.2.69.142", geo("GB", Some("ENG"), Some("London"))),
            ("89.160.20.128", geo("SE", Some("E"), Some("Linköping"))),
            ("203.0.113.7", geo("FR", Some("IDF"), Some("Paris"))),
            // No ISO code on the subdivision: its English name is used.
            ("192.0.2.1", geo("IT", Some("Lazio"), Some("Rome"))),
            // Country-edition-shaped record.
            ("198.51.100.200", geo("CH", None, None)),
            ("2001:db8::1", geo("DE", Some("BE"), Some("Berlin"))),
            // IPv4 peer as reported by a dual-stack socket.
            ("::ffff:81.2.69.142", geo("GB", Some("ENG"), Some("London"))),
        ];
        for (addr, want) in cases {
            assert_eq!(db.lookup(ip(addr)), want, "{addr}");
        }
    }

    #[test]
    fn unknown_and_private_addresses_give_default() {
        let db = GeoDb::open(Some(Path::new(FIXTURE)));
        // 10.0.0.0/8 is in the fixture on purpose: private must win.
        for addr in [
            "8.8.8.8",
            "81.2.70.1",
            "2a00::1",
            "10.1.2.3",
            "127.0.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(db.lookup(ip(addr)), Geo::default(), "{addr}");
        }
    }

    #[test]
    fn country_records_decode_as_city() {
        // What Country editions look like to a City decoder: fields optional.
        let reader = Reader::open_readfile(FIXTURE).unwrap();
        let found = reader.lookup(ip("198.51.100.1")).unwrap();
        let city = found.decode::<maxminddb::geoip2::City>().unwrap().unwrap();
        assert_eq!(city.country.iso_code, Some("CH"));
        assert!(city.subdivisions.is_empty());
        assert_eq!(city.city.names.english, None);
    }

    #[test]
    fn missing_or_unset_database_means_unknown() {
        let missing = TempFile::new("missing");
        for db in [GeoDb::open(Some(&missing.0)), GeoDb::open(None)] {
            assert!(!db.is_loaded());
            assert_eq!(db.lookup(ip("81.2.69.142")), Geo::default());
            assert!(!db.reload_if_changed());
        }
    }

    #[test]
    fn garbage_file_at_open_means_unknown() {
        let file = TempFile::new("garbage");
        file.write(b"this is not a database", 0);
        let db = GeoDb::open(Some(&file.0));
        assert!(!db.is_loaded());
        assert_eq!(db.lookup(ip("81.2.69.142")), Geo::default());
        // Unchanged garbage is not re-read (nor re-reported) on each tick.
        assert!(!db.reload_if_changed());
    }

    #[test]
    fn reload_swaps_valid_files_and_keeps_old_on_invalid() {
        let file = TempFile::new("reload");
        file.write(&fs::read(FIXTURE).unwrap(), 0);
        let db = GeoDb::open(Some(&file.0));
        assert_eq!(db.lookup(ip("203.0.113.7")).country.as_deref(), Some("FR"));
        assert!(!db.reload_if_changed(), "unchanged file must not reload");

        file.write(&other_db(), 10);
        assert!(db.reload_if_changed());
        assert_eq!(db.lookup(ip("203.0.113.7")), geo("JP", None, None));
        assert_eq!(db.lookup(ip("81.2.69.142")), Geo::default());
        assert!(!db.reload_if_changed());

        file.write(b"truncated garbage", 20);
        assert!(!db.reload_if_changed());
        assert!(db.is_loaded());
        assert_eq!(db.lookup(ip("203.0.113.7")), geo("JP", None, None));

        // Deleted (as during a replace): keep serving, then pick it up again.
        fs::remove_file(&file.0).unwrap();
        assert!(!db.reload_if_changed());
        assert!(db.is_loaded());
        file.write(&fs::read(FIXTURE).unwrap(), 30);
        assert!(db.reload_if_changed());
        assert_eq!(db.lookup(ip("203.0.113.7")).country.as_deref(), Some("FR"));
    }

    #[test]
    fn database_appearing_later_is_loaded() {
        let file = TempFile::new("appears");
        let db = GeoDb::open(Some(&file.0));
        assert!(!db.is_loaded());
        file.write(&fs::read(FIXTURE).unwrap(), 0);
        assert!(db.reload_if_changed());
        assert_eq!(db.lookup(ip("81.2.69.142")).city.as_deref(), Some("London"));
    }

    #[tokio::test]
    async fn watch_picks_up_a_new_file() {
        let file = TempFile::new("watch");
        let db = Arc::new(GeoDb::open(Some(&file.0)));
        let watcher = tokio::spawn(watch(db.clone(), Duration::from_millis(5)));
        file.write(&fs::read(FIXTURE).unwrap(), 0);
        for _ in 0..400 {
            if db.is_loaded() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        watcher.abort();
        assert!(db.is_loaded());
    }
}

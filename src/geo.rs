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

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use maxminddb::PathElement;

use crate::mmdb::{self, WatchedFile};

/// The geography database currently in use, swappable without blocking lookups.
#[derive(Debug)]
pub struct GeoDb {
    file: WatchedFile,
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
        if path.is_none() {
            tracing::warn!(
                "no geography database configured; country, region and city will be unknown"
            );
        }
        let what = (
            "geography database",
            &["City", "Country"][..],
            "country, region and city will be unknown",
        );
        GeoDb {
            file: WatchedFile::open(what, path),
        }
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
        let guard = self.file.reader();
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

    /// Re-reads the file when it changed or appeared (see
    /// [`WatchedFile::reload_if_changed`]); `true` when a reader was swapped in.
    pub fn reload_if_changed(&self) -> bool {
        self.file.reload_if_changed()
    }

    /// Whether a database is loaded, i.e. lookups can return something.
    pub fn is_loaded(&self) -> bool {
        self.file.is_loaded()
    }
}

/// Calls [`GeoDb::reload_if_changed`] every `every`, forever.
pub async fn watch(db: Arc<GeoDb>, every: Duration) {
    mmdb::watch(every, move || db.reload_if_changed()).await
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
    use std::fs;
    use std::path::PathBuf;
    use std::time::SystemTime;

    use maxminddb::Reader;

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

//! Writes `tests/data/geo-test.mmdb`, the small database the geography tests use.
//!
//! Run with `cargo run --example make_geo_fixture` (an optional argument gives
//! another output path). The output is byte-for-byte reproducible.
//!
//! Every record here is invented for tests and is not real geography, so the
//! file carries no MaxMind or DB-IP data and no licence terms. Networks are the
//! documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
//! 2001:db8::/32) wherever possible; 81.2.69.0/24 and 89.160.20.0/24 are the
//! addresses MaxMind's own public test databases use, kept so the usual
//! examples work. 10.0.0.0/8 is a deliberate trap: the lookup must ignore
//! private addresses even when the database holds them.

use std::time::{Duration, UNIX_EPOCH};

use mmdb_writer::Writer;
use mmdb_writer::ipnet::IpNet;
use serde::Serialize;

/// `names` map of a GeoLite2 record; only English is written.
#[derive(Serialize)]
struct Names {
    en: &'static str,
}

/// A country, subdivision or city entry of a GeoLite2-City record.
#[derive(Serialize)]
struct Place {
    /// Dropped by the writer when `None`, as cities have no ISO code.
    iso_code: Option<&'static str>,
    names: Names,
}

/// A GeoLite2-City-shaped record (the fields Lanterne reads).
#[derive(Serialize)]
struct Record {
    country: Place,
    /// Left out entirely when empty, as in Country editions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subdivisions: Vec<Place>,
    city: Option<Place>,
}

fn place(iso_code: Option<&'static str>, en: &'static str) -> Place {
    Place {
        iso_code,
        names: Names { en },
    }
}

/// (network, country code, country name, subdivision (code, name), city).
type Entry = (
    &'static str,
    &'static str,
    &'static str,
    Option<(Option<&'static str>, &'static str)>,
    Option<&'static str>,
);

const ENTRIES: &[Entry] = &[
    (
        "81.2.69.0/24",
        "GB",
        "United Kingdom",
        Some((Some("ENG"), "England")),
        Some("London"),
    ),
    (
        "89.160.20.0/24",
        "SE",
        "Sweden",
        Some((Some("E"), "Östergötland County")),
        Some("Linköping"),
    ),
    (
        "203.0.113.0/24",
        "FR",
        "France",
        Some((Some("IDF"), "Île-de-France")),
        Some("Paris"),
    ),
    // DB-IP Lite style: a subdivision with a name but no ISO code.
    (
        "192.0.2.0/24",
        "IT",
        "Italy",
        Some((None, "Lazio")),
        Some("Rome"),
    ),
    // Country edition style: no subdivisions, no city.
    ("198.51.100.0/24", "CH", "Switzerland", None, None),
    (
        "2001:db8::/32",
        "DE",
        "Germany",
        Some((Some("BE"), "Land Berlin")),
        Some("Berlin"),
    ),
    ("10.0.0.0/8", "US", "United States", None, Some("Trap")),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/geo-test.mmdb").to_owned()
    });
    let mut writer = Writer::builder("GeoLite2-City")
        .description(&[(
            "en",
            "Lanterne test fixture: invented data, not real geography",
        )])
        // Fixed so that rebuilding the fixture gives the same bytes.
        .build_epoch(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
        .build();
    for &(net, iso, country, subdivision, city) in ENTRIES {
        let record = Record {
            country: place(Some(iso), country),
            subdivisions: subdivision
                .map(|(code, name)| place(code, name))
                .into_iter()
                .collect(),
            city: city.map(|name| place(None, name)),
        };
        writer.insert(net.parse::<IpNet>()?, &record)?;
    }
    std::fs::write(&out, writer.to_bytes()?)?;
    println!("wrote {out}");
    Ok(())
}

//! Networks of machines: the e-mail security vendors and the hosting / cloud networks of
//! `data/networks.tsv`, by autonomous-system number or organisation word. The caller
//! (the click writer's enrichment, which has the IP and the optional ASN database) asks
//! [`Networks::name`] once per request and passes the answer in
//! [`Signals::network`](super::Signals); the classifier never sees an address.

use std::collections::HashMap;

use super::rules::rows;

/// What a network is, for attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkClass {
    /// An e-mail / web security vendor's scanning network: a bot whatever it sends.
    Security,
    /// A data centre or cloud: a bot unless a sign of a person is present.
    Hosting,
}

/// A network of `data/networks.tsv`, as the classifier reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network {
    /// Security vendor or hosting.
    pub class: NetworkClass,
    /// The id of the evidence `datacenter_asn:<id>`.
    pub id: &'static str,
}

/// The table of `data/networks.tsv`.
pub(crate) struct Networks {
    by_number: HashMap<u32, Network>,
    by_word: Vec<(&'static str, Network)>,
}

/// Longest organisation name looked at (the databases' names are far shorter).
const ORG_BYTES: usize = 128;

impl Networks {
    /// Loads `data/networks.tsv`.
    pub(crate) fn new() -> Networks {
        let mut by_number = HashMap::new();
        let mut by_word = Vec::new();
        for row in rows(include_str!("data/networks.tsv")) {
            let class = match row[1] {
                "security" => NetworkClass::Security,
                "hosting" => NetworkClass::Hosting,
                other => panic!("networks.tsv: unknown class {other:?}"),
            };
            let network = Network { class, id: row[2] };
            if let Some(word) = row[0].strip_prefix("org:") {
                by_word.push((word, network));
            } else {
                let number = row[0]
                    .strip_prefix("AS")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("networks.tsv: bad key {:?}", row[0]));
                by_number.insert(number, network);
            }
        }
        Networks { by_number, by_word }
    }

    /// The listed network of an autonomous system, by number, else by a word of its
    /// organisation's name (case-insensitive).
    pub(crate) fn name(&self, number: u32, organisation: Option<&str>) -> Option<Network> {
        if let Some(network) = self.by_number.get(&number) {
            return Some(*network);
        }
        let org = organisation?;
        let org = &org.as_bytes()[..org.len().min(ORG_BYTES)];
        let lower = org.to_ascii_lowercase();
        self.by_word
            .iter()
            .find(|(word, _)| {
                lower
                    .windows(word.len())
                    .any(|window| window == word.as_bytes())
            })
            .map(|(_, network)| *network)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_win_then_organisation_words_name_the_network() {
        let n = Networks::new();
        let ms = n.name(8075, Some("MICROSOFT-CORP-MSN-AS-BLOCK")).unwrap();
        assert_eq!((ms.class, ms.id), (NetworkClass::Hosting, "microsoft"));
        let pp = n.name(4_200_000_001, Some("Proofpoint, Inc.")).unwrap();
        assert_eq!((pp.class, pp.id), (NetworkClass::Security, "proofpoint"));
        let tm = n.name(1, Some("TREND MICRO INCORPORATED")).unwrap();
        assert_eq!(tm.id, "trend_micro");
        assert_eq!(n.name(3215, Some("Orange S.A.")), None, "an eyeball ISP");
        assert_eq!(
            n.name(13335, Some("CLOUDFLARENET")),
            None,
            "Private Relay egress"
        );
        assert_eq!(n.name(36183, Some("Akamai Technologies, Inc.")), None);
        assert_eq!(n.name(7, None), None);
    }

    #[test]
    fn every_row_is_well_formed_and_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for row in rows(include_str!("data/networks.tsv")) {
            assert_eq!(row.len(), 3, "{row:?}");
            assert!(seen.insert(row[0]), "listed twice: {}", row[0]);
            assert!(
                row[2].bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "id {:?}",
                row[2]
            );
        }
        Networks::new();
    }
}

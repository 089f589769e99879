//! Rule tables: parsing of the cited data files in `data/` and the one multi-pattern
//! scanner they compile to, so a User-Agent is read once for every table (previews, in-app
//! browsers, bots, masks, browsers, OS, form factors). Owns no rule knowledge itself; never
//! reads files at run time (every table is compiled in with `include_str!`).

use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// Most tables one scanner serves (results live in a fixed array: no allocation per scan).
const MAX_TABLES: usize = 16;

/// The rows of a tab-separated data file: comment lines (`#`) and blank lines skipped.
pub(crate) fn rows(data: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    data.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| line.split('\t').collect())
}

/// How a table picks among several matching tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    /// The leftmost match, and at one position the longest (app markers).
    Leftmost,
    /// The match whose row comes first in the file (browser, OS, form factor, previews).
    FirstRow,
    /// Every match, in order (strings to blank out).
    All,
}

/// A parsed table: lower-case tokens (optionally anchored `^token`, `token$`) and values.
pub(crate) struct Table<T> {
    tokens: Vec<String>,
    /// One value per row, in file order.
    pub(crate) values: Vec<T>,
    pick: Pick,
}

/// Parses a `token <TAB> value` table (a missing value column gives `""`).
pub(crate) fn table<T>(
    data: &'static str,
    pick: Pick,
    value: impl Fn(&'static str) -> T,
) -> Table<T> {
    let (tokens, values) = rows(data)
        .map(|row| (row[0].to_owned(), value(row.get(1).copied().unwrap_or(""))))
        .unzip();
    Table {
        tokens,
        values,
        pick,
    }
}

/// A table of computed tokens (already lower-case, unanchored), without values.
pub(crate) fn token_list(tokens: Vec<String>, pick: Pick) -> Table<()> {
    let values = vec![(); tokens.len()];
    Table {
        tokens,
        values,
        pick,
    }
}

/// Which table of a [`Scanner`] a module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableId(usize);

#[derive(Debug, Clone, Copy)]
struct Slot {
    table: usize,
    row: usize,
    at_start: bool,
    at_end: bool,
}

/// Collects tables, then compiles them into one [`Scanner`].
#[derive(Default)]
pub(crate) struct ScannerBuilder {
    patterns: Vec<String>,
    slots: Vec<Vec<Slot>>,
    picks: Vec<Pick>,
    index: HashMap<String, usize>,
}

impl ScannerBuilder {
    /// Adds a table; its id is how the module reads its result from a [`Scan`].
    pub(crate) fn add<T>(&mut self, table: &Table<T>) -> TableId {
        let id = self.picks.len();
        assert!(id < MAX_TABLES, "raise MAX_TABLES");
        self.picks.push(table.pick);
        for (row, raw) in table.tokens.iter().enumerate() {
            let at_start = raw.starts_with('^');
            let at_end = raw.len() > 1 && raw.ends_with('$');
            let token = raw.trim_start_matches('^');
            let token = if at_end {
                &token[..token.len() - 1]
            } else {
                token
            };
            assert!(!token.is_empty(), "empty token in a rule table");
            assert_eq!(
                token,
                token.to_ascii_lowercase(),
                "tokens are lower-case: {token}"
            );
            let slot = Slot {
                table: id,
                row,
                at_start,
                at_end,
            };
            match self.index.get(token) {
                Some(&pattern) => self.slots[pattern].push(slot),
                None => {
                    self.index.insert(token.to_owned(), self.patterns.len());
                    self.patterns.push(token.to_owned());
                    self.slots.push(vec![slot]);
                }
            }
        }
        TableId(id)
    }

    /// Compiles every table into one automaton. A full DFA over all overlapping matches:
    /// one table lookup per byte, whatever the number of tables.
    pub(crate) fn build(self) -> Scanner {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .prefilter(false)
            .build(&self.patterns)
            .expect("rule tokens compile");
        Scanner {
            automaton,
            slots: self.slots,
            picks: self.picks,
        }
    }
}

/// Every table's tokens in one automaton.
pub(crate) struct Scanner {
    automaton: AhoCorasick,
    slots: Vec<Vec<Slot>>,
    picks: Vec<Pick>,
}

/// The best match of each table (by its [`Pick`]) in one haystack.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    best: [Option<Best>; MAX_TABLES],
    all: Vec<(usize, usize, Range<usize>)>,
}

#[derive(Debug, Clone, Copy)]
struct Best {
    row: usize,
    start: usize,
    end: usize,
}

impl Scanner {
    /// Scans a lower-cased haystack once for every table.
    pub(crate) fn scan(&self, haystack: &[u8]) -> Scan {
        let mut scan = Scan::default();
        for m in self.automaton.find_overlapping_iter(haystack) {
            for slot in &self.slots[m.pattern().as_usize()] {
                if (slot.at_start && m.start() != 0) || (slot.at_end && m.end() != haystack.len()) {
                    continue;
                }
                let new = Best {
                    row: slot.row,
                    start: m.start(),
                    end: m.end(),
                };
                let best = &mut scan.best[slot.table];
                match self.picks[slot.table] {
                    Pick::All => scan.all.push((slot.table, slot.row, m.range())),
                    Pick::Leftmost => {
                        let better = best.is_none_or(|b| (new.start, !new.end) < (b.start, !b.end));
                        if better {
                            *best = Some(new);
                        }
                    }
                    Pick::FirstRow => {
                        if best.is_none_or(|b| new.row < b.row) {
                            *best = Some(new);
                        }
                    }
                }
            }
        }
        scan
    }
}

impl Scan {
    /// The winning row of a table, if any token of it matched.
    pub(crate) fn row(&self, table: TableId) -> Option<usize> {
        self.best[table.0].map(|b| b.row)
    }

    /// Every match range of an `All` table.
    pub(crate) fn ranges(&self, table: TableId) -> impl Iterator<Item = Range<usize>> + '_ {
        self.all
            .iter()
            .filter(move |(t, _, _)| *t == table.0)
            .map(|(_, _, r)| r.clone())
    }

    /// Every match of an `All` table as (row, range), in order.
    pub(crate) fn hits(&self, table: TableId) -> impl Iterator<Item = (usize, Range<usize>)> + '_ {
        self.all
            .iter()
            .filter(move |(t, _, _)| *t == table.0)
            .map(|(_, row, r)| (*row, r.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(data: &'static str, pick: Pick) -> (Scanner, TableId, Table<&'static str>) {
        let t = table(data, pick, |v| v);
        let mut builder = ScannerBuilder::default();
        let id = builder.add(&t);
        (builder.build(), id, t)
    }

    fn find(data: &'static str, pick: Pick, hay: &[u8]) -> Option<&'static str> {
        let (scanner, id, t) = one(data, pick);
        scanner.scan(hay).row(id).map(|row| t.values[row])
    }

    #[test]
    fn anchored_tokens_match_only_at_their_end_of_the_haystack() {
        let data = "^whatsapp/\tw\n^whatsapp$\ts\n# c\n\nfoo\tf\n";
        assert_eq!(find(data, Pick::Leftmost, b"whatsapp/2.23 a"), Some("w"));
        assert_eq!(find(data, Pick::Leftmost, b"whatsapp"), Some("s"));
        assert_eq!(find(data, Pick::Leftmost, b"x whatsapp/2"), None);
        assert_eq!(find(data, Pick::Leftmost, b"a foo"), Some("f"));
    }

    #[test]
    fn first_row_pick_prefers_earlier_rows_over_earlier_positions() {
        assert_eq!(
            find(
                "edg/\tEdge\nchrome/\tChrome\n",
                Pick::FirstRow,
                b"chrome/1 safari edg/1"
            ),
            Some("Edge")
        );
    }

    #[test]
    fn leftmost_pick_prefers_the_longest_token_at_the_leftmost_position() {
        let data = "fban/\tfacebook\nfban/messenger\tmessenger\nfbav/\tfacebook\n";
        assert_eq!(
            find(data, Pick::Leftmost, b"[fbav/1;fban/messengerforios"),
            Some("facebook")
        );
        assert_eq!(
            find(data, Pick::Leftmost, b"[fban/messengerforios;fbav/1"),
            Some("messenger")
        );
    }

    #[test]
    fn tables_sharing_a_token_each_see_it_and_all_tables_list_every_match() {
        let a = table("iphone\tiOS\n", Pick::FirstRow, |v| v);
        let b = table("iphone\tmobile\n", Pick::FirstRow, |v| v);
        let m = table("cubot\t\n", Pick::All, |v| v);
        let mut builder = ScannerBuilder::default();
        let (ia, ib, im) = (builder.add(&a), builder.add(&b), builder.add(&m));
        let scan = builder.build().scan(b"iphone cubot x cubot");
        assert_eq!((scan.row(ia), scan.row(ib)), (Some(0), Some(0)));
        assert_eq!(scan.ranges(im).collect::<Vec<_>>(), vec![7..12, 15..20]);
    }
}

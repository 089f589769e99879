//! Numbers and dates as the page's language writes them.

use std::fmt;

use crate::i18n::Tr;

/// An integer with the language's thousands separator (`12,345`, `12 345`).
#[derive(Debug, Clone, Copy)]
pub struct Num(pub i64, pub Tr);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        // French uses a narrow no-break space; English a comma.
        let sep = if self.1.lang() == "fr" {
            '\u{202f}'
        } else {
            ','
        };
        if self.0 < 0 {
            f.write_str("−")?;
        }
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                write!(f, "{sep}")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A share as a whole percentage (`42 %` in French, `42%` in English).
pub fn percent(t: Tr, part: i64, whole: i64) -> String {
    let p = if whole > 0 {
        (part as f64 * 100.0 / whole as f64).round() as i64
    } else {
        0
    };
    if t.lang() == "fr" {
        format!("{p}\u{a0}%")
    } else {
        format!("{p}%")
    }
}

/// A ratio with two decimals in the language's notation (`1.25`, `1,25`).
pub fn ratio(t: Tr, v: f64) -> String {
    let s = format!("{v:.2}");
    if t.lang() == "fr" {
        s.replace('.', ",")
    } else {
        s
    }
}

/// The short name of a month.
pub fn month_name(t: Tr, m: time::Month) -> &'static str {
    t.get(&format!("month.{}", u8::from(m)))
}

/// How a figure moved against the previous period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `up`, `down`, `flat` or `new` (nothing before).
    pub direction: &'static str,
    /// Its text, e.g. `+12% vs previous period`.
    pub text: String,
}

impl Change {
    /// The change from `before` to `now`.
    pub fn new(t: Tr, now: i64, before: i64) -> Change {
        let (direction, text) = if before == 0 && now == 0 {
            ("flat", t.get("dash.change_none").to_owned())
        } else if before == 0 {
            ("new", t.get("dash.change_new").to_owned())
        } else {
            let pct = ((now - before) as f64 * 100.0 / before as f64).round() as i64;
            let dir = match pct {
                0 => "flat",
                p if p > 0 => "up",
                _ => "down",
            };
            let signed = if pct > 0 {
                format!("+{pct}")
            } else {
                format!("{}", pct).replace('-', "−")
            };
            let signed = if t.lang() == "fr" {
                format!("{signed}\u{a0}%")
            } else {
                format!("{signed}%")
            };
            (dir, t.with("dash.change", "pct", signed))
        };
        Change { direction, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(Num(1234567, Tr(Lang::En)).to_string(), "1,234,567");
        assert_eq!(Num(1234, Tr(Lang::Fr)).to_string(), "1\u{202f}234");
        assert_eq!(Num(999, Tr(Lang::En)).to_string(), "999");
        assert_eq!(Num(0, Tr(Lang::En)).to_string(), "0");
        assert_eq!(percent(Tr(Lang::En), 1, 3), "33%");
        assert_eq!(percent(Tr(Lang::En), 1, 0), "0%");
        assert_eq!(ratio(Tr(Lang::Fr), 1.5), "1,50");
    }

    #[test]
    fn changes_against_the_previous_period() {
        let t = Tr(Lang::En);
        assert_eq!(Change::new(t, 12, 10).direction, "up");
        assert!(Change::new(t, 12, 10).text.contains("+20%"));
        assert_eq!(Change::new(t, 5, 10).direction, "down");
        assert!(Change::new(t, 5, 10).text.contains("−50%"));
        assert_eq!(Change::new(t, 3, 0).direction, "new");
        assert_eq!(Change::new(t, 0, 0).direction, "flat");
    }
}

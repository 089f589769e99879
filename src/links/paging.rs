//! Keyset paging of link listings: the page size and the opaque cursor
//! `<unix nanos>.<id>` of the last link of the previous page. Parsed here
//! once, for the API and the pages alike.

use time::OffsetDateTime;

use super::Link;

/// Links per page unless asked otherwise.
pub const DEFAULT_LIMIT: i64 = 20;
/// Most links per page.
pub const MAX_LIMIT: i64 = 100;

/// Which page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size, 1 to [`MAX_LIMIT`].
    pub limit: i64,
    /// Strictly older than this `(created_at, id)`.
    pub before: Option<(OffsetDateTime, i64)>,
}

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    /// Outside 1 to [`MAX_LIMIT`].
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    Limit,
    /// Not a cursor this server gave out.
    #[error("malformed cursor")]
    Cursor,
}

impl PagingError {
    /// The query parameter at fault.
    pub fn field(&self) -> &'static str {
        match self {
            PagingError::Limit => "limit",
            PagingError::Cursor => "cursor",
        }
    }
}

impl PageRequest {
    /// Checks an untrusted limit and cursor.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, PagingError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(PagingError::Limit);
        }
        let before = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(parse_cursor(c).ok_or(PagingError::Cursor)?),
        };
        Ok(PageRequest { limit, before })
    }

    /// The cursor of the page after `links`, or `None` when this page was the last.
    pub fn next_cursor(&self, links: &[Link]) -> Option<String> {
        if (links.len() as i64) < self.limit {
            return None;
        }
        links
            .last()
            .map(|l| format!("{}.{}", l.created_at.unix_timestamp_nanos(), l.id))
    }
}

/// The cursor of a page ordered by clicks: `<clicks>.<id>` of its last link.
pub fn clicks_cursor(clicks: i64, id: i64) -> String {
    format!("{clicks}.{id}")
}

/// Reads a [`clicks_cursor`]; `None` when it is not one.
pub fn parse_clicks_cursor(c: &str) -> Option<(i64, i64)> {
    let (clicks, id) = c.split_once('.')?;
    Some((clicks.parse().ok()?, id.parse().ok()?))
}

fn parse_cursor(c: &str) -> Option<(OffsetDateTime, i64)> {
    let (nanos, id) = c.split_once('.')?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
    Some((at, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors_are_checked() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(PageRequest::parse(Some(0), None), Err(PagingError::Limit));
        assert_eq!(PageRequest::parse(Some(101), None), Err(PagingError::Limit));
        for bad in ["garbage", "1.", ".5", "99999999999999999999999999999999.1"] {
            assert_eq!(
                PageRequest::parse(None, Some(bad)),
                Err(PagingError::Cursor),
                "{bad}"
            );
        }
        let p = PageRequest::parse(Some(5), Some("1700000000000000000.42")).unwrap();
        assert_eq!(p.before.map(|(_, id)| id), Some(42));
        assert_eq!(PageRequest::parse(None, Some("")).unwrap().before, None);
    }
}

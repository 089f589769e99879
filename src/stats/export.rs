//! CSV exports: a link's human clicks (every stored field but the visitor
//! hash), streamed in constant memory, and the breakdowns of a stats view.
//! RFC 4180 through the `csv` crate, UTF-8 with a byte-order mark (so that
//! spreadsheets read the encoding), and formula injection neutralised: a
//! text cell that would start with `=`, `+`, `-`, `@`, a tab or a carriage
//! return gets a leading `'`, so that no spreadsheet evaluates it; numeric
//! columns are written as numbers.

use std::io;

use futures_util::{Stream, StreamExt, stream};
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::view::Row as BreakdownRow;

/// UTF-8 byte-order mark.
pub const BOM: &[u8] = "\u{feff}".as_bytes();

/// Rows written between two chunks of the stream.
const ROWS_PER_CHUNK: usize = 1_000;

/// Chunks that may wait for a slow client (bounds the memory an export holds).
const CHUNKS_AHEAD: usize = 4;

/// The header of the clicks export; `true` marks numeric columns.
const CLICK_COLUMNS: [(&str, bool); 28] = [
    ("id", false),
    ("occurred_at", false),
    ("link_id", true),
    ("method", false),
    ("user_agent", false),
    ("referer", false),
    ("sec_fetch_site", false),
    ("sec_fetch_mode", false),
    ("sec_fetch_dest", false),
    ("sec_fetch_user", false),
    ("purpose", false),
    ("accept_language", false),
    ("dnt", false),
    ("gpc", false),
    ("channel", false),
    ("source", false),
    ("inapp", false),
    ("evidence", false),
    ("browser", false),
    ("os", false),
    ("device", false),
    ("country", false),
    ("region", false),
    ("city", false),
    ("referrer_host", false),
    ("utm_source", false),
    ("utm_medium", false),
    ("utm_campaign", false),
];

/// The cell as written: text that a spreadsheet would read as a formula is
/// prefixed with `'`.
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A link's human clicks in `[from, to)`, oldest first, as CSV chunks. The
/// rows are read by a task that stays at most [`CHUNKS_AHEAD`] chunks ahead
/// of the client, so that 10 M rows never sit in memory.
pub fn clicks_csv(
    pool: PgPool,
    link_id: i64,
    (from, to): (OffsetDateTime, OffsetDateTime),
) -> impl Stream<Item = Result<Vec<u8>, io::Error>> + Send + 'static {
    let (tx, rx) = mpsc::channel::<Result<Vec<u8>, io::Error>>(CHUNKS_AHEAD);
    tokio::spawn(async move {
        if let Err(e) = write_clicks(&pool, link_id, (from, to), &tx).await {
            // The client sees a cut response rather than a complete-looking file.
            let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
        }
    });
    stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
}

async fn write_clicks(
    pool: &PgPool,
    link_id: i64,
    (from, to): (OffsetDateTime, OffsetDateTime),
    tx: &mpsc::Sender<Result<Vec<u8>, io::Error>>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut csv = writer();
    csv.write_record(CLICK_COLUMNS.map(|(name, _)| name))?;
    let mut rows = super::store::click_rows(pool, link_id, (from, to));
    let mut written = 0;
    while let Some(row) = rows.next().await {
        let row = row?;
        let mut record = csv::StringRecord::with_capacity(512, CLICK_COLUMNS.len());
        for (i, (_, numeric)) in CLICK_COLUMNS.iter().enumerate() {
            let cell: Option<String> = row.try_get(i)?;
            let cell = cell.unwrap_or_default();
            record.push_field(&if *numeric {
                cell.as_str().into()
            } else {
                guard(&cell)
            });
        }
        csv.write_record(&record)?;
        written += 1;
        if written % ROWS_PER_CHUNK == 0 {
            let chunk = std::mem::replace(&mut csv, writer_into(Vec::new()));
            let chunk = chunk.into_inner().map_err(|e| e.into_error())?;
            if tx.send(Ok(chunk)).await.is_err() {
                return Ok(()); // The client went away.
            }
        }
    }
    let rest = csv.into_inner().map_err(|e| e.into_error())?;
    let _ = tx.send(Ok(rest)).await;
    Ok(())
}

/// A CSV writer into a buffer that starts with the BOM; CRLF line ends (RFC 4180).
fn writer() -> csv::Writer<Vec<u8>> {
    writer_into(BOM.to_vec())
}

fn writer_into(buf: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(buf)
}

/// One breakdown of a stats view as CSV: `<dimension>,clicks,visitors`.
pub fn breakdown_csv(dimension: &str, rows: &[BreakdownRow]) -> Result<Vec<u8>, csv::Error> {
    let mut csv = writer();
    csv.write_record([dimension, "clicks", "visitors"])?;
    for r in rows {
        csv.write_record([
            guard(&r.value).as_ref(),
            itoa::Buffer::new().format(r.clicks),
            itoa::Buffer::new().format(r.visitors),
        ])?;
    }
    csv.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_other_text_is_left_alone() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://evil\")",
                "'=HYPERLINK(\"http://evil\")",
            ),
            ("+33 6 12", "'+33 6 12"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("whatsapp", "whatsapp"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(guard(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn a_breakdown_is_rfc_4180_with_a_bom_and_numbers_stay_numbers() {
        let rows = [
            BreakdownRow {
                value: "=cmd|' /C calc'!A0".into(),
                clicks: 3,
                visitors: 2,
            },
            BreakdownRow {
                value: "a \"quoted\", value".into(),
                clicks: 1,
                visitors: 1,
            },
        ];
        let out = String::from_utf8(breakdown_csv("source", &rows).unwrap()).unwrap();
        assert_eq!(
            out,
            "\u{feff}source,clicks,visitors\r\n'=cmd|' /C calc'!A0,3,2\r\n\"a \"\"quoted\"\", value\",1,1\r\n"
        );
    }
}

//! Human clicks into `clicks` by binary `COPY`, PostgreSQL's fastest bulk
//! path (duplicates are ruled out by the batch ledger, so nothing needs
//! skipping).

use sqlx::PgConnection;

use crate::clicks::{ClickRecord, pgcopy::BinaryCopy};

/// Rows per `COPY` statement. PostgreSQL 15 keeps one buffered slot per
/// row of a COPY (up to 1,000) and releases them with a linear search each,
/// so a COPY's cost grows with the square of its rows; a few hundred rows
/// amortise the statement without paying that.
pub const COPY_ROWS: usize = 250;

/// Column list of `clicks`, in the order `copy_clicks` writes the fields.
macro_rules! click_columns {
    () => {
        "id, occurred_at, link_id, method, user_agent, referer, sec_fetch_site, \
         sec_fetch_mode, sec_fetch_dest, sec_fetch_user, purpose, accept_language, dnt, gpc, \
         channel, source, inapp, evidence, browser, os, device, country, region, city, referrer_host, \
         visitor_hash, utm_source, utm_medium, utm_campaign"
    };
}

/// The binary `COPY` stream of human clicks, fields in the column-list order.
pub fn copy_data(batch: &[&ClickRecord]) -> Vec<u8> {
    let mut data = BinaryCopy::with_capacity(batch.len() * 400);
    for r in batch {
        let (h, a) = (&r.headers, &r.attribution);
        data.row(29);
        data.uuid(r.id);
        data.timestamptz(r.occurred_at);
        data.int8(r.link_id);
        data.text(Some(&r.method));
        for v in [
            &h.user_agent,
            &h.referer,
            &h.sec_fetch_site,
            &h.sec_fetch_mode,
            &h.sec_fetch_dest,
            &h.sec_fetch_user,
            &h.purpose,
            &h.accept_language,
        ] {
            data.text(v.as_deref());
        }
        data.bool(h.dnt);
        data.bool(h.gpc);
        for v in [&a.channel, &a.source, &a.inapp] {
            data.text(v.as_deref());
        }
        data.text_array(&a.evidence);
        for v in [
            &a.browser,
            &a.os,
            &a.device,
            &a.country,
            &a.region,
            &a.city,
            &a.referrer_host,
        ] {
            data.text(v.as_deref());
        }
        data.bytea(a.visitor_hash.as_ref().map(|h| &h[..]));
        for v in [&a.utm_source, &a.utm_medium, &a.utm_campaign] {
            data.text(v.as_deref());
        }
    }
    data.finish()
}

pub async fn copy_clicks(
    conn: &mut PgConnection,
    batch: &[&ClickRecord],
) -> Result<u64, sqlx::Error> {
    let data = copy_data(batch);
    let statement = concat!(
        "copy clicks (",
        click_columns!(),
        ") from stdin with (format binary)"
    );
    let mut copy = conn.copy_in_raw(statement).await?;
    // Rows may straddle messages; 64 KiB messages spare PostgreSQL the
    // repeated buffer growth of one multi-megabyte message.
    for chunk in data.chunks(64 * 1024) {
        copy.send(chunk).await?;
    }
    copy.finish().await
}

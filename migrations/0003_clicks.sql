-- Clicks: one row per redirect, written in batches by the click writer.
--
-- Sized for hundreds of millions of rows:
-- * range-partitioned by month on occurred_at, so retention drops whole
--   partitions (no mass DELETE, no bloat) and time-range queries prune;
-- * no foreign key to links: it would cost a lookup per inserted row, and
--   links are never hard-deleted, so the reference cannot dangle;
-- * the primary key is the event id, assigned at capture (UUIDv7, so inserts
--   land at the right edge of the index) — a replayed event hits it and is
--   skipped by ON CONFLICT DO NOTHING: exactly once.

create table clicks (
    id              uuid not null,
    occurred_at     timestamptz not null,
    link_id         bigint not null,
    method          text not null,
    -- Request headers that attribution reads, capped in length at capture.
    user_agent      text,
    referer         text,
    sec_fetch_site  text,
    sec_fetch_mode  text,
    sec_fetch_dest  text,
    sec_fetch_user  text,
    purpose         text,
    accept_language text,
    -- Privacy signals of the visitor (Do Not Track, Global Privacy Control).
    dnt             boolean not null default false,
    gpc             boolean not null default false,
    -- A partitioned table's unique key must contain the partition key.
    constraint clicks_pkey primary key (id, occurred_at)
) partition by range (occurred_at);

-- Per-link time-range queries (dashboards, exports).
create index clicks_link_time_idx on clicks (link_id, occurred_at);

-- Catches rows outside every monthly partition (e.g. a very old spool), so an
-- insert never fails for want of a partition. Kept empty in normal operation.
create table clicks_default partition of clicks default;

-- Creates the monthly partitions from the month of `from_month` for `months`
-- months (idempotent); called at start-up and daily by the server.
create function lanterne_ensure_click_partitions(from_month date, months integer)
returns void language plpgsql as $$
declare
    first date := date_trunc('month', from_month)::date;
    lo date;
    hi date;
    name text;
begin
    for i in 0 .. months - 1 loop
        lo := (first + make_interval(months => i))::date;
        hi := (lo + interval '1 month')::date;
        name := format('clicks_y%sm%s', to_char(lo, 'YYYY'), to_char(lo, 'MM'));
        if to_regclass(name) is null then
            execute format('create table %I partition of clicks for values from (%L) to (%L)', name, lo, hi);
        end if;
    end loop;
end;
$$;

select lanterne_ensure_click_partitions((now() - interval '1 month')::date, 5);

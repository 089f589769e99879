-- Rollups: what the dashboard and the stats API read, so that their cost
-- grows with the time range, not with the number of clicks.
--
-- * Written by the click writer in the same transaction as each batch, so
--   they are exactly-once like the clicks (the click_batches ledger skips a
--   batch stored before, rollups included).
-- * Hourly (UTC), so that any IANA time zone with whole-hour offsets gets
--   exact days, weeks and months.
-- * One dimension per row (Plausible's approach): a click adds one to the
--   'all' row of its hour and channel and one to the row of each dimension's
--   value. Breakdowns read one dimension; rows stay few per link and hour
--   however many clicks there are.
-- * Not partitioned with clicks: dropping an old clicks partition
--   (clicks.retention) leaves its aggregates here.

create table click_rollups (
    link_id   bigint not null,
    hour      timestamptz not null,      -- start of the UTC hour
    kind      text not null check (kind in ('human', 'preview', 'bot', 'prefetch')),
    channel   text not null default '',  -- humans: their channel; other kinds: ''
    dimension text not null,             -- 'all' or source, evidence, country, region, city,
                                         -- device, browser, os, referrer_host, utm_source,
                                         -- utm_medium, utm_campaign
    value     text not null default '',  -- the dimension's value; '' when unknown (and for 'all')
    events    bigint not null,           -- requests (clicks for humans)
    -- Humans: daily visitors, each counted once per link and UTC day, in the
    -- rows of their first click that day (so that visitors add up across
    -- hours and values: "unique per day, summed over days").
    visitors  bigint not null default 0,
    constraint click_rollups_pkey primary key (link_id, dimension, hour, kind, channel, value)
);

-- Workspace-wide reads (no link filter) go by dimension and time.
create index click_rollups_dimension_hour_idx on click_rollups (dimension, hour);

-- The same per UTC day, written beside the hourly rows by the same
-- statements: a range reads whole days here and only its two partial days
-- from click_rollups, so a 90-day view reads about 24 times fewer rows.
create table click_rollups_daily (
    link_id   bigint not null,
    day       date not null,             -- the UTC day
    kind      text not null check (kind in ('human', 'preview', 'bot', 'prefetch')),
    channel   text not null default '',
    dimension text not null,
    value     text not null default '',
    events    bigint not null,
    visitors  bigint not null default 0,
    constraint click_rollups_daily_pkey primary key (link_id, dimension, day, kind, channel, value)
);
create index click_rollups_daily_dimension_day_idx on click_rollups_daily (dimension, day);

-- The visitors seen per link and UTC day: a click whose visitor is new here
-- is its visitor's first of the day on that link. The visitor hash already
-- covers the link and the day (its salt is the day's), so its first 8 bytes
-- are the key: one fixed-width B-tree entry per visitor and day, the
-- cheapest unique check there is. The salt is forgotten after its day, so
-- rows older than two days are pruned by the upkeep (by `day`).
create table visitor_days (
    visitor bigint not null,   -- the visitor hash's first 8 bytes, big-endian
    day     date not null,     -- its UTC day
    constraint visitor_days_pkey primary key (visitor)
);
create index visitor_days_day_idx on visitor_days (day);

-- Clicks stored before this migration get their rollups now (the same rows
-- `lanterne rollups rebuild` computes), so that retention never drops raw
-- clicks that have no aggregates. Visitors count on their first click of
-- each UTC day.
insert into click_rollups (link_id, hour, kind, channel, dimension, value, events, visitors)
select link_id, date_trunc('hour', occurred_at, 'UTC'), 'human', coalesce(channel, ''),
       d.dimension, coalesce(d.value, ''), count(*), count(*) filter (where first_visit)
from (select c.*, visitor_hash is not null and row_number() over (
          partition by link_id, (occurred_at at time zone 'UTC')::date, visitor_hash
          order by occurred_at, id) = 1 as first_visit
      from clicks c) c
cross join lateral (values ('all', ''), ('source', source),
    ('evidence', split_part(evidence[1], ':', 1)), ('country', country), ('region', region),
    ('city', city), ('device', device), ('browser', browser), ('os', os),
    ('referrer_host', referrer_host), ('utm_source', utm_source), ('utm_medium', utm_medium),
    ('utm_campaign', utm_campaign)) as d(dimension, value)
group by 1, 2, 3, 4, 5, 6;

-- Previews by app, and bots and prefetches by source, the same way.
insert into click_rollups (link_id, hour, kind, channel, dimension, value, events)
select link_id, date_trunc('hour', occurred_at, 'UTC'), 'preview', '', d.dimension, d.value, count(*)
from share_events cross join lateral (values ('all', ''), ('source', app)) as d(dimension, value)
group by 1, 2, 3, 4, 5, 6;

-- Bots and prefetches whose ledger rows were already pruned
-- (attribution.filtered_retention) remain only in link_daily_counts.
insert into click_rollups (link_id, hour, kind, channel, dimension, value, events)
select link_id, date_trunc('hour', occurred_at, 'UTC'), kind, '', d.dimension, coalesce(d.value, ''), count(*)
from filtered_requests cross join lateral (values ('all', ''), ('source', source)) as d(dimension, value)
group by 1, 2, 3, 4, 5, 6;

-- The daily rows of everything above.
insert into click_rollups_daily (link_id, day, kind, channel, dimension, value, events, visitors)
select link_id, (hour at time zone 'UTC')::date, kind, channel, dimension, value, sum(events), sum(visitors)
from click_rollups group by 1, 2, 3, 4, 5, 6;

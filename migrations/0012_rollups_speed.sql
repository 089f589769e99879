-- Rollups that stay fast at 10 M+ clicks (issue 11's speed targets).
--
-- * Workspace rollups: the same rows as click_rollups and
--   click_rollups_daily summed over every link, written by the same
--   statements in the batch's transaction (so exactly-once with it). The
--   workspace overview reads these instead of summing the rows of every
--   link: its cost follows the range, not the number of links.
-- * visitor_days keyed by (day, visitor): a batch's checks fall in one day's
--   part of the index (a few megabytes) instead of anywhere in an index of
--   every visitor, and the pruning by day uses the key, so the second index
--   goes.

create table workspace_rollups (
    hour      timestamptz not null,
    kind      text not null check (kind in ('human', 'preview', 'bot', 'prefetch')),
    channel   text not null default '',
    dimension text not null,
    value     text not null default '',
    events    bigint not null,
    visitors  bigint not null default 0,
    constraint workspace_rollups_pkey primary key (dimension, hour, kind, channel, value)
);

create table workspace_rollups_daily (
    day       date not null,
    kind      text not null check (kind in ('human', 'preview', 'bot', 'prefetch')),
    channel   text not null default '',
    dimension text not null,
    value     text not null default '',
    events    bigint not null,
    visitors  bigint not null default 0,
    constraint workspace_rollups_daily_pkey primary key (dimension, day, kind, channel, value)
);

insert into workspace_rollups (hour, kind, channel, dimension, value, events, visitors)
select hour, kind, channel, dimension, value, sum(events), sum(visitors)
from click_rollups group by 1, 2, 3, 4, 5;

insert into workspace_rollups_daily (day, kind, channel, dimension, value, events, visitors)
select day, kind, channel, dimension, value, sum(events), sum(visitors)
from click_rollups_daily group by 1, 2, 3, 4, 5;

create table visitor_days_by_day (
    day     date not null,
    visitor bigint not null,
    constraint visitor_days_by_day_pkey primary key (day, visitor)
);
insert into visitor_days_by_day (day, visitor) select day, visitor from visitor_days;
drop table visitor_days;
alter table visitor_days_by_day rename to visitor_days;
alter index visitor_days_by_day_pkey rename to visitor_days_pkey;

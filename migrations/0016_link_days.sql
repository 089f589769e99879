-- Human clicks and daily visitors per link and UTC day (issue 11: the
-- workspace overview of 100 links under 100 ms).
--
-- The top links of a range summed every link's `all` rows of
-- `click_rollups_daily`: one per kind and channel and day, scattered over the
-- heap among the other dimensions' rows (about 88,000 rows and 52,000 pages
-- for 100 links over 90 days: 170-400 ms). This table holds one row per link
-- and day, written with the rollups in each batch's transaction (so
-- exactly-once like them), corrected with them (burst rule), recomputed by
-- `lanterne rollups rebuild`, and never dropped by retention. Its values are
-- not indexed, so that its updates can stay HOT.
create table link_days (
    link_id  bigint not null,
    day      date not null,
    clicks   bigint not null,
    visitors bigint not null default 0,
    constraint link_days_pkey primary key (link_id, day)
);
-- The workspace's top links read a day range over every link.
create index link_days_day_idx on link_days (day);

insert into link_days (link_id, day, clicks, visitors)
select link_id, day, sum(events), sum(visitors)
from click_rollups_daily
where kind = 'human' and dimension = 'all'
group by 1, 2;

-- Cheaper rollup writes (issue 11: the writer at >= 100,000 clicks/s).
--
-- The human rollup upsert is most of a batch's time (docs/stats.md, "Write
-- cost"), and each new rollup row paid an entry in the (dimension, hour)
-- and (dimension, day) indexes besides the primary key. Every read by link
-- goes through the primary key (link_id, dimension, ...); the only read
-- without a link is the workspace's top links, which reads `all` rows only
-- (src/stats/store/rollups.rs). So these indexes keep the `all` rows only:
-- about one rollup row in thirteen pays the second index entry instead of
-- every one. The tables' rows and meaning are unchanged.

drop index click_rollups_dimension_hour_idx;
create index click_rollups_all_hour_idx on click_rollups (hour) where dimension = 'all';

drop index click_rollups_daily_dimension_day_idx;
create index click_rollups_daily_all_day_idx on click_rollups_daily (day) where dimension = 'all';

-- The BRIN index on clicks.occurred_at (0015) summarises a block range only
-- when VACUUM runs: every range written since the last vacuum is read whole
-- by any query on a time window (a burst correction, the recent clicks of a
-- window), 8,000 blocks for a day of 300,000 clicks. With autosummarize,
-- each range is summarised (by an autovacuum worker) as soon as the next one
-- is started. Recreated because a partitioned index's options cannot be
-- altered; the new one applies to every partition, now and to come.
drop index clicks_occurred_at_brin;
create index clicks_occurred_at_brin on clicks using brin (occurred_at) with (autosummarize = on);

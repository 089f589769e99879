-- The dashboard's "recent clicks" list of the whole workspace reads the
-- newest clicks of a short window (src/stats/recent.rs). A BRIN index on
-- occurred_at finds that window's blocks without a B-tree's write cost:
-- clicks arrive in time order, so each block range holds a narrow span of
-- times and the index stays a few pages per partition.
create index clicks_occurred_at_brin on clicks using brin (occurred_at);

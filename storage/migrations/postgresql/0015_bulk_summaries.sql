-- 0015 (PostgreSQL twin of ../0015_bulk_summaries.sql): the switch a bulk load sets to add the report summaries
-- once per batch. On PostgreSQL the loads keep the per-row triggers (storage.bulk.defers_summaries answers False
-- for a PostgreSQL connection: several writers may run at once, so a switch row would be seen by the others), so
-- the triggers of 0009 and 0013 stay as they are; the table exists so both schemas are equal in effect.
CREATE TABLE summaries_deferred (
    id BIGINT PRIMARY KEY CHECK (id = 1)
);

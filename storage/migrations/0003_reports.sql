-- 0003: reports. One covering index for every report query: a period is a range of created_at, and every
-- column the figures read is in the index, so a yearly report over 1.5M tickets never touches the table
-- (measured: bench/report_bench.py). Not (unit, created_at): the planner picks that one and gets slower.
CREATE INDEX tickets_report ON tickets(
    created_at, unit, district, category, state, due_at, signed_on_time, resolved_on_time, resolved_at, rating,
    reopen_count, bounces
);

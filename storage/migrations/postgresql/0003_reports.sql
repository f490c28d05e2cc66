-- 0003: reports (measured in bench/report_bench.py on a seeded year of 1.5M tickets). (PostgreSQL twin of ../0003_reports.sql)
-- tickets_report covers every column the figures read, ordered so that each (unit, district, category) group is
-- one contiguous range per period: the report seeks each group's range and aggregates it without a sort (a
-- GROUP BY over the period's rows sorts them all: 2.5-3.9 s). Covering, so the table is never touched.
CREATE INDEX tickets_report ON tickets(
    unit, district, category, created_at, state, due_at, signed_on_time, resolved_on_time, resolved_at, rating,
    reopen_count, bounces
);
-- Daily volume (one count per local day) and the ledger (rows of a period in order of creation).
CREATE INDEX tickets_created ON tickets(created_at);

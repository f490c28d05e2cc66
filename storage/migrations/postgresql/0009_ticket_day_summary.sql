-- 0009 (PostgreSQL twin of ../0009_ticket_day_summary.sql): per-unit summaries of the report's figures by UTC day and by UTC month, kept by triggers inside each
-- write's own transaction (generated once from a short script; the triggers repeat one expression list).
-- Key: (unit, district, category, day or month of created_at in UTC); a NULL unit or district is stored as ''
-- (a primary key treats NULLs as distinct). A row holds the figures that depend only on the tickets' own columns;
-- what depends on a report's `as_of` (overdue, sign-for overdue) is read from the open tickets
-- (tickets_open_report). A merged duplicate counts nowhere, as in storage/reports.py.
-- The triggers are the one seam: every insert, update of a counted column (Transitions.apply, the intake,
-- merging, ratings, the bulk seed) and delete keeps both tables equal to a recount from the tickets
-- (tests/storage/test_day_summary.py walks random lifecycles against it). A yearly ranking reads ~12 month rows
-- per group and a few hours of tickets instead of 1.5M tickets (bench/report_bench.py). Days come first in the
-- day table's key (a period's few days are one range), groups first in the month table's (a year is most of that
-- small table, read in group order: no sort).

CREATE TABLE ticket_day_summary (
    unit             TEXT    NOT NULL,
    district         TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    day              TEXT    NOT NULL,
    received         BIGINT  NOT NULL DEFAULT 0,
    signed           BIGINT  NOT NULL DEFAULT 0,
    signed_on_time   BIGINT  NOT NULL DEFAULT 0,
    resolved         BIGINT  NOT NULL DEFAULT 0,
    resolved_on_time BIGINT  NOT NULL DEFAULT 0,
    open             BIGINT  NOT NULL DEFAULT 0,
    rated            BIGINT  NOT NULL DEFAULT 0,
    satisfied        BIGINT  NOT NULL DEFAULT 0,
    recomplained     BIGINT  NOT NULL DEFAULT 0,
    bounced          BIGINT  NOT NULL DEFAULT 0,
    solution_rated   BIGINT  NOT NULL DEFAULT 0,
    solved           BIGINT  NOT NULL DEFAULT 0,
    partly_solved    BIGINT  NOT NULL DEFAULT 0,
    withdrawn        BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit, district, category)
);

INSERT INTO ticket_day_summary(unit, district, category, day, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
SELECT coalesce(t.unit, ''), coalesce(t.district, ''), t.category, substr(t.created_at, 1, 10),
       sum((t.state != 'withdrawn')::int),
       sum((t.signed_on_time IS NOT NULL)::int),
       sum(coalesce(t.signed_on_time, 0)),
       sum((t.resolved_on_time IS NOT NULL)::int),
       sum(coalesce(t.resolved_on_time, 0)),
       sum((t.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened'))::int),
       sum((t.rating IS NOT NULL)::int),
       sum(coalesce((t.rating = 'satisfied')::int, 0)),
       sum((t.reopen_count > 0)::int),
       sum((t.bounces > 0)::int),
       sum((t.solved IS NOT NULL)::int),
       sum(coalesce((t.solved = 'solved')::int, 0)),
       sum(coalesce((t.solved = 'partly')::int, 0)),
       sum((t.state = 'withdrawn')::int)
FROM tickets t WHERE t.state != 'merged'
GROUP BY 1, 2, 3, 4;

CREATE TABLE ticket_month_summary (
    unit             TEXT    NOT NULL,
    district         TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    month            TEXT    NOT NULL,
    received         BIGINT  NOT NULL DEFAULT 0,
    signed           BIGINT  NOT NULL DEFAULT 0,
    signed_on_time   BIGINT  NOT NULL DEFAULT 0,
    resolved         BIGINT  NOT NULL DEFAULT 0,
    resolved_on_time BIGINT  NOT NULL DEFAULT 0,
    open             BIGINT  NOT NULL DEFAULT 0,
    rated            BIGINT  NOT NULL DEFAULT 0,
    satisfied        BIGINT  NOT NULL DEFAULT 0,
    recomplained     BIGINT  NOT NULL DEFAULT 0,
    bounced          BIGINT  NOT NULL DEFAULT 0,
    solution_rated   BIGINT  NOT NULL DEFAULT 0,
    solved           BIGINT  NOT NULL DEFAULT 0,
    partly_solved    BIGINT  NOT NULL DEFAULT 0,
    withdrawn        BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (unit, district, category, month)
);

INSERT INTO ticket_month_summary(unit, district, category, month, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
SELECT coalesce(t.unit, ''), coalesce(t.district, ''), t.category, substr(t.created_at, 1, 7),
       sum((t.state != 'withdrawn')::int),
       sum((t.signed_on_time IS NOT NULL)::int),
       sum(coalesce(t.signed_on_time, 0)),
       sum((t.resolved_on_time IS NOT NULL)::int),
       sum(coalesce(t.resolved_on_time, 0)),
       sum((t.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened'))::int),
       sum((t.rating IS NOT NULL)::int),
       sum(coalesce((t.rating = 'satisfied')::int, 0)),
       sum((t.reopen_count > 0)::int),
       sum((t.bounces > 0)::int),
       sum((t.solved IS NOT NULL)::int),
       sum(coalesce((t.solved = 'solved')::int, 0)),
       sum(coalesce((t.solved = 'partly')::int, 0)),
       sum((t.state = 'withdrawn')::int)
FROM tickets t WHERE t.state != 'merged'
GROUP BY 1, 2, 3, 4;

-- One function adds (sign 1) or takes away (sign -1) a ticket row's share of both summaries; the triggers call it
-- with OLD and NEW as the SQLite triggers do (the same expressions, as integers).
CREATE FUNCTION ticket_summary_apply(r tickets, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF r.state = 'merged' THEN
        RETURN;
    END IF;
    INSERT INTO ticket_day_summary(unit, district, category, day, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
    VALUES (coalesce(r.unit, ''), coalesce(r.district, ''), r.category, substr(r.created_at, 1, 10), sign * (r.state != 'withdrawn')::int, sign * (r.signed_on_time IS NOT NULL)::int, sign * coalesce(r.signed_on_time, 0), sign * (r.resolved_on_time IS NOT NULL)::int, sign * coalesce(r.resolved_on_time, 0), sign * (r.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened'))::int, sign * (r.rating IS NOT NULL)::int, sign * coalesce((r.rating = 'satisfied')::int, 0), sign * (r.reopen_count > 0)::int, sign * (r.bounces > 0)::int, sign * (r.solved IS NOT NULL)::int, sign * coalesce((r.solved = 'solved')::int, 0), sign * coalesce((r.solved = 'partly')::int, 0), sign * (r.state = 'withdrawn')::int)
    ON CONFLICT(day, unit, district, category) DO UPDATE SET received = ticket_day_summary.received + excluded.received, signed = ticket_day_summary.signed + excluded.signed, signed_on_time = ticket_day_summary.signed_on_time + excluded.signed_on_time, resolved = ticket_day_summary.resolved + excluded.resolved, resolved_on_time = ticket_day_summary.resolved_on_time + excluded.resolved_on_time, open = ticket_day_summary.open + excluded.open, rated = ticket_day_summary.rated + excluded.rated, satisfied = ticket_day_summary.satisfied + excluded.satisfied, recomplained = ticket_day_summary.recomplained + excluded.recomplained, bounced = ticket_day_summary.bounced + excluded.bounced, solution_rated = ticket_day_summary.solution_rated + excluded.solution_rated, solved = ticket_day_summary.solved + excluded.solved, partly_solved = ticket_day_summary.partly_solved + excluded.partly_solved, withdrawn = ticket_day_summary.withdrawn + excluded.withdrawn;
    INSERT INTO ticket_month_summary(unit, district, category, month, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
    VALUES (coalesce(r.unit, ''), coalesce(r.district, ''), r.category, substr(r.created_at, 1, 7), sign * (r.state != 'withdrawn')::int, sign * (r.signed_on_time IS NOT NULL)::int, sign * coalesce(r.signed_on_time, 0), sign * (r.resolved_on_time IS NOT NULL)::int, sign * coalesce(r.resolved_on_time, 0), sign * (r.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened'))::int, sign * (r.rating IS NOT NULL)::int, sign * coalesce((r.rating = 'satisfied')::int, 0), sign * (r.reopen_count > 0)::int, sign * (r.bounces > 0)::int, sign * (r.solved IS NOT NULL)::int, sign * coalesce((r.solved = 'solved')::int, 0), sign * coalesce((r.solved = 'partly')::int, 0), sign * (r.state = 'withdrawn')::int)
    ON CONFLICT(unit, district, category, month) DO UPDATE SET received = ticket_month_summary.received + excluded.received, signed = ticket_month_summary.signed + excluded.signed, signed_on_time = ticket_month_summary.signed_on_time + excluded.signed_on_time, resolved = ticket_month_summary.resolved + excluded.resolved, resolved_on_time = ticket_month_summary.resolved_on_time + excluded.resolved_on_time, open = ticket_month_summary.open + excluded.open, rated = ticket_month_summary.rated + excluded.rated, satisfied = ticket_month_summary.satisfied + excluded.satisfied, recomplained = ticket_month_summary.recomplained + excluded.recomplained, bounced = ticket_month_summary.bounced + excluded.bounced, solution_rated = ticket_month_summary.solution_rated + excluded.solution_rated, solved = ticket_month_summary.solved + excluded.solved, partly_solved = ticket_month_summary.partly_solved + excluded.partly_solved, withdrawn = ticket_month_summary.withdrawn + excluded.withdrawn;
END;
$$;

CREATE FUNCTION ticket_summary_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM ticket_summary_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ticket_summary_apply(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ticket_summary_insert AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_summary_trigger();
CREATE TRIGGER ticket_summary_update AFTER UPDATE OF
    state, unit, district, category, created_at, signed_on_time, resolved_on_time, rating, reopen_count, bounces, solved
    ON tickets FOR EACH ROW EXECUTE FUNCTION ticket_summary_trigger();
CREATE TRIGGER ticket_summary_delete AFTER DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_summary_trigger();

-- The as_of-dependent figures of a period, from its open tickets only (a few percent of a year).
CREATE INDEX tickets_open_report ON tickets(unit, district, category, created_at, state, due_at, resolved_on_time,
    sign_due_at, signed_on_time)
    WHERE state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened');

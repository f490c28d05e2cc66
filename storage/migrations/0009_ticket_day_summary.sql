-- 0009: per-unit summaries of the report's figures by UTC day and by UTC month, kept by triggers inside each
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
    received         INTEGER NOT NULL DEFAULT 0,
    signed           INTEGER NOT NULL DEFAULT 0,
    signed_on_time   INTEGER NOT NULL DEFAULT 0,
    resolved         INTEGER NOT NULL DEFAULT 0,
    resolved_on_time INTEGER NOT NULL DEFAULT 0,
    open             INTEGER NOT NULL DEFAULT 0,
    rated            INTEGER NOT NULL DEFAULT 0,
    satisfied        INTEGER NOT NULL DEFAULT 0,
    recomplained     INTEGER NOT NULL DEFAULT 0,
    bounced          INTEGER NOT NULL DEFAULT 0,
    solution_rated   INTEGER NOT NULL DEFAULT 0,
    solved           INTEGER NOT NULL DEFAULT 0,
    partly_solved    INTEGER NOT NULL DEFAULT 0,
    withdrawn        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit, district, category)
) WITHOUT ROWID;

INSERT INTO ticket_day_summary(unit, district, category, day, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
SELECT coalesce(t.unit, ''), coalesce(t.district, ''), t.category, substr(t.created_at, 1, 10),
       sum((t.state != 'withdrawn')),
       sum((t.signed_on_time IS NOT NULL)),
       sum(coalesce(t.signed_on_time, 0)),
       sum((t.resolved_on_time IS NOT NULL)),
       sum(coalesce(t.resolved_on_time, 0)),
       sum((t.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened'))),
       sum((t.rating IS NOT NULL)),
       sum(coalesce(t.rating = 'satisfied', 0)),
       sum((t.reopen_count > 0)),
       sum((t.bounces > 0)),
       sum((t.solved IS NOT NULL)),
       sum(coalesce(t.solved = 'solved', 0)),
       sum(coalesce(t.solved = 'partly', 0)),
       sum((t.state = 'withdrawn'))
FROM tickets t WHERE t.state != 'merged'
GROUP BY 1, 2, 3, 4;

CREATE TABLE ticket_month_summary (
    unit             TEXT    NOT NULL,
    district         TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    month            TEXT    NOT NULL,
    received         INTEGER NOT NULL DEFAULT 0,
    signed           INTEGER NOT NULL DEFAULT 0,
    signed_on_time   INTEGER NOT NULL DEFAULT 0,
    resolved         INTEGER NOT NULL DEFAULT 0,
    resolved_on_time INTEGER NOT NULL DEFAULT 0,
    open             INTEGER NOT NULL DEFAULT 0,
    rated            INTEGER NOT NULL DEFAULT 0,
    satisfied        INTEGER NOT NULL DEFAULT 0,
    recomplained     INTEGER NOT NULL DEFAULT 0,
    bounced          INTEGER NOT NULL DEFAULT 0,
    solution_rated   INTEGER NOT NULL DEFAULT 0,
    solved           INTEGER NOT NULL DEFAULT 0,
    partly_solved    INTEGER NOT NULL DEFAULT 0,
    withdrawn        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (unit, district, category, month)
) WITHOUT ROWID;

INSERT INTO ticket_month_summary(unit, district, category, month, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
SELECT coalesce(t.unit, ''), coalesce(t.district, ''), t.category, substr(t.created_at, 1, 7),
       sum((t.state != 'withdrawn')),
       sum((t.signed_on_time IS NOT NULL)),
       sum(coalesce(t.signed_on_time, 0)),
       sum((t.resolved_on_time IS NOT NULL)),
       sum(coalesce(t.resolved_on_time, 0)),
       sum((t.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened'))),
       sum((t.rating IS NOT NULL)),
       sum(coalesce(t.rating = 'satisfied', 0)),
       sum((t.reopen_count > 0)),
       sum((t.bounces > 0)),
       sum((t.solved IS NOT NULL)),
       sum(coalesce(t.solved = 'solved', 0)),
       sum(coalesce(t.solved = 'partly', 0)),
       sum((t.state = 'withdrawn'))
FROM tickets t WHERE t.state != 'merged'
GROUP BY 1, 2, 3, 4;

CREATE TRIGGER ticket_summary_insert AFTER INSERT ON tickets
BEGIN
    INSERT INTO ticket_day_summary(unit, district, category, day, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
    SELECT coalesce(NEW.unit, ''), coalesce(NEW.district, ''), NEW.category, substr(NEW.created_at, 1, 10), (NEW.state != 'withdrawn'), (NEW.signed_on_time IS NOT NULL), coalesce(NEW.signed_on_time, 0), (NEW.resolved_on_time IS NOT NULL), coalesce(NEW.resolved_on_time, 0), (NEW.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), (NEW.rating IS NOT NULL), coalesce(NEW.rating = 'satisfied', 0), (NEW.reopen_count > 0), (NEW.bounces > 0), (NEW.solved IS NOT NULL), coalesce(NEW.solved = 'solved', 0), coalesce(NEW.solved = 'partly', 0), (NEW.state = 'withdrawn')
    WHERE NEW.state != 'merged'
    ON CONFLICT(day, unit, district, category) DO UPDATE SET received = received + excluded.received, signed = signed + excluded.signed, signed_on_time = signed_on_time + excluded.signed_on_time, resolved = resolved + excluded.resolved, resolved_on_time = resolved_on_time + excluded.resolved_on_time, open = open + excluded.open, rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied, recomplained = recomplained + excluded.recomplained, bounced = bounced + excluded.bounced, solution_rated = solution_rated + excluded.solution_rated, solved = solved + excluded.solved, partly_solved = partly_solved + excluded.partly_solved, withdrawn = withdrawn + excluded.withdrawn;
    INSERT INTO ticket_month_summary(unit, district, category, month, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
    SELECT coalesce(NEW.unit, ''), coalesce(NEW.district, ''), NEW.category, substr(NEW.created_at, 1, 7), (NEW.state != 'withdrawn'), (NEW.signed_on_time IS NOT NULL), coalesce(NEW.signed_on_time, 0), (NEW.resolved_on_time IS NOT NULL), coalesce(NEW.resolved_on_time, 0), (NEW.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), (NEW.rating IS NOT NULL), coalesce(NEW.rating = 'satisfied', 0), (NEW.reopen_count > 0), (NEW.bounces > 0), (NEW.solved IS NOT NULL), coalesce(NEW.solved = 'solved', 0), coalesce(NEW.solved = 'partly', 0), (NEW.state = 'withdrawn')
    WHERE NEW.state != 'merged'
    ON CONFLICT(unit, district, category, month) DO UPDATE SET received = received + excluded.received, signed = signed + excluded.signed, signed_on_time = signed_on_time + excluded.signed_on_time, resolved = resolved + excluded.resolved, resolved_on_time = resolved_on_time + excluded.resolved_on_time, open = open + excluded.open, rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied, recomplained = recomplained + excluded.recomplained, bounced = bounced + excluded.bounced, solution_rated = solution_rated + excluded.solution_rated, solved = solved + excluded.solved, partly_solved = partly_solved + excluded.partly_solved, withdrawn = withdrawn + excluded.withdrawn;
END;

CREATE TRIGGER ticket_summary_update AFTER UPDATE OF
    state, unit, district, category, created_at, signed_on_time, resolved_on_time, rating, reopen_count, bounces, solved ON tickets
BEGIN
    UPDATE ticket_day_summary SET received = received - (OLD.state != 'withdrawn'), signed = signed - (OLD.signed_on_time IS NOT NULL), signed_on_time = signed_on_time - coalesce(OLD.signed_on_time, 0), resolved = resolved - (OLD.resolved_on_time IS NOT NULL), resolved_on_time = resolved_on_time - coalesce(OLD.resolved_on_time, 0), open = open - (OLD.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), rated = rated - (OLD.rating IS NOT NULL), satisfied = satisfied - coalesce(OLD.rating = 'satisfied', 0), recomplained = recomplained - (OLD.reopen_count > 0), bounced = bounced - (OLD.bounces > 0), solution_rated = solution_rated - (OLD.solved IS NOT NULL), solved = solved - coalesce(OLD.solved = 'solved', 0), partly_solved = partly_solved - coalesce(OLD.solved = 'partly', 0), withdrawn = withdrawn - (OLD.state = 'withdrawn')
    WHERE OLD.state != 'merged' AND unit = coalesce(OLD.unit, '') AND district = coalesce(OLD.district, '') AND category = OLD.category AND day = substr(OLD.created_at, 1, 10);
    INSERT INTO ticket_day_summary(unit, district, category, day, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
    SELECT coalesce(NEW.unit, ''), coalesce(NEW.district, ''), NEW.category, substr(NEW.created_at, 1, 10), (NEW.state != 'withdrawn'), (NEW.signed_on_time IS NOT NULL), coalesce(NEW.signed_on_time, 0), (NEW.resolved_on_time IS NOT NULL), coalesce(NEW.resolved_on_time, 0), (NEW.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), (NEW.rating IS NOT NULL), coalesce(NEW.rating = 'satisfied', 0), (NEW.reopen_count > 0), (NEW.bounces > 0), (NEW.solved IS NOT NULL), coalesce(NEW.solved = 'solved', 0), coalesce(NEW.solved = 'partly', 0), (NEW.state = 'withdrawn')
    WHERE NEW.state != 'merged'
    ON CONFLICT(day, unit, district, category) DO UPDATE SET received = received + excluded.received, signed = signed + excluded.signed, signed_on_time = signed_on_time + excluded.signed_on_time, resolved = resolved + excluded.resolved, resolved_on_time = resolved_on_time + excluded.resolved_on_time, open = open + excluded.open, rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied, recomplained = recomplained + excluded.recomplained, bounced = bounced + excluded.bounced, solution_rated = solution_rated + excluded.solution_rated, solved = solved + excluded.solved, partly_solved = partly_solved + excluded.partly_solved, withdrawn = withdrawn + excluded.withdrawn;
    UPDATE ticket_month_summary SET received = received - (OLD.state != 'withdrawn'), signed = signed - (OLD.signed_on_time IS NOT NULL), signed_on_time = signed_on_time - coalesce(OLD.signed_on_time, 0), resolved = resolved - (OLD.resolved_on_time IS NOT NULL), resolved_on_time = resolved_on_time - coalesce(OLD.resolved_on_time, 0), open = open - (OLD.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), rated = rated - (OLD.rating IS NOT NULL), satisfied = satisfied - coalesce(OLD.rating = 'satisfied', 0), recomplained = recomplained - (OLD.reopen_count > 0), bounced = bounced - (OLD.bounces > 0), solution_rated = solution_rated - (OLD.solved IS NOT NULL), solved = solved - coalesce(OLD.solved = 'solved', 0), partly_solved = partly_solved - coalesce(OLD.solved = 'partly', 0), withdrawn = withdrawn - (OLD.state = 'withdrawn')
    WHERE OLD.state != 'merged' AND unit = coalesce(OLD.unit, '') AND district = coalesce(OLD.district, '') AND category = OLD.category AND month = substr(OLD.created_at, 1, 7);
    INSERT INTO ticket_month_summary(unit, district, category, month, received, signed, signed_on_time, resolved, resolved_on_time, open, rated, satisfied, recomplained, bounced, solution_rated, solved, partly_solved, withdrawn)
    SELECT coalesce(NEW.unit, ''), coalesce(NEW.district, ''), NEW.category, substr(NEW.created_at, 1, 7), (NEW.state != 'withdrawn'), (NEW.signed_on_time IS NOT NULL), coalesce(NEW.signed_on_time, 0), (NEW.resolved_on_time IS NOT NULL), coalesce(NEW.resolved_on_time, 0), (NEW.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), (NEW.rating IS NOT NULL), coalesce(NEW.rating = 'satisfied', 0), (NEW.reopen_count > 0), (NEW.bounces > 0), (NEW.solved IS NOT NULL), coalesce(NEW.solved = 'solved', 0), coalesce(NEW.solved = 'partly', 0), (NEW.state = 'withdrawn')
    WHERE NEW.state != 'merged'
    ON CONFLICT(unit, district, category, month) DO UPDATE SET received = received + excluded.received, signed = signed + excluded.signed, signed_on_time = signed_on_time + excluded.signed_on_time, resolved = resolved + excluded.resolved, resolved_on_time = resolved_on_time + excluded.resolved_on_time, open = open + excluded.open, rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied, recomplained = recomplained + excluded.recomplained, bounced = bounced + excluded.bounced, solution_rated = solution_rated + excluded.solution_rated, solved = solved + excluded.solved, partly_solved = partly_solved + excluded.partly_solved, withdrawn = withdrawn + excluded.withdrawn;
END;

CREATE TRIGGER ticket_summary_delete AFTER DELETE ON tickets
BEGIN
    UPDATE ticket_day_summary SET received = received - (OLD.state != 'withdrawn'), signed = signed - (OLD.signed_on_time IS NOT NULL), signed_on_time = signed_on_time - coalesce(OLD.signed_on_time, 0), resolved = resolved - (OLD.resolved_on_time IS NOT NULL), resolved_on_time = resolved_on_time - coalesce(OLD.resolved_on_time, 0), open = open - (OLD.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), rated = rated - (OLD.rating IS NOT NULL), satisfied = satisfied - coalesce(OLD.rating = 'satisfied', 0), recomplained = recomplained - (OLD.reopen_count > 0), bounced = bounced - (OLD.bounces > 0), solution_rated = solution_rated - (OLD.solved IS NOT NULL), solved = solved - coalesce(OLD.solved = 'solved', 0), partly_solved = partly_solved - coalesce(OLD.solved = 'partly', 0), withdrawn = withdrawn - (OLD.state = 'withdrawn')
    WHERE OLD.state != 'merged' AND unit = coalesce(OLD.unit, '') AND district = coalesce(OLD.district, '') AND category = OLD.category AND day = substr(OLD.created_at, 1, 10);
    UPDATE ticket_month_summary SET received = received - (OLD.state != 'withdrawn'), signed = signed - (OLD.signed_on_time IS NOT NULL), signed_on_time = signed_on_time - coalesce(OLD.signed_on_time, 0), resolved = resolved - (OLD.resolved_on_time IS NOT NULL), resolved_on_time = resolved_on_time - coalesce(OLD.resolved_on_time, 0), open = open - (OLD.state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), rated = rated - (OLD.rating IS NOT NULL), satisfied = satisfied - coalesce(OLD.rating = 'satisfied', 0), recomplained = recomplained - (OLD.reopen_count > 0), bounced = bounced - (OLD.bounces > 0), solution_rated = solution_rated - (OLD.solved IS NOT NULL), solved = solved - coalesce(OLD.solved = 'solved', 0), partly_solved = partly_solved - coalesce(OLD.solved = 'partly', 0), withdrawn = withdrawn - (OLD.state = 'withdrawn')
    WHERE OLD.state != 'merged' AND unit = coalesce(OLD.unit, '') AND district = coalesce(OLD.district, '') AND category = OLD.category AND month = substr(OLD.created_at, 1, 7);
END;

-- The as_of-dependent figures of a period, from its open tickets only (a few percent of a year).
-- Ordered by group, so the GROUP BY needs no sort; every open ticket is read (they are few).
CREATE INDEX tickets_open_report ON tickets(unit, district, category, created_at, state, due_at, resolved_on_time,
    sign_due_at, signed_on_time)
    WHERE state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened');

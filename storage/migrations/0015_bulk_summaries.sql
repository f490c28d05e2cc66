-- Bulk loads (the ledger import's historical batches, the demo seed) add the report summaries of 0009 and 0013
-- once per batch instead of once per row: the per-row trigger upserts halved the import (bench/README.md).
-- summaries_deferred is a one-row switch the INSERT triggers obey; storage.bulk.deferred_summaries inserts its row,
-- the batch's tickets, then each summary table's contribution in one INSERT ... SELECT ... GROUP BY over the
-- batch's id range, and deletes the row, all inside the load's own transaction. SQLite has one writer, so no other
-- connection ever sees the row (and a crash rolls it back with the batch). Triggers recreated with the same bodies
-- and the switch added to their WHEN; the UPDATE and DELETE triggers stay as they are.

CREATE TABLE summaries_deferred (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);

DROP TRIGGER ticket_summary_insert;
CREATE TRIGGER ticket_summary_insert AFTER INSERT ON tickets WHEN NOT EXISTS (SELECT 1 FROM summaries_deferred)
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

DROP TRIGGER ticket_channel_insert;
CREATE TRIGGER ticket_channel_insert AFTER INSERT ON tickets
    WHEN NEW.state != 'merged' AND NOT EXISTS (SELECT 1 FROM summaries_deferred)
BEGIN
    INSERT INTO ticket_channel_day(channel, client, day, received, rated, satisfied)
    VALUES (NEW.channel, coalesce(NEW.channel_client, ''), substr(NEW.created_at, 1, 10), NEW.state != 'withdrawn',
            NEW.rating IS NOT NULL, coalesce(NEW.rating = 'satisfied', 0))
    ON CONFLICT(day, channel, client) DO UPDATE SET received = received + excluded.received,
        rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied;
END;

-- Hotline ledger import (issue 12): an imported case keeps the source's own case id, unique per source (the (PostgreSQL twin of ../0013_import.sql)
-- ticket's channel_client), so importing the same ledger again adds nothing. A table of its own rather than a
-- tickets column: only imported tickets have a row, and the ticket record stays as it is.
CREATE TABLE ticket_sources (
    source     TEXT    NOT NULL,  -- = tickets.channel_client of the imported ticket
    source_ref TEXT    NOT NULL,  -- the hotline's own case id (工单编号)
    ticket_id  BIGINT NOT NULL REFERENCES tickets(id),
    PRIMARY KEY (source, source_ref)
);

-- Reports broken down by channel (issue 12): tickets received, rated and satisfied per channel (and client: an
-- Open311 client, an imported ledger's source; '' for none) and UTC day, kept by triggers like the summaries of
-- 0009 (merged duplicates count nowhere, withdrawn ones are not received). A table of its own rather than a
-- channel key on the per-unit summaries: those would grow a row per channel for every (unit, district,
-- category, day), and every report would read them all to answer one line; this one is a few rows a day.
CREATE TABLE ticket_channel_day (
    channel   TEXT    NOT NULL,
    client    TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    received  BIGINT NOT NULL DEFAULT 0,
    rated     BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel, client)
);

INSERT INTO ticket_channel_day(channel, client, day, received, rated, satisfied)
SELECT channel, coalesce(channel_client, ''), substr(created_at, 1, 10), sum((state != 'withdrawn')::int),
       sum((rating IS NOT NULL)::int), sum(coalesce((rating = 'satisfied')::int, 0))
FROM tickets WHERE state != 'merged'
GROUP BY 1, 2, 3;

-- One function adds (sign 1) or takes away (sign -1) a ticket row's share, as the SQLite triggers do.
CREATE FUNCTION ticket_channel_apply(r tickets, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF r.state = 'merged' THEN
        RETURN;
    END IF;
    INSERT INTO ticket_channel_day(channel, client, day, received, rated, satisfied)
    VALUES (r.channel, coalesce(r.channel_client, ''), substr(r.created_at, 1, 10),
            sign * (r.state != 'withdrawn')::int, sign * (r.rating IS NOT NULL)::int,
            sign * coalesce((r.rating = 'satisfied')::int, 0))
    ON CONFLICT(day, channel, client) DO UPDATE SET received = ticket_channel_day.received + excluded.received,
        rated = ticket_channel_day.rated + excluded.rated, satisfied = ticket_channel_day.satisfied + excluded.satisfied;
END;
$$;

CREATE FUNCTION ticket_channel_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM ticket_channel_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ticket_channel_apply(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ticket_channel_insert AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_channel_trigger();
CREATE TRIGGER ticket_channel_update AFTER UPDATE OF state, created_at, rating, channel, channel_client ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_channel_trigger();
CREATE TRIGGER ticket_channel_delete AFTER DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_channel_trigger();

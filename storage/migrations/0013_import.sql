-- Hotline ledger import (issue 12): an imported case keeps the source's own case id, unique per source (the
-- ticket's channel_client), so importing the same ledger again adds nothing. A table of its own rather than a
-- tickets column: only imported tickets have a row, and the ticket record stays as it is.
CREATE TABLE ticket_sources (
    source     TEXT    NOT NULL,  -- = tickets.channel_client of the imported ticket
    source_ref TEXT    NOT NULL,  -- the hotline's own case id (工单编号)
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    PRIMARY KEY (source, source_ref)
) WITHOUT ROWID;

-- Reports broken down by channel (issue 12): tickets received, rated and satisfied per channel (and client: an
-- Open311 client, an imported ledger's source; '' for none) and UTC day, kept by triggers like the summaries of
-- 0009 (merged duplicates count nowhere, withdrawn ones are not received). A table of its own rather than a
-- channel key on the per-unit summaries: those would grow a row per channel for every (unit, district,
-- category, day), and every report would read them all to answer one line; this one is a few rows a day.
CREATE TABLE ticket_channel_day (
    channel   TEXT    NOT NULL,
    client    TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    received  INTEGER NOT NULL DEFAULT 0,
    rated     INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel, client)
) WITHOUT ROWID;

INSERT INTO ticket_channel_day(channel, client, day, received, rated, satisfied)
SELECT channel, coalesce(channel_client, ''), substr(created_at, 1, 10), sum(state != 'withdrawn'),
       sum(rating IS NOT NULL), sum(coalesce(rating = 'satisfied', 0))
FROM tickets WHERE state != 'merged'
GROUP BY 1, 2, 3;

CREATE TRIGGER ticket_channel_insert AFTER INSERT ON tickets WHEN NEW.state != 'merged'
BEGIN
    INSERT INTO ticket_channel_day(channel, client, day, received, rated, satisfied)
    VALUES (NEW.channel, coalesce(NEW.channel_client, ''), substr(NEW.created_at, 1, 10), NEW.state != 'withdrawn',
            NEW.rating IS NOT NULL, coalesce(NEW.rating = 'satisfied', 0))
    ON CONFLICT(day, channel, client) DO UPDATE SET received = received + excluded.received,
        rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied;
END;

CREATE TRIGGER ticket_channel_update AFTER UPDATE OF state, created_at, rating, channel, channel_client ON tickets
BEGIN
    UPDATE ticket_channel_day SET received = received - (OLD.state != 'withdrawn'),
        rated = rated - (OLD.rating IS NOT NULL), satisfied = satisfied - coalesce(OLD.rating = 'satisfied', 0)
    WHERE OLD.state != 'merged' AND day = substr(OLD.created_at, 1, 10) AND channel = OLD.channel
        AND client = coalesce(OLD.channel_client, '');
    INSERT INTO ticket_channel_day(channel, client, day, received, rated, satisfied)
    SELECT NEW.channel, coalesce(NEW.channel_client, ''), substr(NEW.created_at, 1, 10), NEW.state != 'withdrawn',
           NEW.rating IS NOT NULL, coalesce(NEW.rating = 'satisfied', 0)
    WHERE NEW.state != 'merged'
    ON CONFLICT(day, channel, client) DO UPDATE SET received = received + excluded.received,
        rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied;
END;

CREATE TRIGGER ticket_channel_delete AFTER DELETE ON tickets WHEN OLD.state != 'merged'
BEGIN
    UPDATE ticket_channel_day SET received = received - (OLD.state != 'withdrawn'),
        rated = rated - (OLD.rating IS NOT NULL), satisfied = satisfied - coalesce(OLD.rating = 'satisfied', 0)
    WHERE day = substr(OLD.created_at, 1, 10) AND channel = OLD.channel AND client = coalesce(OLD.channel_client, '');
END;

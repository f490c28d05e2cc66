-- Hotline ledger import (issue 12): an imported case keeps the source's own case id, unique per source (the
-- ticket's channel_client), so importing the same ledger again adds nothing. A table of its own rather than a
-- tickets column: only imported tickets have a row, and the ticket record stays as it is.
CREATE TABLE ticket_sources (
    source     TEXT    NOT NULL,  -- = tickets.channel_client of the imported ticket
    source_ref TEXT    NOT NULL,  -- the hotline's own case id (工单编号)
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    PRIMARY KEY (source, source_ref)
) WITHOUT ROWID;
CREATE INDEX ticket_sources_by_ticket ON ticket_sources(ticket_id);

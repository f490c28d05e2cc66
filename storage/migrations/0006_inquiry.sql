-- 0006: a unit's questions to the reporter (询问群众), relayed privately through the outbox.
-- A round is one question; its answers are events (reporter_answered). The reporter answers by replying to the
-- question's message (found through the outbox row that sent it) or with the message's answer button.
CREATE TABLE inquiries (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id),
    round        INTEGER NOT NULL,             -- 1, 2, … per ticket
    unit         TEXT    NOT NULL,             -- the unit that asked
    asked_by     INTEGER NOT NULL,             -- the liaison (never shown to the reporter)
    reporter_id  INTEGER NOT NULL,
    question     TEXT    NOT NULL,
    asked_at     TEXT    NOT NULL,
    outbox_id    INTEGER,                      -- the row that sends the question to the reporter
    answers      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (ticket_id, round)
);
CREATE INDEX inquiries_by_reporter ON inquiries(reporter_id);
CREATE INDEX inquiries_by_outbox ON inquiries(outbox_id);

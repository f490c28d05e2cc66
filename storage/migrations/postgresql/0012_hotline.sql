-- hotline operators (代录): people registered with a one-time code to file complaints for the hotline's callers (PostgreSQL twin of ../0012_hotline.sql)
-- (the operators' group chat is a chat binding of role 'operators', needing no table of its own). An operator's
-- call is a draft like a resident's, keyed by the operator's user id: `channel` says it is a call, and the
-- caller's phone and name wait there until the ticket is filed (then they go to ticket_contacts).
CREATE TABLE operators (
    user_id        BIGINT PRIMARY KEY,
    registered_at  TEXT    NOT NULL
);

ALTER TABLE drafts ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE drafts ADD COLUMN caller_phone TEXT;
ALTER TABLE drafts ADD COLUMN caller_name TEXT;

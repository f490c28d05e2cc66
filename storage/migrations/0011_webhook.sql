-- Webhook mode: every update Telegram posts to us is stored here on receipt (answered 200 at once), then
-- processed from here. The update id is the key, so a delivery Telegram repeats (it retries on any non-2xx or
-- slow answer) is stored once and processed once; rows left unprocessed by a crash are processed at start.
-- Several bot processes can share the table: a process claims a row (claimed_by, with a lease until
-- claimed_until, taken over when it expires) and only the oldest unprocessed row of a chat can be claimed, so a
-- chat's updates are processed in order across processes. Processed rows are kept a day (the replay check),
-- then pruned.
CREATE TABLE inbox (
    update_id     BIGINT PRIMARY KEY,
    chat_id       BIGINT,            -- the chat (or, without one, the user) the update belongs to; NULL: neither
    received_at   TEXT NOT NULL,
    payload       TEXT NOT NULL,     -- the update's JSON as Telegram sent it
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    claimed_by    TEXT,              -- the process working on it
    claimed_until TEXT,              -- its lease: after this instant another process may take the row over
    attempts      INTEGER NOT NULL DEFAULT 0,
    processed_at  TEXT,
    last_error    TEXT
);
CREATE INDEX inbox_pending ON inbox(state, chat_id, update_id);
CREATE INDEX inbox_processed ON inbox(processed_at);

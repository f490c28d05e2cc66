-- Webhook mode: every update Telegram posts to us is stored here on receipt (answered 200 at once), then (PostgreSQL twin of ../0014_webhook.sql)
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
    attempts      BIGINT NOT NULL DEFAULT 0,
    processed_at  TEXT,
    last_error    TEXT
);
-- The queue, in update order (a claim walks it from the oldest and stops at the first row it may take), and
-- each chat's queue (is an earlier update of this chat still pending?). Partial: only pending rows, a handful.
CREATE INDEX inbox_queue ON inbox(update_id) WHERE state = 'pending';
CREATE INDEX inbox_queue_by_chat ON inbox(chat_id, update_id) WHERE state = 'pending';
CREATE INDEX inbox_processed ON inbox(processed_at);

-- 0004: the outbox keeps each chat's rows in order. (PostgreSQL twin of ../0004_outbox_order.sql)
-- holds_chat is 1 while a pending row waits for its retry after a failed try (429, 5xx, timeout): the chat's later
-- rows wait behind it. Rows scheduled for later on purpose (quiet hours) keep 0 and hold nothing back.
-- A status may now also be 'superseded': an edit of a card that a newer queued edit of the same card replaced
-- (last_error names the newer row).
ALTER TABLE outbox ADD COLUMN holds_chat BIGINT NOT NULL DEFAULT 0;
-- The sender asks, for every due row, whether an earlier row of its chat holds it back.
CREATE INDEX outbox_holding ON outbox(chat_id, id) WHERE status = 'pending' AND holds_chat = 1;
-- Before an edit goes out: is a newer edit of the same card queued in that chat?
CREATE INDEX outbox_pending_chat ON outbox(chat_id, kind, id) WHERE status = 'pending';

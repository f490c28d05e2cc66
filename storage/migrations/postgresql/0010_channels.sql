-- 0010: every channel into one ledger. A ticket records the channel it came in by (telegram | hotline | open311 (PostgreSQL twin of ../0010_channels.sql)
-- | import) and, where a channel has several clients, which one (an Open311 API client, an imported ledger's
-- source). Tickets that did not come from a Telegram resident are "reported" by a stand-in user of their channel:
-- never reachable, never a follower, so no resident message is ever queued for them.
ALTER TABLE tickets ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE tickets ADD COLUMN channel_client TEXT;
CREATE INDEX tickets_by_channel ON tickets(channel, created_at);

INSERT INTO users(id, language, reachable, first_seen, last_seen) VALUES
    (-1, 'zh', 0, '2026-01-01T00:00:00.000000+00:00', '2026-01-01T00:00:00.000000+00:00'),
    (-2, 'zh', 0, '2026-01-01T00:00:00.000000+00:00', '2026-01-01T00:00:00.000000+00:00'),
    (-3, 'zh', 0, '2026-01-01T00:00:00.000000+00:00', '2026-01-01T00:00:00.000000+00:00');

-- How to reach the person behind a ticket that came in by another channel (the hotline's caller, an Open311
-- request's contact): shown to operators only, never on unit cards, /status, the ledger or the API. Purged with
-- the rest of a ticket's personal data.
CREATE TABLE ticket_contacts (
    ticket_id  BIGINT PRIMARY KEY REFERENCES tickets(id),
    name       TEXT,
    phone      TEXT,             -- normalised (bot.domain.phones once the hotline lands)
    email      TEXT,
    device_id  TEXT,             -- Open311's device_id / account_id, as the client sent them
    account_id TEXT
);
CREATE INDEX ticket_contacts_by_phone ON ticket_contacts(phone) WHERE phone IS NOT NULL;

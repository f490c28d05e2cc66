-- 0010: every channel into one ledger. A ticket records the channel it came in by (telegram | hotline | open311
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

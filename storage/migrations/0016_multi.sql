-- Several bot instances on one database: sliding-window limits counted here, so they hold for the bot as a whole
-- and not per process: the Bot API's send limits (all chats per second, each group per minute) and the
-- per-user messages-per-minute limit. One row per hit, pruned as its window passes (a handful per key).
-- Only used on PostgreSQL; a single SQLite process keeps these windows in memory.
CREATE TABLE rate_hits (
    id    INTEGER PRIMARY KEY,
    scope TEXT    NOT NULL,   -- 'send' (every chat), 'group' (one group chat), 'user' (one user's updates)
    key   INTEGER NOT NULL,   -- 0 for 'send'; the chat or user id
    at    REAL    NOT NULL    -- seconds since the epoch
);
CREATE INDEX rate_hits_window ON rate_hits(scope, key, at);

-- An album arrives as one update per picture, and with several instances consecutive pictures may be handled by
-- different ones, each starting its own "acknowledge when no more came" timer. When the album's last picture
-- was noted tells a timer that fires early (a later picture came, elsewhere) to leave the acknowledgement to
-- the later one; the acknowledged album's row is gone, so it is acknowledged once.
ALTER TABLE draft_albums ADD COLUMN noted_at TEXT;

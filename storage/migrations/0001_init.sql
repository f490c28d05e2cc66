-- 0001: the foundation: people, tickets and their events, drafts, the outbox, number sequences.
-- Times are UTC ISO-8601 text with microseconds and "+00:00", so they sort as text.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,            -- Telegram user id
    language    TEXT    NOT NULL DEFAULT 'zh',
    reachable   INTEGER NOT NULL DEFAULT 1,     -- 0 once Telegram says the user blocked the bot
    blocked_at  TEXT,
    first_seen  TEXT    NOT NULL,
    last_seen   TEXT    NOT NULL
);

CREATE TABLE number_sequences (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY,
    number           TEXT    NOT NULL UNIQUE,
    state            TEXT    NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1,
    category         TEXT    NOT NULL,
    reporter_id      INTEGER NOT NULL REFERENCES users(id),
    description      TEXT    NOT NULL,
    lat              REAL,
    lon              REAL,
    location_source  TEXT    NOT NULL,           -- gps | exif | place | text | none
    place_key        TEXT,
    place_text       TEXT,
    district         TEXT,                       -- unit key of the district or zone, when known
    unit             TEXT,                       -- responsible unit, once dispatched
    deadline_class   TEXT    NOT NULL,
    sign_due_at      TEXT,
    due_at           TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    closed_at        TEXT
);
CREATE INDEX tickets_by_reporter ON tickets(reporter_id, created_at);
-- Nearby open tickets of a category (the duplicate offer). Repeat the same IN list in the query.
CREATE INDEX tickets_open_by_place ON tickets(category, lat)
    WHERE state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened');

CREATE TABLE ticket_photos (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id),
    position        INTEGER NOT NULL,
    source          TEXT    NOT NULL,            -- photo (Telegram re-encoded it) | document (we re-encoded it)
    file_id         TEXT,
    file_unique_id  TEXT,
    data            BLOB,                        -- our EXIF-free JPEG for pictures sent as files
    width           INTEGER,
    height          INTEGER,
    UNIQUE (ticket_id, position)
);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    at          TEXT    NOT NULL,
    actor_kind  TEXT    NOT NULL,                -- resident | unit | coordinator | supervisor | system
    actor_id    INTEGER,                         -- never shown publicly
    action      TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT,
    unit        TEXT,
    reason      TEXT,
    public      INTEGER NOT NULL DEFAULT 1,      -- shown on the public timeline (/status)
    data        TEXT                             -- JSON, for details that need no column
);
CREATE INDEX events_by_ticket ON events(ticket_id, at);

CREATE TABLE followers (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    since      TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, user_id)
);

CREATE TABLE drafts (
    user_id          INTEGER PRIMARY KEY REFERENCES users(id),
    id               TEXT    NOT NULL UNIQUE,    -- short random token carried by the draft's buttons
    step             TEXT    NOT NULL,
    editing          INTEGER NOT NULL DEFAULT 0, -- 1: the step was opened from the summary, go back there
    category         TEXT,
    lat              REAL,
    lon              REAL,
    location_source  TEXT,
    place_key        TEXT,
    place_text       TEXT,
    description      TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);

CREATE TABLE draft_photos (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES drafts(user_id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    file_id         TEXT,
    file_unique_id  TEXT,
    data            BLOB,
    width           INTEGER,
    height          INTEGER,
    media_group_id  TEXT,
    UNIQUE (user_id, position)
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    kind             TEXT    NOT NULL,           -- message | photo | location | ...
    payload          TEXT    NOT NULL,           -- JSON: the Bot API parameters
    ticket_id        INTEGER REFERENCES tickets(id),
    dedupe_key       TEXT UNIQUE,
    status           TEXT    NOT NULL DEFAULT 'pending',   -- pending | sent | dead
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    created_at       TEXT    NOT NULL,
    not_before       TEXT    NOT NULL,
    sent_at          TEXT,
    sent_message_id  INTEGER
);
CREATE INDEX outbox_due ON outbox(not_before) WHERE status = 'pending';

CREATE TABLE chat_migrations (
    old_chat_id  INTEGER PRIMARY KEY,
    new_chat_id  INTEGER NOT NULL,
    at           TEXT    NOT NULL
);

-- 0002: dispatch and handling (routing, cards, bounces, coordination, rating), deadlines and reminders.

ALTER TABLE tickets ADD COLUMN zone TEXT;                         -- zone/district unit matched by location
ALTER TABLE tickets ADD COLUMN route_reason TEXT;                 -- JSON {"key": text key, "params": {...}}
ALTER TABLE tickets ADD COLUMN lead INTEGER NOT NULL DEFAULT 0;   -- the unit was named lead (主办) by a coordinator
ALTER TABLE tickets ADD COLUMN bounces INTEGER NOT NULL DEFAULT 0;        -- a unit's returns (a re-dispatch is no bounce)
ALTER TABLE tickets ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;      -- put before the coordinators, flagged
ALTER TABLE tickets ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;   -- re-complaints (不满意)
ALTER TABLE tickets ADD COLUMN sensitive TEXT;                    -- the rule that flagged it, NULL if none
ALTER TABLE tickets ADD COLUMN dispatched_at TEXT;                -- last dispatch
ALTER TABLE tickets ADD COLUMN first_dispatched_at TEXT;
ALTER TABLE tickets ADD COLUMN accepted_at TEXT;                  -- last sign-for
ALTER TABLE tickets ADD COLUMN resolved_at TEXT;                  -- last answer
ALTER TABLE tickets ADD COLUMN answer TEXT;                       -- the unit's last answer (shown to the resident)
ALTER TABLE tickets ADD COLUMN rating TEXT;                       -- satisfied | dissatisfied (last rating)
ALTER TABLE tickets ADD COLUMN signed_on_time INTEGER;            -- 1/0 once signed for (first time)
ALTER TABLE tickets ADD COLUMN resolved_on_time INTEGER;          -- 1/0 once resolved (first time)
ALTER TABLE tickets ADD COLUMN deadline_provisional INTEGER NOT NULL DEFAULT 0;  -- computed by weekends-only fallback

ALTER TABLE ticket_photos ADD COLUMN kind TEXT NOT NULL DEFAULT 'report';  -- report (resident) | answer (unit)

-- Deadline sweeps: open tickets by due time (repeat the same IN list in the queries).
CREATE INDEX tickets_open_due ON tickets(due_at)
    WHERE state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened');
CREATE INDEX tickets_sign_due ON tickets(sign_due_at) WHERE state = 'dispatched';
CREATE INDEX tickets_open_by_unit ON tickets(unit)
    WHERE state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened');
CREATE INDEX tickets_resolved_at ON tickets(resolved_at) WHERE state = 'resolved';

-- Helping units (协办) named by a coordinator beside the lead unit.
CREATE TABLE ticket_helpers (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    unit       TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, unit)
);

-- Which group chat speaks for which unit or role.
CREATE TABLE chat_bindings (
    chat_id   INTEGER PRIMARY KEY,
    role      TEXT    NOT NULL,          -- unit | coordination | supervision
    unit      TEXT,                      -- for role = unit
    title     TEXT,
    bound_by  INTEGER,
    bound_at  TEXT    NOT NULL
);
CREATE UNIQUE INDEX chat_bindings_one_per_unit ON chat_bindings(role, coalesce(unit, ''));

-- One-time codes made by an admin: bind a chat, register a liaison, register a social supervisor.
CREATE TABLE one_time_codes (
    code        TEXT PRIMARY KEY,
    purpose     TEXT    NOT NULL,        -- bind | liaison | social_supervisor
    role        TEXT,                    -- for bind: unit | coordination | supervision
    unit        TEXT,
    created_by  INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    used_at     TEXT,
    used_by     INTEGER
);

CREATE TABLE liaisons (
    user_id        INTEGER NOT NULL,
    unit           TEXT    NOT NULL,
    registered_at  TEXT    NOT NULL,
    PRIMARY KEY (user_id, unit)
);

CREATE TABLE social_supervisors (
    user_id        INTEGER PRIMARY KEY,
    registered_at  TEXT    NOT NULL
);

-- Card messages (assignment cards in unit chats, case cards in the coordination chat), so they can be edited.
CREATE TABLE cards (
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    kind        TEXT    NOT NULL,        -- unit | coordination
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER,                 -- set when the outbox has sent it
    outbox_id   INTEGER,
    PRIMARY KEY (ticket_id, kind, chat_id)
);

-- A question the bot asked someone in a chat ("the reason for returning?"), waiting for their next message.
CREATE TABLE pending_inputs (
    chat_id     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    version     INTEGER NOT NULL,
    data        TEXT,                    -- JSON
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

CREATE TABLE extensions (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id),
    unit          TEXT    NOT NULL,
    requested_by  INTEGER NOT NULL,
    days          INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending',   -- pending | approved | denied
    requested_at  TEXT    NOT NULL,
    decided_by    INTEGER,
    decided_at    TEXT,
    old_due_at    TEXT,
    new_due_at    TEXT
);

-- Reminders and notices the sweep has queued: the key makes a restart neither lose nor repeat one.
CREATE TABLE reminders (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
    kind       TEXT    NOT NULL,          -- e.g. sign_before:PT2H, due_before:P1D, overdue, escalated
    due_at     TEXT    NOT NULL,          -- the deadline it is about (a moved deadline gets new reminders)
    queued_at  TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, kind, due_at)
);

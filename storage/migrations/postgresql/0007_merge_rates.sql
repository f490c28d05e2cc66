-- 0007: merged duplicates (并单) and the rating's two questions (the three rates, 三率). (PostgreSQL twin of ../0007_merge_rates.sql)
-- A merged ticket is final (state 'merged') and points at the open ticket it duplicates; its followers follow
-- that ticket from then on (followers.merged_from says whose ticket brought them: they rate the answer too).
ALTER TABLE tickets ADD COLUMN merged_into BIGINT REFERENCES tickets(id);
ALTER TABLE followers ADD COLUMN merged_from BIGINT REFERENCES tickets(id);
-- The rating's answers (NULL on tickets rated before this migration, which have only `rating`):
-- solved: solved | partly | unsolved; satisfaction: satisfied | basic | dissatisfied. `rating` stays the summary
-- (satisfied for 满意 and 基本满意, dissatisfied for 不满意), so older tickets and the satisfaction rate agree.
ALTER TABLE tickets ADD COLUMN solved TEXT;
ALTER TABLE tickets ADD COLUMN satisfaction TEXT;

-- Every rating of a ticket, one row per round (1 for the first answer, 2 after a re-complaint's answer...):
-- who rated, the version of the answer rated (the reason buttons carry it), both answers, and the reason added
-- afterwards (a preset or typed text).
CREATE TABLE ticket_ratings (
    ticket_id     BIGINT NOT NULL REFERENCES tickets(id),
    round         BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    at            TEXT    NOT NULL,
    solved        TEXT,
    satisfaction  TEXT    NOT NULL,
    reason        TEXT,
    reason_at     TEXT,
    PRIMARY KEY (ticket_id, round),
    UNIQUE (ticket_id, version)
);

-- The report's covering index also holds what the response and resolution rates read (the sign-for deadline and
-- the first answer); merged tickets are filtered inside each group's range by `state`.
DROP INDEX tickets_report;
CREATE INDEX tickets_report ON tickets(
    unit, district, category, created_at, state, due_at, signed_on_time, resolved_on_time, resolved_at, rating,
    reopen_count, bounces, sign_due_at, solved
);
-- Daily volume leaves merged tickets out: one more range count per day on this small index.
CREATE INDEX tickets_merged ON tickets(created_at) WHERE state = 'merged';

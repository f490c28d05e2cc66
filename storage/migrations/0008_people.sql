-- 0008: what people chose and what they were called. A resident's language chosen with /lang wins over the one
-- Telegram reports (NULL: follow Telegram's language_code). Staff's display names as Telegram gave them, one row
-- each time a name changes, so /ticket names who acted with the name valid at the time.
ALTER TABLE users ADD COLUMN chosen_language TEXT;

CREATE TABLE people_names (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL,            -- Telegram user id
    full_name TEXT    NOT NULL,            -- first and last name as Telegram gave them
    seen_at   TEXT    NOT NULL             -- first seen with this name
);
CREATE INDEX people_names_by_user ON people_names(user_id, seen_at);

-- 0005: what an album did to a draft, until the bot acknowledges it. An album arrives as one update per picture (PostgreSQL twin of ../0005_draft_albums.sql)
-- and is acknowledged once; the photos it added are the draft_photos rows with its media_group_id, and this row
-- keeps what those rows cannot tell: how many pictures were over the limit, and whether one gave the location.
CREATE TABLE draft_albums (
    user_id            BIGINT NOT NULL REFERENCES drafts(user_id) ON DELETE CASCADE,
    media_group_id     TEXT    NOT NULL,
    ignored            BIGINT NOT NULL DEFAULT 0,  -- pictures over max_photos, not stored
    location_from_exif BIGINT NOT NULL DEFAULT 0,  -- 1: a picture's EXIF point became the draft's location
    PRIMARY KEY (user_id, media_group_id)
);

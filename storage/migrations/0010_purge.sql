-- 0010: purging personal data (complaint-bot purge-personal-data) asks, for each reporter of a purged batch,
-- whether anything still ties them to the bot; these two are the ties that had no index by user.
CREATE INDEX followers_by_user ON followers(user_id);
CREATE INDEX ticket_ratings_by_user ON ticket_ratings(user_id);

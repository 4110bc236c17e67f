-- Reason: every top-level post asks who in its channel still waits for an answer (a post
-- naming them answers them: bot/storage/names.py). Without this index that lookup reads
-- every question asked anywhere in the last 15 minutes; with several busy workspaces on
-- one database that is thousands of rows per post. Only waiting questions are in it, so
-- it stays small: a question leaves it when it gets its first response.
CREATE INDEX questions_waiting_by_channel
    ON questions (platform, space, watched_channel, asked_at)
    WHERE first_response_at IS NULL AND state IN ('open', 'snoozed');

-- Reason: events can arrive before the message they are about (retries, reconnects,
-- backfill). A reaction or a delete of a message the bot has not stored yet is kept here
-- and applied when the message arrives, in time order, as if it had come in order. And
-- an in-channel "@asker ..." answer can arrive before the question: the messages table
-- now keeps whom a message mentions, so the question finds it when it opens.

CREATE TABLE early_events (
    -- The message the fact is about (a question's own ref for a resolve reaction
    -- given on a reply in its thread: `on_reply` then says so).
    platform     TEXT NOT NULL,
    space        TEXT NOT NULL,
    channel      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('deleted', 'reacted', 'unreacted')),
    actor        TEXT NOT NULL DEFAULT '',
    actor_staff  INTEGER NOT NULL DEFAULT 0,
    emoji        TEXT NOT NULL DEFAULT '',
    on_reply     INTEGER NOT NULL DEFAULT 0,
    at           REAL NOT NULL,
    -- The same fact delivered twice is one row.
    PRIMARY KEY (platform, space, channel, message_id, kind, actor, emoji, on_reply, at)
);

-- Facts whose message never came are dropped by age.
CREATE INDEX early_events_by_age ON early_events (at);

-- Whom a message mentions, one user id per line; NULL (most messages) when nobody.
ALTER TABLE messages ADD COLUMN mentions TEXT;

-- A question that opens looks for "@asker" posts of its channel stored before it: only
-- messages that mention someone are indexed, so other messages cost nothing more.
CREATE INDEX messages_mentioning
    ON messages (platform, space, watched_channel, posted_at)
    WHERE mentions IS NOT NULL;

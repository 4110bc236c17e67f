-- Reason: first schema: the messages we saw (keyed on platform ids, so a redelivered
-- event changes nothing), the questions we track, and each question's history.
-- Times are UTC seconds since the epoch (REAL), portable to PostgreSQL as double precision.

CREATE TABLE messages (
    platform        TEXT NOT NULL,
    space           TEXT NOT NULL,
    channel         TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    watched_channel TEXT NOT NULL,
    author          TEXT NOT NULL,
    author_staff    INTEGER NOT NULL DEFAULT 0,
    posted_at       REAL NOT NULL,
    root_channel    TEXT,
    root_id         TEXT,
    deleted         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform, space, channel, message_id)
);

-- Finds the replies of a thread that arrived before its parent.
CREATE INDEX messages_by_root
    ON messages (platform, space, root_channel, root_id, posted_at)
    WHERE root_id IS NOT NULL;

CREATE TABLE questions (
    id                     INTEGER PRIMARY KEY,
    platform               TEXT NOT NULL,
    space                  TEXT NOT NULL,
    channel                TEXT NOT NULL,
    message_id             TEXT NOT NULL,
    watched_channel        TEXT NOT NULL,
    asker                  TEXT NOT NULL,
    asker_name             TEXT NOT NULL DEFAULT '',
    text                   TEXT NOT NULL,
    score                  REAL NOT NULL,
    reasons                TEXT NOT NULL,
    asked_at               REAL NOT NULL,
    state                  TEXT NOT NULL
        CHECK (state IN ('open', 'answered', 'escalated', 'snoozed', 'dismissed', 'resolved')),
    stage                  TEXT NOT NULL DEFAULT 'waiting'
        CHECK (stage IN ('waiting', 'warned', 'breached')),
    breached               INTEGER NOT NULL DEFAULT 0,
    target_seconds         INTEGER NOT NULL,
    calendar               TEXT NOT NULL,
    warn_at                REAL NOT NULL,
    breach_at              REAL NOT NULL,
    due_at                 REAL,
    first_response_at      REAL,
    first_responder        TEXT,
    first_response_id      TEXT,
    responder_role         TEXT CHECK (responder_role IN ('staff', 'community')),
    response_kind          TEXT,
    ttfr_seconds           REAL,
    ttfr_business_seconds  REAL,
    resolved_at            REAL,
    resolved_by            TEXT,
    snoozed_until          REAL,
    nudges                 INTEGER NOT NULL DEFAULT 0,
    UNIQUE (platform, space, channel, message_id)
);

-- The sweep reads only what is due, so its cost follows what is due, not what is open.
CREATE INDEX questions_due ON questions (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX questions_asked ON questions (asked_at);
CREATE INDEX questions_by_asker
    ON questions (platform, space, watched_channel, asker, asked_at);

CREATE TABLE question_log (
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    at          REAL NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT,
    detail      TEXT
);
CREATE INDEX question_log_by_question ON question_log (question_id, at);

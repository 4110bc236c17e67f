-- Reason: staff hand a member's message to a support or product channel and the member
-- hears back when it is dealt with; each escalation and its history are recorded. One
-- escalation per original message: escalating it again points at the existing one.

CREATE TABLE escalations (
    id               INTEGER PRIMARY KEY,
    platform         TEXT NOT NULL,
    space            TEXT NOT NULL,
    channel          TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    question_id      INTEGER REFERENCES questions (id),
    destination      TEXT NOT NULL,
    dest_platform    TEXT NOT NULL,
    dest_space       TEXT NOT NULL,
    dest_channel     TEXT NOT NULL,
    dest_message     TEXT,
    author           TEXT NOT NULL,
    author_name      TEXT NOT NULL DEFAULT '',
    posted_at        REAL,
    excerpt          TEXT NOT NULL,
    private_source   INTEGER NOT NULL DEFAULT 0,
    reason           TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_at        REAL NOT NULL,
    opened_by        TEXT NOT NULL,
    opened_by_name   TEXT NOT NULL DEFAULT '',
    acknowledged_at  REAL,
    acknowledged_by  TEXT,
    resolved_at      REAL,
    resolved_by      TEXT,
    resolution       TEXT,
    original_deleted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (platform, space, channel, message_id)
);
CREATE INDEX escalations_opened ON escalations (opened_at);

CREATE TABLE escalation_log (
    escalation_id INTEGER NOT NULL REFERENCES escalations (id) ON DELETE CASCADE,
    at            REAL NOT NULL,
    kind          TEXT NOT NULL,
    actor         TEXT,
    detail        TEXT
);
CREATE INDEX escalation_log_by_escalation ON escalation_log (escalation_id, at);

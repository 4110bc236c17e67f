-- Reason: a message the bot decides to send (a nudge, a summary) is recorded in the same
-- transaction as the decision and marked after the platform took it, so a crash between
-- the two neither loses it nor, where the platform lets us check, sends it twice. Rows are
-- leased by one process at a time, so several replicas never send the same row together.

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    -- What this send is, e.g. "nudge:slack:T1:C9:1764000000": the same decision twice
    -- is one row. Also handed to the platform, which can later tell whether it has it.
    send_key     TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    platform     TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   REAL NOT NULL,
    next_at      REAL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT,
    lease_until  REAL,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    sent_at      REAL,
    sent_ref     TEXT,
    last_error   TEXT
);

-- The sender reads only what is due, as the sweep does with questions.
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';

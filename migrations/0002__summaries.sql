-- Reason: daily and weekly summaries must go out once per period, also across restarts
-- and with several replicas: a row is claimed before posting and marked sent after.

CREATE TABLE summaries_sent (
    summary      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('daily', 'weekly')),
    period_start REAL NOT NULL,
    claimed_at   REAL NOT NULL,
    sent_at      REAL,
    PRIMARY KEY (summary, kind, period_start)
);

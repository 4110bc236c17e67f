-- Reason: Slack takes a 200 as "delivered" and never sends the event again, but the bot
-- acks before it has handled the event (Slack wants an answer within 3 s). Each event is
-- written here before the ack and removed once handled, so an event in flight when the
-- process dies is handled after the restart instead of being lost.

CREATE TABLE inbox (
    platform     TEXT NOT NULL,
    delivery     TEXT NOT NULL,
    body         TEXT NOT NULL,
    received_at  REAL NOT NULL,
    PRIMARY KEY (platform, delivery)
);

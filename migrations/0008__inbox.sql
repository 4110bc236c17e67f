-- Reason: Slack takes a 200 as "delivered" and never sends the event again, but the bot
-- acks before it has handled the event (Slack wants an answer within 3 s). Each event is
-- written here before the ack and removed once handled, so an event in flight when the
-- process dies is handled after the restart instead of being lost.

CREATE TABLE inbox (
    platform     TEXT NOT NULL,
    delivery     TEXT NOT NULL,
    body         TEXT NOT NULL,
    received_at  REAL NOT NULL,
    -- The instance that acked it: on start it takes its own back at once; a delivery
    -- left longer than a lease by anyone (a replica that died) is taken by any replica.
    owner        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, delivery)
);

-- Reason: nudges repeat and then go to a second tier; the round a question's nudges have
-- reached is decided by the sweep and stored with it, so no reminder is sent twice,
-- also across restarts.

ALTER TABLE questions ADD COLUMN nudge_round INTEGER NOT NULL DEFAULT 0;

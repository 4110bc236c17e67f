-- Reason: a member who asks again, or asks on, while their earlier question in the same
-- channel still waits has one problem, not two. The later post is kept as a question row
-- (replies in its thread and mentions still find it) that points at the earlier one and
-- is dismissed, so it is never counted, listed or nudged on its own; a response to it
-- answers the earlier question (bot/tracker.py, tracking.follow_up_window).
ALTER TABLE questions ADD COLUMN follows INTEGER;

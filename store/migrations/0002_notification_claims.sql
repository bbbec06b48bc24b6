-- Notices are claimed for a while, sent outside any transaction, then marked: a claim
-- that outlives its sender (a killed worker) simply expires and the notice is sent again.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS claimed_until timestamptz;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS last_attempt_at timestamptz;
CREATE INDEX IF NOT EXISTS notifications_unsent ON notifications (created_at)
    WHERE sent_at IS NULL;

-- A notice to the customer written in the shop's quiet hours waits for them to end.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS not_before timestamptz;

-- What became of a customer message (sent, fell back to SMS, accepted, failed) and the
-- provider's ids to look it up again: never the number or the text.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS delivery jsonb;
-- A customer who asked for no messages gets none; staff are told to call instead.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS no_messages boolean NOT NULL DEFAULT false;

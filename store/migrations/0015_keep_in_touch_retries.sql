-- Keep in touch, sent once and never forgotten about.
-- An advertising message whose send failed or whose sender died keeps its claim (and id), so
-- the next run asks the provider whether it went before sending anything: a message the
-- provider took while the answer was lost is recorded, not sent twice. `claimed_until` is
-- the lease of the run sending it; `attempts` counts the tries.
ALTER TABLE advertisements ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 1;
ALTER TABLE advertisements ADD COLUMN IF NOT EXISTS claimed_until timestamptz;
CREATE INDEX IF NOT EXISTS advertisements_unsettled ON advertisements (created_at)
    WHERE sent_at IS NULL;

-- The staff reminder that stands in for the message when a regular customer (silver, gold)
-- has no basis for advertising (no consent, last visit over 6 months ago): one per customer
-- per period (the last visit it follows), like the message. No name, no phone: the reminder
-- points at the customer's reference.
CREATE TABLE IF NOT EXISTS keep_in_touch_reminders (
    id          uuid        PRIMARY KEY,
    customer_id text        NOT NULL,
    period      timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    last_error  text,
    UNIQUE (customer_id, period)
);

-- Whether the last rulebook change has reached every open case. Each change (a rule, a
-- closure, an extra opening) bumps `version` and sets `changed_at` in its own transaction;
-- the signalling that reaches every open case clears `changed_at` when none was missed,
-- and only if `version` is still what it read before it began (a newer change is still
-- to be delivered). A change left marked a minute on (the process that stored it died,
-- or Temporal was away) is delivered again by the notification sweep.
CREATE TABLE IF NOT EXISTS rulebook_delivery (
    one        boolean     PRIMARY KEY DEFAULT true CHECK (one),
    version    bigint      NOT NULL DEFAULT 0,
    changed_at timestamptz           -- NULL: every open case has the rules as they are
);
INSERT INTO rulebook_delivery (one) VALUES (true) ON CONFLICT DO NOTHING;

-- The shop's rulebook in the owner's hands. `rulebook` holds the rules the owner has set
-- (key -> the text the environment variable of the same name takes); a rule not here is
-- read from the environment, as on a fresh install. Every change of a rule, a closure or
-- an extra opening is kept in `rulebook_changes`: who, when, before and after.
CREATE TABLE IF NOT EXISTS rulebook (
    key        text        PRIMARY KEY,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text        NOT NULL
);

CREATE TABLE IF NOT EXISTS rulebook_changes (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    by     text        NOT NULL,
    what   text        NOT NULL,  -- a rule's key, or "closed 2026-12-08", "opened 2026-12-13"
    before text,                  -- NULL: not set (the environment's value applied)
    after  text                   -- NULL: unset
);
CREATE INDEX IF NOT EXISTS rulebook_changes_at ON rulebook_changes (at DESC, id DESC);

-- One-off extra openings (a Sunday before a holiday): the periods of that date.
CREATE TABLE IF NOT EXISTS calendar_openings (
    day        date        PRIMARY KEY,
    hours      text        NOT NULL,  -- "12:00-16:00" or "11:00-15:00,17:00-22:00"
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

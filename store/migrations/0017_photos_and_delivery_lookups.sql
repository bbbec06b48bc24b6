-- Photos customers send with a complaint (the public form, their case page): kept here, beside
-- their name and phone and the notes they write (never in Temporal, never in a file name or a
-- URL: a photo is reached by its random id). PostgreSQL rather than a files directory: every
-- API process reads and writes the same ones with no shared disk, `complaints backup` and
-- `restore` carry them with the rest, and one transaction keeps a case's limit. A photo is at
-- most 5 MB and a case holds at most 5, so the table stays small beside the events.
CREATE TABLE IF NOT EXISTS case_photos (
    id           uuid        PRIMARY KEY,
    case_id      text        NOT NULL,
    content_type text        NOT NULL,
    size         integer     NOT NULL CHECK (size > 0),
    digest       text        NOT NULL,  -- SHA-256 of the bytes: one row per photo per case
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    data         bytea       NOT NULL,
    UNIQUE (case_id, digest)
);
-- The bytes are already compressed images: stored as they are, not compressed again.
ALTER TABLE case_photos ALTER COLUMN data SET STORAGE EXTERNAL;

-- Customer messages the provider had accepted without a final result: the sweep looks them
-- up again (store.outbox.recheck) until one comes.
CREATE INDEX IF NOT EXISTS notifications_accepted
    ON notifications (sent_at) WHERE delivery->>'result' = 'accepted';

-- The customer's own pages (/c/<token>) and the public complaint form (/c/new).
--
-- What a customer writes back from their page: kept here, beside their name and phone (never
-- in Temporal, not an event: it asks nothing of the case's steps), shown on the staff case
-- page. The same text sent twice (a double tap, a reload) is kept once.
CREATE TABLE IF NOT EXISTS customer_notes (
    id         bigserial   PRIMARY KEY,
    case_id    text        NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    body       text        NOT NULL,
    digest     text        NOT NULL,  -- SHA-256 of the body: one row per text per case
    UNIQUE (case_id, digest)
);

-- The public form's flood guard: submissions counted per phone and per client address in
-- fixed windows, in the database so that every API process counts the same. The bucket is
-- a keyed hash ("phone:..." or "address:..."), never the number or the address itself.
CREATE TABLE IF NOT EXISTS intake_limits (
    bucket       text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

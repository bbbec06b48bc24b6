-- Staff signed in as people, on the pages: one-time sign-in links and the sessions they start.
-- Only SHA-256 hashes of the link and session tokens are kept (both are 256 random bits), so
-- a copy of the database signs nobody in. Both point at the staff row: revoking the member
-- (`complaints staff revoke`) ends their sessions and unused links at once, by the join.
CREATE TABLE IF NOT EXISTS staff_sign_in_links (
    token_sha256 text PRIMARY KEY,
    staff_id     bigint NOT NULL REFERENCES staff (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz  -- single use: set when it starts a session
);

CREATE TABLE IF NOT EXISTS staff_sessions (
    id           bigserial PRIMARY KEY,
    token_sha256 text NOT NULL UNIQUE,
    staff_id     bigint NOT NULL REFERENCES staff (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    device       text NOT NULL DEFAULT '',  -- the browser's User-Agent, cut short, to tell them apart
    revoked_at   timestamptz
);
CREATE INDEX IF NOT EXISTS staff_sessions_by_staff ON staff_sessions (staff_id) WHERE revoked_at IS NULL;

-- Staff accounts: who acts on cases, with which role. The API token is stored only as its
-- SHA-256 (the token is 256 random bits, so a fast hash is enough and allows an indexed
-- lookup); a revoked member keeps the row, so past events still name a known person.
CREATE TABLE IF NOT EXISTS staff (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('staff', 'manager', 'owner', 'intake')),
    token_sha256 text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
-- One active member per name: the CLI acts as the member COMPLAINTS_STAFF names.
CREATE UNIQUE INDEX IF NOT EXISTS staff_active_name ON staff (name) WHERE revoked_at IS NULL;

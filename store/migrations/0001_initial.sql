-- The first schema. Written idempotently, so it also adopts a database made before
-- migrations were numbered (it then only records itself in schema_migrations).
CREATE TABLE IF NOT EXISTS complaint_events (
    case_id     text        NOT NULL,
    seq         integer     NOT NULL CHECK (seq >= 1),
    event_id    uuid        NOT NULL UNIQUE,
    type        text        NOT NULL,
    data        jsonb       NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, seq)  -- the per-case sequence is the concurrency check
);
CREATE INDEX IF NOT EXISTS complaint_events_type_time ON complaint_events (type, occurred_at);

CREATE TABLE IF NOT EXISTS complaint_cases (
    case_id          text        PRIMARY KEY,
    status           text        NOT NULL,
    step             text,
    motive           text        NOT NULL,
    channel          text        NOT NULL,
    tier             text,
    fault            text,
    escalation_level integer     NOT NULL DEFAULT 0,
    escalations      integer     NOT NULL DEFAULT 0,
    response_due_at  timestamptz,
    opened_at        timestamptz NOT NULL,
    resolved_at      timestamptz,
    closed_at        timestamptz,
    rating           integer,
    version          integer     NOT NULL,
    updated_at       timestamptz NOT NULL,  -- time of the last event, so a rebuild is exact
    state            jsonb       NOT NULL   -- the whole fold, for the projection to evolve
);
ALTER TABLE complaint_cases ADD COLUMN IF NOT EXISTS customer_phone text;
CREATE INDEX IF NOT EXISTS complaint_cases_customer ON complaint_cases (customer_phone);
CREATE INDEX IF NOT EXISTS complaint_cases_status ON complaint_cases (status, opened_at DESC);
CREATE INDEX IF NOT EXISTS complaint_cases_due ON complaint_cases (response_due_at);

CREATE TABLE IF NOT EXISTS notifications (
    id         uuid        PRIMARY KEY,
    case_id    text        NOT NULL,
    event_id   uuid        NOT NULL REFERENCES complaint_events (event_id),
    kind       text        NOT NULL,
    recipient  text        NOT NULL,
    message    text        NOT NULL,
    data       jsonb       NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz,
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX IF NOT EXISTS notifications_pending ON notifications (case_id) WHERE sent_at IS NULL;

-- Customers, keyed by their normalized phone number; visits drive the tier.
CREATE TABLE IF NOT EXISTS customers (
    phone          text        PRIMARY KEY,
    name           text,
    visits         integer     NOT NULL DEFAULT 0 CHECK (visits >= 0),
    first_visit_at timestamptz,
    last_visit_at  timestamptz
);

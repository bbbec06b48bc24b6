-- Keeping customers: marketing consent, visits with who referred whom, referral rewards,
-- advertising messages (kept apart from the case notices: no case, another legal category),
-- and the minimal complaint records a legal hold keeps after a customer is forgotten.

-- Consent as it stands now, on the customer (read by every send); its history below.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS marketing_consent_at timestamptz;
ALTER TABLE customers ADD COLUMN IF NOT EXISTS night_consent_at timestamptz;
ALTER TABLE customers ADD COLUMN IF NOT EXISTS opted_out_at timestamptz;
ALTER TABLE customers ADD COLUMN IF NOT EXISTS referred_by text;
-- The hourly keep-in-touch run asks who was last seen before a time.
CREATE INDEX IF NOT EXISTS customers_last_visit ON customers (last_visit_at)
    WHERE forgotten_at IS NULL;

-- Every grant and withdrawal: what, when, how (cli, api, page, opt_out_link) and by whom
-- (a staff member's name, or "customer"). Never deleted while the customer is on file:
-- it is the shop's proof of consent.
CREATE TABLE IF NOT EXISTS customer_consents (
    id          bigserial   PRIMARY KEY,
    customer_id text        NOT NULL,
    scope       text        NOT NULL CHECK (scope IN ('marketing', 'night')),
    given       boolean     NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    via         text        NOT NULL,
    by_whom     text        NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_consents_customer ON customer_consents (customer_id, id);

-- One row per visit (customers.visits counts them): the repeat-visit rate needs the dates.
CREATE TABLE IF NOT EXISTS customer_visits (
    id          bigserial   PRIMARY KEY,
    customer_id text        NOT NULL,
    visited_at  timestamptz NOT NULL,
    referred_by text        -- the referrer's customer id, on the referred customer's first visit
);
CREATE INDEX IF NOT EXISTS customer_visits_customer ON customer_visits (customer_id, visited_at);
CREATE INDEX IF NOT EXISTS customer_visits_time ON customer_visits (visited_at);
-- Visits recorded before this table: the first and the last one are all that is known.
INSERT INTO customer_visits (customer_id, visited_at)
SELECT id, first_visit_at FROM customers
WHERE first_visit_at IS NOT NULL AND visits > 0
  AND NOT EXISTS (SELECT 1 FROM customer_visits v WHERE v.customer_id = customers.id);
INSERT INTO customer_visits (customer_id, visited_at)
SELECT id, last_visit_at FROM customers
WHERE last_visit_at IS NOT NULL AND visits > 1 AND last_visit_at <> first_visit_at
  AND (SELECT count(*) FROM customer_visits v WHERE v.customer_id = customers.id) = 1;

-- A referral's rewards: both sides' discount, and the referrer's free check-up on every
-- third referral. Used up once (redeemed_at).
CREATE TABLE IF NOT EXISTS referral_rewards (
    id          bigserial   PRIMARY KEY,
    customer_id text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('referred_discount', 'referrer_discount',
                                                     'free_check')),
    percent     integer     CHECK (percent BETWEEN 0 AND 100),
    visit_id    bigint      NOT NULL REFERENCES customer_visits (id),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    redeemed_at timestamptz,
    UNIQUE (visit_id, customer_id, kind)
);
CREATE INDEX IF NOT EXISTS referral_rewards_open ON referral_rewards (customer_id)
    WHERE redeemed_at IS NULL;

-- Advertising messages (keep in touch): one per customer per period (the visit it follows),
-- with what became of it. The number and the text are not kept.
CREATE TABLE IF NOT EXISTS advertisements (
    id          uuid        PRIMARY KEY,
    customer_id text        NOT NULL,
    kind        text        NOT NULL,
    period      timestamptz NOT NULL,   -- the last visit the message follows
    basis       text        NOT NULL,   -- consent, or transaction (within 6 months)
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    delivery    jsonb,
    last_error  text,
    UNIQUE (customer_id, kind, period)
);
CREATE INDEX IF NOT EXISTS advertisements_customer ON advertisements (customer_id, created_at);

-- What a business must keep of a consumer complaint for 3 years, apart from other data:
-- dates, motive, outcome, remedy; no name, phone or free text. Written when the customer is
-- forgotten (or the case's data retired) while the hold applies; destroyed after hold_until.
CREATE TABLE IF NOT EXISTS complaint_records (
    case_id    text        PRIMARY KEY,
    opened_at  timestamptz NOT NULL,
    closed_at  timestamptz,
    motive     text        NOT NULL,
    channel    text        NOT NULL,
    fault      text,
    status     text        NOT NULL,
    remedy     text,
    rating     integer,
    hold_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS complaint_records_hold ON complaint_records (hold_until);

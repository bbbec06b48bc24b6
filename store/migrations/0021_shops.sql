-- Many shops on one deployment. Every row belongs to one shop; the database itself keeps
-- each shop's rows from the others (row-level security), as the backstop behind the
-- application's own filters.
--
-- Two roles, neither of which owns a table (so FORCE ROW LEVEL SECURITY binds them) and
-- neither of which logs in: the service's connection (whoever owns the tables) switches to
-- one of them for every database call (store/scope.py):
--   complaints_service  sees and writes only the rows of the shop named by the setting
--                       `complaints.shop` (none when it is unset: a forgotten scope fails
--                       closed);
--   complaints_system   sees every shop's rows: sign-in (a token names its shop), the
--                       operator's shop list, sweeps that visit shop after shop, backups.
DO $$
BEGIN
    CREATE ROLE complaints_service NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- roles are per cluster
END $$;
DO $$
BEGIN
    CREATE ROLE complaints_system NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'complaints_service', 'MEMBER') THEN
        EXECUTE format('GRANT complaints_service TO %I', current_user);
    END IF;
    IF NOT pg_has_role(current_user, 'complaints_system', 'MEMBER') THEN
        EXECUTE format('GRANT complaints_system TO %I', current_user);
    END IF;
END $$;

CREATE TABLE IF NOT EXISTS shops (
    shop_id    text        PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- The shop a single-shop database becomes (and a fresh install starts with): its cases'
-- workflow ids keep the form they had before shops (infra/shop_ids.py).
INSERT INTO shops (shop_id, name) VALUES ('0000-0000', 'first shop') ON CONFLICT DO NOTHING;

-- Every table gets its shop: existing rows are the first shop's; new rows take the shop of
-- the scope they are written in.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'complaint_events', 'complaint_cases', 'notifications', 'customers',
        'calendar_closures', 'calendar_openings', 'customer_notes', 'intake_limits',
        'keep_in_touch_reminders', 'rulebook', 'rulebook_changes', 'rulebook_delivery',
        'case_photos', 'staff_sign_in_links', 'staff_sessions', 'customer_consents',
        'customer_visits', 'referral_rewards', 'advertisements', 'complaint_records'
    ] LOOP
        EXECUTE format(
            'ALTER TABLE %I ADD COLUMN IF NOT EXISTS shop_id text NOT NULL DEFAULT %L '
            'REFERENCES shops (shop_id)', t, '0000-0000');
        EXECUTE format(
            'ALTER TABLE %I ALTER COLUMN shop_id SET DEFAULT current_setting(%L, true)',
            t, 'complaints.shop');
    END LOOP;
END $$;

-- Staff belong to a shop; an operator (who administers shops and sees no case) to none.
ALTER TABLE staff ADD COLUMN IF NOT EXISTS shop_id text DEFAULT '0000-0000' REFERENCES shops (shop_id);
ALTER TABLE staff ALTER COLUMN shop_id SET DEFAULT current_setting('complaints.shop', true);
ALTER TABLE staff DROP CONSTRAINT IF EXISTS staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check
    CHECK (role IN ('staff', 'manager', 'owner', 'intake', 'operator'));
ALTER TABLE staff ADD CONSTRAINT staff_operator_has_no_shop
    CHECK ((role = 'operator') = (shop_id IS NULL));
DROP INDEX IF EXISTS staff_active_name;
-- One active member per name in a shop (the same person in two shops is two members).
CREATE UNIQUE INDEX staff_active_name ON staff (shop_id, name) WHERE revoked_at IS NULL;
CREATE UNIQUE INDEX staff_active_operator ON staff (name)
    WHERE revoked_at IS NULL AND shop_id IS NULL;

-- Keys that were one per deployment are one per shop.
ALTER TABLE customers DROP CONSTRAINT customers_pkey;
ALTER TABLE customers ADD PRIMARY KEY (shop_id, phone);  -- one phone, two shops: two customers
ALTER TABLE calendar_closures DROP CONSTRAINT calendar_closures_pkey;
ALTER TABLE calendar_closures ADD PRIMARY KEY (shop_id, day);
ALTER TABLE calendar_openings DROP CONSTRAINT calendar_openings_pkey;
ALTER TABLE calendar_openings ADD PRIMARY KEY (shop_id, day);
ALTER TABLE rulebook DROP CONSTRAINT rulebook_pkey;
ALTER TABLE rulebook ADD PRIMARY KEY (shop_id, key);
ALTER TABLE intake_limits DROP CONSTRAINT intake_limits_pkey;
ALTER TABLE intake_limits ADD PRIMARY KEY (shop_id, bucket, window_start);
ALTER TABLE rulebook_delivery DROP CONSTRAINT rulebook_delivery_pkey;
ALTER TABLE rulebook_delivery ADD PRIMARY KEY (shop_id);
ALTER TABLE advertisements DROP CONSTRAINT advertisements_customer_id_kind_period_key;
ALTER TABLE advertisements ADD UNIQUE (shop_id, customer_id, kind, period);
ALTER TABLE keep_in_touch_reminders DROP CONSTRAINT keep_in_touch_reminders_customer_id_period_key;
ALTER TABLE keep_in_touch_reminders ADD UNIQUE (shop_id, customer_id, period);
-- Case ids, event ids, customer references and tokens are random (60 bits and more) and
-- stay unique across shops; the shop leads the indexes a shop's lists are read by.
CREATE INDEX IF NOT EXISTS complaint_cases_shop ON complaint_cases (shop_id, opened_at);
CREATE INDEX IF NOT EXISTS customers_shop_id ON customers (shop_id, id);
CREATE INDEX IF NOT EXISTS staff_shop ON staff (shop_id, name);

-- The policies, on every table that has a shop: a shop's rows for the service role, every
-- row for the system role, and nothing for anyone else (the owner included: FORCE).
DO $$
DECLARE t text;
BEGIN
    FOR t IN
        SELECT c.table_name FROM information_schema.columns c
        WHERE c.table_schema = current_schema() AND c.column_name = 'shop_id'
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY one_shop ON %I TO complaints_service '
            'USING (shop_id = current_setting(%L, true)) '
            'WITH CHECK (shop_id = current_setting(%L, true))',
            t, 'complaints.shop', 'complaints.shop');
        EXECUTE format(
            'CREATE POLICY every_shop ON %I TO complaints_system USING (true) WITH CHECK (true)',
            t);
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO complaints_service, complaints_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
    TO complaints_service, complaints_system;
GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO complaints_system;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public
    TO complaints_service, complaints_system;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO complaints_service, complaints_system;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT TRUNCATE ON TABLES TO complaints_system;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO complaints_service, complaints_system;

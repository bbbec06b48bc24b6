-- The steps staff answered, one row per step of a case: the period report counts them by
-- the time of the answer through an index, instead of parsing the JSON state of every case
-- whose life overlaps the period (at a million events, 640 ms of the report's 720 ms p50).
-- A narrow copy of complaint_cases.state->'done' (domain.model.StepDone): the append writes
-- the steps it answers (store/sql/complaints_append.sql), a rebuild all of them
-- (store/read_model.py, which empties it first). Within target is answered_at <= due_at,
-- as StepDone.within_target says.
--
-- No foreign keys, unlike the tables 0021 gave a shop: like complaint_cases, whose columns it
-- copies, it is derived from the events, and only the append (in the transaction that writes
-- the case's row, with that row's shop) and the rebuild (with the rows it rebuilds) write it;
-- a restore replaces every table. A key checked per row cost a rebuild about a third more
-- time at 100,000 events (12.9 -> 16.7 s on a loaded machine, two checks for each of ~70,000
-- steps), for nothing those two writers can get wrong.
CREATE TABLE IF NOT EXISTS answered_steps (
    case_id     text        NOT NULL,
    step        text        NOT NULL,
    answered_at timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    shop_id     text        NOT NULL DEFAULT current_setting('complaints.shop', true),
    PRIMARY KEY (case_id, step)  -- a step is answered once: a retried append adds no row
);
-- A period's steps of one shop (the policy's filter leads), with what the counts need.
CREATE INDEX IF NOT EXISTS answered_steps_answered
    ON answered_steps (shop_id, answered_at) INCLUDE (step, due_at);

-- One shop's rows, as migration 0021 set every table with a shop.
ALTER TABLE answered_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE answered_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY one_shop ON answered_steps TO complaints_service
    USING (shop_id = current_setting('complaints.shop', true))
    WITH CHECK (shop_id = current_setting('complaints.shop', true));
CREATE POLICY every_shop ON answered_steps TO complaints_system USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON answered_steps TO complaints_service, complaints_system;
GRANT TRUNCATE ON answered_steps TO complaints_system;

-- The steps of the cases stored so far, from their states. Appends wait meanwhile (readers
-- do not): every append committed before is in the states read here, and every append that
-- starts after this commits goes through the functions below.
-- Read and written as the system role (every shop's rows): both tables force row-level
-- security, which binds their owner too unless it is a superuser, and no policy names it.
LOCK TABLE complaint_cases IN EXCLUSIVE MODE;
SET LOCAL ROLE complaints_system;
INSERT INTO answered_steps (case_id, step, answered_at, due_at, shop_id)
SELECT c.case_id, d->>'step', (d->>'at')::timestamptz, (d->>'due_at')::timestamptz, c.shop_id
FROM complaint_cases c, json_array_elements(c.state->'done') d
ON CONFLICT (case_id, step) DO NOTHING;
RESET ROLE;

-- The append with the answered steps as three more arguments.
\ir ../sql/complaints_append.sql

-- The append as workers of the release before call it (34 arguments), for a rolling
-- upgrade: it stores the same rows, and the steps from the state it is given (parsed here,
-- the old worker's cost alone; a step already stored is skipped). An append of an old
-- worker already running when this migration commits still runs the old body and can leave
-- a step out: `complaints rebuild` writes them all again. A later migration drops this once
-- no worker of the older release is left.
CREATE OR REPLACE FUNCTION complaints_append(
    p_case_id text, p_version integer, p_token text,
    e_seq integer[], e_id uuid[], e_type text[], e_data text[], e_at timestamptz[],
    n_id uuid[], n_event_id uuid[], n_kind text[], n_recipient text[], n_message text[],
    n_data text[], n_created_at timestamptz[], n_not_before timestamptz[],
    c_status text, c_step text, c_motive text, c_channel text, c_tier text, c_fault text,
    c_escalation_level integer, c_escalations integer, c_response_due_at timestamptz,
    c_opened_at timestamptz, c_resolved_at timestamptz, c_closed_at timestamptz,
    c_rating integer, c_version integer, c_updated_at timestamptz, c_customer_phone text,
    c_customer_id text, c_state text
) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    s_step text[];
    s_answered_at timestamptz[];
    s_due_at timestamptz[];
BEGIN
    SELECT coalesce(array_agg(d->>'step'), '{}'),
           coalesce(array_agg((d->>'at')::timestamptz), '{}'),
           coalesce(array_agg((d->>'due_at')::timestamptz), '{}')
    INTO s_step, s_answered_at, s_due_at
    FROM json_array_elements(c_state::json->'done') d;
    RETURN complaints_append(p_case_id, p_version, p_token,
        e_seq, e_id, e_type, e_data, e_at,
        n_id, n_event_id, n_kind, n_recipient, n_message, n_data, n_created_at, n_not_before,
        c_status, c_step, c_motive, c_channel, c_tier, c_fault, c_escalation_level,
        c_escalations, c_response_due_at, c_opened_at, c_resolved_at, c_closed_at, c_rating,
        c_version, c_updated_at, c_customer_phone, c_customer_id, c_state,
        s_step, s_answered_at, s_due_at);
END
$$;

-- Migration 0018's range index on each case's life served the report's steps alone: no
-- query reads it now, and every append had to update it. Dropped last: the drop locks
-- complaint_cases against readers too, until this migration commits a moment later (not for
-- the backfill above, which lets them read).
DROP INDEX IF EXISTS complaint_cases_life;

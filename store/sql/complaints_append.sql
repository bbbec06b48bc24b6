-- complaints_append: the read model's live write, the one statement an append runs
-- (store/events.py calls it). It writes a case's new events, their outbox notices and the
-- case's complaint_cases row together, and only if the row is still the very version the
-- worker folded from: it returns that row's new token, or NULL when the row moved on
-- (nothing written: the worker reads the row and folds again).
--
-- The token is the row's xmin (the id of the transaction that wrote it: any write of the
-- row makes a new one, a hand edit included) and `rev`, a random id every writer of ours
-- sets anew (this append, `complaints forget`, a rebuild's COPY by default): transaction ids
-- are 32 bits and start again after a restore to an earlier point, random ids do not repeat.
-- A first append (version 0) inserts the row; a concurrent first append of the same case
-- waits for it and then finds the row taken (NULL). The row is written first: its lock
-- serializes appends to the case before any event is inserted.
--
-- The steps staff answered in these events (s_*: the worker takes them from its fold, the
-- new state's `done` beyond the copy's, so no state is parsed here) go into answered_steps
-- with the case's shop; their key (case, step) holds each step once, and a step already
-- there is left as it is.
--
-- This file is the function's current body. Migrations load it (`\ir ../sql/...`, see
-- store/migrations.py): to change the function, edit it here and add a migration that loads
-- it again, so databases migrated before pick up the change.

CREATE OR REPLACE FUNCTION complaints_append(
    p_case_id text, p_version integer, p_token text,
    e_seq integer[], e_id uuid[], e_type text[], e_data text[], e_at timestamptz[],
    n_id uuid[], n_event_id uuid[], n_kind text[], n_recipient text[], n_message text[],
    n_data text[], n_created_at timestamptz[], n_not_before timestamptz[],
    c_status text, c_step text, c_motive text, c_channel text, c_tier text, c_fault text,
    c_escalation_level integer, c_escalations integer, c_response_due_at timestamptz,
    c_opened_at timestamptz, c_resolved_at timestamptz, c_closed_at timestamptz,
    c_rating integer, c_version integer, c_updated_at timestamptz, c_customer_phone text,
    c_customer_id text, c_state text,
    s_step text[], s_answered_at timestamptz[], s_due_at timestamptz[]
) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    token text;
    shop text;
BEGIN
    IF p_version = 0 THEN
        INSERT INTO complaint_cases (case_id, status, step, motive, channel, tier, fault,
            escalation_level, escalations, response_due_at, opened_at, resolved_at, closed_at,
            rating, version, updated_at, customer_phone, customer_id, state)
        VALUES (p_case_id, c_status, c_step, c_motive, c_channel, c_tier, c_fault,
            c_escalation_level, c_escalations, c_response_due_at, c_opened_at, c_resolved_at,
            c_closed_at, c_rating, c_version, c_updated_at, c_customer_phone, c_customer_id,
            c_state::json)
        ON CONFLICT (case_id) DO NOTHING
        RETURNING xmin::text || '/' || rev::text, shop_id INTO token, shop;
    ELSE
        UPDATE complaint_cases SET
            status = c_status, step = c_step, motive = c_motive, channel = c_channel,
            tier = c_tier, fault = c_fault, escalation_level = c_escalation_level,
            escalations = c_escalations, response_due_at = c_response_due_at,
            opened_at = c_opened_at, resolved_at = c_resolved_at, closed_at = c_closed_at,
            rating = c_rating, version = c_version, updated_at = c_updated_at,
            customer_phone = c_customer_phone, customer_id = c_customer_id,
            state = c_state::json, rev = gen_random_uuid()
        WHERE case_id = p_case_id AND version = p_version
            AND xmin::text || '/' || coalesce(rev::text, '-') = p_token
        RETURNING xmin::text || '/' || rev::text, shop_id INTO token, shop;
    END IF;
    IF token IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO complaint_events (case_id, seq, event_id, type, data, occurred_at)
    SELECT p_case_id, e.seq, e.id, e.type, e.data::jsonb, e.at
    FROM unnest(e_seq, e_id, e_type, e_data, e_at) AS e(seq, id, type, data, at);
    INSERT INTO notifications
        (id, case_id, event_id, kind, recipient, message, data, created_at, not_before)
    SELECT n.id, p_case_id, n.event_id, n.kind, n.recipient, n.message, n.data::jsonb,
        n.created_at, n.not_before
    FROM unnest(n_id, n_event_id, n_kind, n_recipient, n_message, n_data, n_created_at,
        n_not_before) AS n(id, event_id, kind, recipient, message, data, created_at, not_before);
    IF cardinality(s_step) > 0 THEN  -- most appends answer no step
        INSERT INTO answered_steps (case_id, step, answered_at, due_at, shop_id)
        SELECT p_case_id, s.step, s.answered_at, s.due_at, shop
        FROM unnest(s_step, s_answered_at, s_due_at) AS s(step, answered_at, due_at)
        ON CONFLICT (case_id, step) DO NOTHING;
    END IF;
    RETURN token;
END
$$;

-- One append in one round trip: the worker reads the case, folds the new events in Python
-- (the domain is the one definition of what an event means), then calls this with the
-- version it folded from. Under the case row's lock, and only if that version is still the
-- stored one, it writes the events, their notices and the read-model row together (the
-- call is one statement: all or nothing). Returns how many events it wrote, or -1 when
-- another append landed since the read (nothing written; the caller reads again).
-- A case without a row yet has nothing to lock: two first appends race on the events'
-- (case_id, seq) key, and the loser gets a unique violation on complaint_events_pkey.
-- Generic plans: planning the four statements on every call cost more than running them.
CREATE OR REPLACE FUNCTION complaints_append(
    p_case_id text, p_version integer,
    e_seq integer[], e_id uuid[], e_type text[], e_data text[], e_at timestamptz[],
    n_id uuid[], n_event_id uuid[], n_kind text[], n_recipient text[], n_message text[],
    n_data text[], n_created_at timestamptz[], n_not_before timestamptz[],
    c_status text, c_step text, c_motive text, c_channel text, c_tier text, c_fault text,
    c_escalation_level integer, c_escalations integer, c_response_due_at timestamptz,
    c_opened_at timestamptz, c_resolved_at timestamptz, c_closed_at timestamptz,
    c_rating integer, c_version integer, c_updated_at timestamptz, c_customer_phone text,
    c_customer_id text, c_state text
) RETURNS integer
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    stored integer;
BEGIN
    SELECT version INTO stored FROM complaint_cases WHERE case_id = p_case_id FOR UPDATE;
    IF coalesce(stored, 0) <> p_version THEN
        RETURN -1;
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
    INSERT INTO complaint_cases (case_id, status, step, motive, channel, tier, fault,
        escalation_level, escalations, response_due_at, opened_at, resolved_at, closed_at,
        rating, version, updated_at, customer_phone, customer_id, state)
    VALUES (p_case_id, c_status, c_step, c_motive, c_channel, c_tier, c_fault,
        c_escalation_level, c_escalations, c_response_due_at, c_opened_at, c_resolved_at,
        c_closed_at, c_rating, c_version, c_updated_at, c_customer_phone, c_customer_id,
        c_state::jsonb)
    ON CONFLICT (case_id) DO UPDATE SET
        status = EXCLUDED.status, step = EXCLUDED.step, motive = EXCLUDED.motive,
        channel = EXCLUDED.channel, tier = EXCLUDED.tier, fault = EXCLUDED.fault,
        escalation_level = EXCLUDED.escalation_level, escalations = EXCLUDED.escalations,
        response_due_at = EXCLUDED.response_due_at, opened_at = EXCLUDED.opened_at,
        resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at,
        rating = EXCLUDED.rating, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at,
        customer_phone = EXCLUDED.customer_phone, customer_id = EXCLUDED.customer_id,
        state = EXCLUDED.state;
    RETURN cardinality(e_seq);
END
$$;

-- "Mine" in the staff inbox: the open cases a person opened, or whose latest step they
-- answered (domain.model.CaseState opened_by / handled_by, in the state the read model keeps).
-- As columns generated from the state, so neither the append nor a rebuild changes: each
-- writes the state, and PostgreSQL keeps the two names beside it. Columns, not indexes on
-- `state->>'...'`: under row-level security only leakproof conditions reach an index before
-- the shop's policy is checked, and text equality is one, the JSON operator is not (an
-- expression index was never used: every open case's state was parsed, 0.3 s at 100,000).
-- COPY leaves generated columns out, so backups and restores read and write as before.
-- Adding them rewrites the table once (seconds at 100,000 cases), readers waiting.
ALTER TABLE complaint_cases
    ADD COLUMN IF NOT EXISTS opened_by text GENERATED ALWAYS AS (state->>'opened_by') STORED,
    ADD COLUMN IF NOT EXISTS handled_by text GENERATED ALWAYS AS (state->>'handled_by') STORED;
-- And whether staff asked the owner for an override (CaseState override_reason): the owner's
-- view lists those cases beside the escalated ones, without parsing every open state.
ALTER TABLE complaint_cases
    ADD COLUMN IF NOT EXISTS override_requested boolean
        GENERATED ALWAYS AS ((state->>'override_reason') IS NOT NULL) STORED;
-- One narrow index per name over a shop's open cases: the filter is a bitmap OR of the two.
CREATE INDEX IF NOT EXISTS complaint_cases_opened_by
    ON complaint_cases (shop_id, opened_by) WHERE status NOT IN ('closed', 'withdrawn');
CREATE INDEX IF NOT EXISTS complaint_cases_handled_by
    ON complaint_cases (shop_id, handled_by) WHERE status NOT IN ('closed', 'withdrawn');

-- The open cases stored so far get the two names from their events, as `evolve` would have
-- set them (closed cases never show in the inbox; `complaints rebuild` fills them all).
-- Appends wait meanwhile; a worker's kept copy no longer matches the row's token, so it reads
-- the row again. Written as the system role (every shop's rows), as 0022's backfill.
LOCK TABLE complaint_cases IN EXCLUSIVE MODE;
SET LOCAL ROLE complaints_system;
WITH who AS (
    SELECT e.case_id,
           (array_agg(e.data->>'by') FILTER (WHERE e.seq = 1))[1] AS opened_by,
           (array_agg(e.data->>'by' ORDER BY e.seq DESC) FILTER (
               WHERE e.data->>'by' IS NOT NULL AND e.type IN ('case_opened', 'apologized',
                   'empathized', 'cause_analyzed', 'resolution_offered', 'prevention_shown',
                   'delay_recorded')))[1] AS handled_by
    FROM complaint_events e
    JOIN complaint_cases c ON c.case_id = e.case_id
    WHERE c.status NOT IN ('closed', 'withdrawn')
    GROUP BY e.case_id
)
UPDATE complaint_cases c
SET state = (c.state::jsonb || jsonb_strip_nulls(
        jsonb_build_object('opened_by', w.opened_by, 'handled_by', w.handled_by)))::json,
    rev = gen_random_uuid()
FROM who w
WHERE c.case_id = w.case_id AND (w.opened_by IS NOT NULL OR w.handled_by IS NOT NULL);
RESET ROLE;

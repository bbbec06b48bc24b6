-- Keeping customers, second round: a legal hold's record follows its case to the closing,
-- and keep in touch counts from the last contact (a visit, or a closed case).

-- How many years a record is held from its case's closing (COMPLAINTS_COMPLAINT_RECORDS_YEARS
-- when it was made). Records made before: from the closing where there was one, else (made
-- while the case was open, held from the forget) the whole years the hold spans.
ALTER TABLE complaint_records ADD COLUMN IF NOT EXISTS years integer CHECK (years > 0);

-- The customer's last closed case; keep in touch's period is
-- GREATEST(last_visit_at, last_case_closed_at), the last contact.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS last_case_closed_at timestamptz;
DROP INDEX IF EXISTS customers_last_visit;
CREATE INDEX IF NOT EXISTS customers_last_contact
    ON customers (GREATEST(last_visit_at, last_case_closed_at)) WHERE forgotten_at IS NULL;

\ir ../sql/complaints_case_moved.sql

-- Fired only when what the record or the customer keeps has moved: most appends move none.
DROP TRIGGER IF EXISTS complaints_case_moved ON complaint_cases;
CREATE TRIGGER complaints_case_moved AFTER UPDATE ON complaint_cases
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.fault IS DISTINCT FROM NEW.fault
          OR OLD.rating IS DISTINCT FROM NEW.rating
          OR OLD.closed_at IS DISTINCT FROM NEW.closed_at)
    EXECUTE FUNCTION complaints_case_moved();

-- The rows stored so far, every shop's (row-level security binds the owner too).
SET LOCAL ROLE complaints_system;
UPDATE complaint_records SET years = GREATEST(1, CASE
    WHEN closed_at IS NOT NULL
        THEN round(extract(epoch FROM hold_until - closed_at) / (365.25 * 86400))
    ELSE floor(extract(epoch FROM hold_until - opened_at) / (365.25 * 86400)) END)::integer
WHERE years IS NULL;
UPDATE complaint_records r SET
    closed_at = c.closed_at, status = c.status, fault = c.fault,
    remedy = c.state::json -> 'accepted' ->> 'kind', rating = c.rating,
    hold_until = CASE WHEN c.closed_at IS NOT NULL
                      THEN GREATEST(r.hold_until, c.closed_at + make_interval(years => r.years))
                      ELSE r.hold_until END
FROM complaint_cases c
WHERE c.case_id = r.case_id AND r.closed_at IS DISTINCT FROM c.closed_at;
UPDATE customers u SET last_case_closed_at = m.closed_at
FROM (SELECT shop_id, customer_id, max(closed_at) AS closed_at FROM complaint_cases
      WHERE status = 'closed' AND customer_id IS NOT NULL GROUP BY shop_id, customer_id) m
WHERE u.shop_id = m.shop_id AND u.id = m.customer_id;
RESET ROLE;

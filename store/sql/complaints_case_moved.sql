-- complaints_case_moved: what follows a case's row when its outcome moves (status, fault,
-- rating, closing), in the transaction of the write that moved it (an append, a forget).
-- The trigger (migration 0024) fires on UPDATE only: a rebuild and a restore insert rows
-- that were already followed when they were first written.
--
--  * The minimal record a legal hold keeps of the case (complaint_records), if it has one:
--    its outcome as the case now has it, and its hold counted from the closing (the record
--    may have been made while the case was open, when `forget` came first).
--  * The customer's last closed case (customers.last_case_closed_at): keep in touch counts
--    its rhythm from the later of the last visit and the last closing.
--
-- This file is the function's current body; migrations load it (`\ir ../sql/...`).
CREATE OR REPLACE FUNCTION complaints_case_moved() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE complaint_records SET
        closed_at = NEW.closed_at, status = NEW.status, fault = NEW.fault,
        remedy = NEW.state::json -> 'accepted' ->> 'kind', rating = NEW.rating,
        hold_until = CASE WHEN NEW.closed_at IS NOT NULL AND years IS NOT NULL
                          THEN GREATEST(hold_until, NEW.closed_at + make_interval(years => years))
                          ELSE hold_until END
    WHERE case_id = NEW.case_id;
    IF NEW.status = 'closed' AND OLD.status IS DISTINCT FROM 'closed'
       AND NEW.customer_id IS NOT NULL THEN
        UPDATE customers SET last_case_closed_at = NEW.closed_at
        WHERE shop_id = NEW.shop_id AND id = NEW.customer_id
          AND (last_case_closed_at IS NULL OR last_case_closed_at < NEW.closed_at);
    END IF;
    RETURN NULL;
END
$$;

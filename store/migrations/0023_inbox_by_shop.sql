-- The staff inbox's index again, the shop first. 0016 made it before shops: since 0021 every
-- query of a shop's cases also asks `shop_id = current_setting('complaints.shop')` (the
-- row-level policy), which 0016's index cannot answer, so the count of a shop's open cases
-- read the whole table again (a parallel sequential scan, 24 ms of the inbox's 50 ms p95 at
-- 100,000 cases in `make bench`'s pages part, 2026-12-07). With the shop leading, the count is
-- an index-only scan of that shop's open cases and the page reads them in the inbox's order
-- (store/inbox.py INBOX_ORDER), as before.
CREATE INDEX IF NOT EXISTS complaint_cases_inbox_shop
    ON complaint_cases (shop_id, escalation_level DESC, response_due_at, opened_at DESC, case_id)
    INCLUDE (status, step, motive)
    WHERE status NOT IN ('closed', 'withdrawn');
DROP INDEX IF EXISTS complaint_cases_inbox;

-- The staff inbox: open cases, escalated first, then by the next due time. Most of a
-- shop's cases are closed, so an index over the open ones alone serves both of its
-- queries: the page (read in the index's order, no sort) and the count of open cases,
-- which read the whole table without it (a 33 ms sequential scan at 100,000 cases;
-- `make bench`'s pages part shows the plans). The included columns answer the inbox's
-- filters from the index.
CREATE INDEX IF NOT EXISTS complaint_cases_inbox
    ON complaint_cases (escalation_level DESC, response_due_at, opened_at DESC, case_id)
    INCLUDE (status, step, motive)
    WHERE status NOT IN ('closed', 'withdrawn');

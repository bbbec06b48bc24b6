-- The period report reads the cases of one period. Without these, its step counts parsed
-- every case's state (a sequential scan of the whole read model: 7 s of its 13 s at a
-- million events) and its motive and fault counts read every row. A step answered in the
-- period belongs to a case opened before the period's end whose last event is after the
-- period's start, so the two times bound the cases the report needs to read.
CREATE INDEX IF NOT EXISTS complaint_cases_opened ON complaint_cases (opened_at);
CREATE INDEX IF NOT EXISTS complaint_cases_updated ON complaint_cases (updated_at);

-- The period report reads the cases of one period. Without these, its step counts parsed
-- every case's state (a sequential scan of the whole read model: 7 s of its 13 s at a
-- million events) and its motive and fault counts read every row. A step answered in the
-- period belongs to a case whose life (opened .. last event) overlaps the period: the range
-- index finds those cases alone (a bound on either end alone still reads half the table).
CREATE INDEX IF NOT EXISTS complaint_cases_opened ON complaint_cases (opened_at);
CREATE INDEX IF NOT EXISTS complaint_cases_life
    ON complaint_cases USING gist (tstzrange(opened_at, updated_at, '[]'));

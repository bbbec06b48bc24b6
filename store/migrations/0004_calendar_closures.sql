-- One-off days the shop is closed (a holiday of its own, a renovation): business-time
-- targets skip them. Read by the worker's rulebook when a case opens.
CREATE TABLE IF NOT EXISTS calendar_closures (
    day        date        PRIMARY KEY,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

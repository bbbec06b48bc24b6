-- Cases refer to customers by an id; the name and phone stay in `customers` alone, so
-- Temporal never holds them and `complaints forget` has one place to remove them from.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS id text UNIQUE;
UPDATE customers SET id = 'cus-' || substr(md5(random()::text || phone), 1, 12) WHERE id IS NULL;
ALTER TABLE customers ALTER COLUMN id SET NOT NULL;
ALTER TABLE customers ADD COLUMN IF NOT EXISTS forgotten_at timestamptz;

ALTER TABLE complaint_cases ADD COLUMN IF NOT EXISTS customer_id text;
UPDATE complaint_cases c SET customer_id = u.id
FROM customers u WHERE c.customer_id IS NULL AND c.customer_phone = u.phone;
CREATE INDEX IF NOT EXISTS complaint_cases_customer_id ON complaint_cases (customer_id);

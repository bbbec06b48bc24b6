"""PostgreSQL storage: the schema and its migrations."""

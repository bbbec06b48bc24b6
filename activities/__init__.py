"""The I/O edge: PostgreSQL event store, read model and notification outbox."""

"""PostgreSQL, and every SQL statement the service runs: the migrations, the event store
(events.py) and the read model's live write (sql/complaints_append.sql), lists and reports,
customers, the outbox, staff and sessions, the rulebook, shops, and the scope each call acts
in (scope.py). Nothing outside this package talks to the database (tests/unit/test_rooms.py)."""

"""The application layer: what both doors (the CLI and the HTTP API) do, as plain async
functions. It owns the Temporal client calls, the idempotency keys, who may do what, and the
one translation of every failure into a refusal with a one-line message."""

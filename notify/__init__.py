"""How a notice leaves the shop: the sender seam.

- `senders.py`: the `Sender` interface (one notice in, delivered or an exception) and the
  log sender, the default where nothing else is configured.
- `webhook.py`: the signed webhook POST (Standard Webhooks), for staff systems.
- `registry.py`: which sender each recipient's notices go to (the customer; staff; the
  manager and owner an escalation reaches), chosen from the settings.

A new channel (the KakaoTalk and SMS provider for customers, its stand-in for a fresh
machine) is a module here beside `webhook.py`, with a `send(notice)` of its own, and one
entry in `registry.senders_for` that picks it for its recipients.

Nothing here writes to PostgreSQL: the outbox (store/outbox.py) claims a notice, hands it
to a sender, and records the outcome.
"""

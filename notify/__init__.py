"""How a notice leaves the shop: the senders behind the outbox's `Sender` port.

The port itself (`Sender`: one notice in, delivered or an exception) is the outbox's, in
store/delivery.py: the outbox claims a notice and hands it over, and this package, which
reads the settings, sits above storage. Here:

- `senders.py`: the log sender, the default where nothing else is configured.
- `webhook.py`: the signed webhook POST (Standard Webhooks), for staff systems.
- `solapi.py`: KakaoTalk notification messages with SMS/LMS fallback through SOLAPI's REST
  API; `standin.py`: a stand-in provider speaking the same API, for `make run` and tests.
- `registry.py`: which sender each recipient's notices go to (the customer; staff; the
  manager and owner an escalation reaches), chosen from the settings.
- `keep_in_touch.py`: the advertising messages of keeping customers (consent, label, hours).

Another channel is a module here with a `send(notice)` of its own, and one entry in
`registry.senders_for` that picks it for its recipients.

Nothing here writes to PostgreSQL: the outbox (store/outbox.py) claims a notice, hands it
to a sender, and records the outcome.
"""

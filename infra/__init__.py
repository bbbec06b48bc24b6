"""The plumbing the shells share: settings, logging and telemetry, the payload codec and its
keys, signed customer links, case and shop ids, the Temporal connection, the rulebook's keys
and how they apply to the settings (rulebook.py), opening hours as the settings write them
(calendar.py), and the embedded PostgreSQL and Temporal dev server launchers."""

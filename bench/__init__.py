"""`make bench`: figures for the service against a bare Temporal baseline, same run, same server."""

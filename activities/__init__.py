"""Temporal's adapters: thin activities over store/ and notify/ (append a case's events, send
and sweep its notices, read the rulebook, look up the customer), each acting for the shop its
workflow id names (scoping.py). No SQL here: that is store/'s."""

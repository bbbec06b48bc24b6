"""The functional core: the complaint-care rulebook as pure, typed functions.

Nothing here does I/O or imports Temporal; the shells (workflow, store, CLI) call in.
"""

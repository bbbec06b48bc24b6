"""Read-side queries for staff: lists, exports and period reports, computed in SQL."""

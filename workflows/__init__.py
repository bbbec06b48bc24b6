"""The Temporal shell around one case: it owns time and durability, never the rules."""

"""Models of the metrics app (filled in by later issues)."""

"""Models of the funnel app (filled in by later issues)."""

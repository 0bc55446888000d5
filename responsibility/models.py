"""Models of the responsibility app (filled in by later issues)."""

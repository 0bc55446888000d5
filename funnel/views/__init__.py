"""Pages of the funnel app: funnels, and file imports."""

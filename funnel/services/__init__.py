"""Writes of the funnel app: funnels, file imports, the events API, webhooks, integrations."""

"""Actuals ingestion: every way data comes in (file imports, the events API, webhooks) turns
into the normalized frames of `schema.py` and goes through one set-based loader."""

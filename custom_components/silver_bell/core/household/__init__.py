"""The household's pure core: its engine, incident book and outbox (no Home Assistant)."""

"""The hub's domain: the ledger model, merging, triage and push payloads (pure)."""

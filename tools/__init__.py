"""Helpers for scripts and tests that the integration never needs at run time (dataset loaders)."""

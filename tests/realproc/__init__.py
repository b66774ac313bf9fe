"""Fault tests with real Home Assistant processes (the demo's household and hub)."""

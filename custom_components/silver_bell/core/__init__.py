"""The pure core: no Home Assistant import anywhere below (tests/test_architecture.py)."""

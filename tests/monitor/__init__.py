"""Tests of the pure monitor logic."""

"""Tests of the helpers in tools/."""

"""Start-up hooks for the Home Assistant processes of scripts/bench_e2e (see sitecustomize.py)."""

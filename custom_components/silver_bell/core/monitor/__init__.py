"""Pure detection logic (no Home Assistant import): inactivity, baseline, fire, temperature, health, away."""

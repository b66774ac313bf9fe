"""Home Assistant glue for the hub role (the community's duty desk)."""

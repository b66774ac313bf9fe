"""Home Assistant glue for the household role."""

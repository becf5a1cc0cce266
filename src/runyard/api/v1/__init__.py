"""api/v1 layer."""

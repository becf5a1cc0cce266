"""Runyard: run data notebooks on schedules and on demand, Hex API v1 compatible."""

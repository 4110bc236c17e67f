"""Reliability: crashes, restarts, platform faults, duplicates, disorder and bad input."""

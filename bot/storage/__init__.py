"""Persistence: the SQLite connection, migrations and every SQL statement (repos.py)."""

"""Persistence: SQLite or PostgreSQL, migrations, and every SQL statement (repos.py)."""

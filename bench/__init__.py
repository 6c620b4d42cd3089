"""Benchmarks: the real app under real gunicorn, on SQLite and PostgreSQL (see bench/README.md)."""

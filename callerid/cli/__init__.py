"""Command-line tools, one group per noun: ``flask --app wsgi <group> <command>``."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .database import db_group
    from .users import users_group

    for group in (db_group, users_group):
        app.cli.add_command(group)

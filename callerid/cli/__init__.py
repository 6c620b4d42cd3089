"""Command-line tools, one group per noun: ``flask --app wsgi <group> <command>``."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .customers import customers_group
    from .database import db_group
    from .demo import demo_command
    from .retention import calls_group
    from .simulate import simulate_group
    from .users import users_group

    for group in (
        db_group,
        users_group,
        simulate_group,
        customers_group,
        calls_group,
        demo_command,
    ):
        app.cli.add_command(group)

"""GET /: the board."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("board", __name__)


@bp.get("/")
@login_required
def index() -> str:
    return render_template("board/index.html")

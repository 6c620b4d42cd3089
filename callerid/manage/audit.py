"""GET /audit (managers): who exported, erased, merged or anonymised what, and when; newest
first, a page at a time, filtered by action and by who did it."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import attach, audit, customer_changes, db, zones
from ..auth import manager_required
from ..directory import allergies, quality_fixes
from ..models import Customer
from . import bp

PAGE_SIZE = 50
# What each action the code writes means, in a few words; others show as written.
ACTIONS = {
    audit.EXPORT: "Exported",
    audit.ERASE: "Erased",
    audit.MERGE: "Merged",
    audit.ANONYMISE: "Anonymised",
    "import": "Imported",
    "user.create": "Added a login",
    "user.password_reset": "Reset a password",
    "user.deactivate": "Deactivated a login",
    "user.reactivate": "Reactivated a login",
    "token.create": "Issued an API token",
    "token.revoke": "Revoked an API token",
    quality_fixes.AUDIT_HOUSEHOLD: "Marked a shared number as a household",
    quality_fixes.AUDIT_REMOVE: "Removed a number",
    quality_fixes.AUDIT_NORMALISE: "Normalised a number",
    customer_changes.AUDIT_CREATE: "Added a customer",
    customer_changes.AUDIT_UPDATE: "Changed a customer",
    allergies.AUDIT_ALERTS: "Moved an allergy into alerts",
    attach.AUDIT_ATTACH: "Added a caller's number from the board",
    attach.AUDIT_UNDO: "Undid adding a caller's number",
}
_CUSTOMER = re.compile(r"^customer (\d+)$")
# Removing personal data stands out; copying it out is worth a second look.
TONES = {audit.ERASE: "missed", audit.ANONYMISE: "missed", audit.EXPORT: "ringing"}


@bp.get("/audit", endpoint="audit")
@manager_required
def audit_page() -> ResponseReturnValue:
    """The trail; ``action``, ``actor`` and ``cursor`` (from the Older link) narrow it. A cursor
    we never handed out shows the first page's link and what went wrong, with status 400."""
    args = request.args
    chosen = {"action": args.get("action") or "", "actor": args.get("actor") or ""}
    session = db.session()
    context = _context(session, chosen, has_cursor=bool(args.get("cursor")))
    try:
        page = audit.entries(
            session, limit=PAGE_SIZE, cursor=args.get("cursor") or None, **_or_none(chosen)
        )
    except audit.BadCursor:
        error = "That page link is out of date or was changed; start again from the newest."
        return render_template(
            "manage/audit.html", error=error, entries=[], customers={}, **context
        ), 400
    older = page.next_cursor
    next_url = url_for("manage.audit", **_kept(chosen), cursor=older) if older else None
    return render_template(
        "manage/audit.html",
        entries=page.entries,
        next_url=next_url,
        customers=_customers_named(session, [entry.target for entry in page.entries]),
        **context,
    )


def _customers_named(session: Session, targets: list[str]) -> dict[str, tuple[str, str | None]]:
    """ "customer 61" -> (what to call them, a link to their page): the trail stores ids only, so
    that it outlives erasure; the page names whoever is still there."""
    ids = {int(m.group(1)) for m in map(_CUSTOMER.match, targets) if m}
    if not ids:
        return {}
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.erased_at).where(Customer.id.in_(ids))
    )
    found: dict[str, tuple[str, str | None]] = {}
    for customer_id, name, erased_at in rows:
        if erased_at is not None:
            found[f"customer {customer_id}"] = (f"customer {customer_id} (erased)", None)
        else:
            link = url_for("manage.customers_show", customer_id=customer_id)
            found[f"customer {customer_id}"] = (name or f"customer {customer_id}", link)
    return found


def _context(session: Session, chosen: dict[str, str], *, has_cursor: bool) -> dict[str, Any]:
    """What the page shows around the entries: the filters and their choices, the time zone."""
    actions, actors = audit.filter_choices(session)
    return {
        "chosen": chosen,
        "actions": [(action, label(action)) for action in actions],
        "actors": actors,
        "zone": _zone(),
        "label": label,
        "tone": lambda action: TONES.get(action, ""),
        "first_url": url_for("manage.audit", **_kept(chosen)) if has_cursor else None,
    }


def label(action: str) -> str:
    """The words for ``action`` ("erase" -> "Erased"); one this page does not know reads as
    written."""
    return ACTIONS.get(action, action)


def _kept(chosen: dict[str, str]) -> dict[str, Any]:
    return {name: value for name, value in chosen.items() if value}


def _or_none(chosen: dict[str, str]) -> dict[str, str | None]:
    return {name: value or None for name, value in chosen.items()}


def _zone() -> ZoneInfo:
    return zones.business_zone(current_app.config)

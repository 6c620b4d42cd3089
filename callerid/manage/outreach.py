"""The insights page's figures on reaching back to missed callers (``history.outreach``): how
many were called back and how soon, and how the missed-call texts fared, in words."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..history.outreach import Figures, Outreach


def duration(seconds: float | None) -> str:
    """How long, as a person says it: "45 s", "12 min", "2 h 5 min", "3 days"; "—" for none."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(seconds / 86400)} days"


def figures(found: Outreach) -> dict[str, Any]:
    """The stats beside the headline figures and one row per local day."""
    total = found.total
    return {
        "outreach_stats": [
            {
                "key": "called-back",
                "label": "Called back",
                "value": f"{total.called_back:,}",
                "note": "missed calls returned",
            },
            {
                "key": "call-back-time",
                "label": "Time to call back, median",
                "value": duration(total.call_back_median_seconds),
                "note": "from the end of the missed call",
            },
            {
                "key": "texts",
                "label": "Missed-call texts",
                "value": f"{total.texts_sent:,}",
                "note": f"{total.texts_delivered:,} delivered · {total.texts_failed:,} failed",
            },
            {
                "key": "opted-out",
                "label": "Opted out of texts",
                "value": f"{total.opted_out:,}",
                "note": "replied STOP (or Twilio said so)",
            },
        ],
        "outreach_days": [_row(day, figures) for day, figures in found.days.items()],
        "outreach_any": any(_busy(figures) for figures in found.days.values()),
    }


def _row(day: date, figures: Figures) -> dict[str, Any]:
    return {
        "date": day,
        "called_back": figures.called_back,
        "median": duration(figures.call_back_median_seconds),
        "sent": figures.texts_sent,
        "delivered": figures.texts_delivered,
        "failed": figures.texts_failed,
        "opted_out": figures.opted_out,
    }


def _busy(figures: Figures) -> bool:
    return bool(
        figures.called_back or figures.texts_sent or figures.texts_failed or figures.opted_out
    )

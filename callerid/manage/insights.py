"""GET /insights (managers): how many called in a period, when, who came back, what was missed
and how fast the card appeared, as figures, SVG charts drawn on the server and tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from .. import db
from ..auth import manager_required
from ..db import utcnow
from ..history import insights
from . import bp, charts, outreach, periods

HOUR_LABEL_EVERY = 3
# viewBox sizes close to the drawn sizes on a desktop or tablet, so text stays about 12 px.
WIDE, NARROW = (1080.0, 280.0), (520.0, 240.0)


@dataclass(frozen=True, slots=True)
class Stat:
    label: str
    value: str
    note: str = ""
    link_url: str | None = None
    link_text: str = ""
    key: str = ""


@bp.get("/insights", endpoint="insights")
@manager_required
def insights_page() -> ResponseReturnValue:
    """The dashboard for ``period``/``from``/``to``/``tz`` (see ``periods.choose``); a period
    that cannot be read shows the page's controls and what to fix, with status 400."""
    default_zone = current_app.config.get("CALLERID_TIMEZONE") or "UTC"
    controls = _controls(request.args)
    try:
        period = periods.choose(request.args, utcnow(), default_zone)
    except periods.BadPeriod as error:
        return render_template("manage/insights.html", error=str(error), **controls), 400
    found = insights.summarise(db.session(), period.since, period.until, period.zone)
    controls.update(
        current=period.key, first=period.first.isoformat(), last=period.last.isoformat()
    )
    return render_template(
        "manage/insights.html", period=period, found=found, **controls, **_figures(found)
    )


def _controls(args: Mapping[str, str]) -> dict[str, Any]:
    """The period picker: preset links (keeping an explicit ``tz``) and the custom range form."""
    tz = args.get("tz") or ""
    if tz and not _is_zone(tz):
        tz = ""  # links and the form drop a zone we cannot read, so they lead out of the error
    keep = {"tz": tz} if tz else {}
    return {
        "presets": [
            {"key": key, "label": label, "url": url_for("manage.insights", period=key, **keep)}
            for key, (label, _) in periods.PRESETS.items()
        ],
        "current": args.get("period") or (periods.CUSTOM if args.get("from") else periods.DEFAULT),
        "first": args.get("from") or "",
        "last": args.get("to") or "",
        "tz": tz,
    }


def _is_zone(name: str) -> bool:
    try:
        periods.zone_named(name)
    except periods.BadPeriod:
        return False
    return True


def _figures(found: insights.Insights) -> dict[str, Any]:
    views = current_app.view_functions
    return {
        "stats": _stats(found, url_for("manage.missed") if "manage.missed" in views else None),
        "day_chart": day_chart(found.days),
        "hour_chart": hour_chart(found.hours),
        "pop_chart": _pop_chart(found.screen_pop),
        "top_callers": _top_callers(found),
        **outreach.figures(found.outreach),
    }


def percent(rate: float | None) -> str:
    """0.714 -> "71%"; no rate (no calls) -> "—"."""
    return "—" if rate is None else f"{rate * 100:.0f}%"


def calls(count: int) -> str:
    return f"{count:,} call" if count == 1 else f"{count:,} calls"


def millis(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def _stats(found: insights.Insights, missed_url: str | None) -> list[Stat]:
    pop = found.screen_pop
    return [
        Stat("Calls", f"{found.calls:,}", f"{found.answered:,} answered", key="calls"),
        Stat(
            "Answer rate",
            percent(found.answer_rate),
            f"{found.answered:,} of {calls(found.calls)}" if found.calls else "No calls yet",
            key="answer-rate",
        ),
        Stat(
            "Returning callers",
            percent(found.returning_share),
            f"{calls(found.returning)} from customers who had called before",
            key="returning",
        ),
        Stat("Missed", f"{found.missed:,}", "rang out, busy or hung up", key="missed"),
        Stat(
            "Not called back",
            f"{found.missed_open:,}",
            "callers still waiting",
            link_url=missed_url if found.missed_open else None,
            link_text="Call them back",
            key="missed-open",
        ),
        Stat(
            "Screen pop, median",
            millis(pop.median_ms),
            f"95% within {millis(pop.p95_ms)} · {calls(pop.count)} measured"
            if pop.count
            else "No screen reported a card yet",
            key="screen-pop",
        ),
    ]


def day_chart(days: list[insights.Day]) -> charts.BarChart:
    """Calls per local day, answered at the bottom, then missed, then any still undecided."""
    other = [max(0, d.calls - d.answered - d.missed) for d in days]
    layers = [
        charts.Series("answered", "Answered", [d.answered for d in days]),
        charts.Series("missed", "Missed", [d.missed for d in days]),
    ]
    if any(other):
        layers.append(charts.Series("other", "Other", other))
    return charts.bar_chart(
        [f"{d.date:%a} {d.date.day} {d.date:%b %Y}" for d in days],
        layers,
        short_labels=[f"{d.date.day} {d.date:%b}" for d in days],
        width=WIDE[0],
        height=WIDE[1],
    )


def hour_chart(hours: list[int]) -> charts.BarChart:
    return charts.bar_chart(
        [f"{h:02d}:00–{(h + 1) % 24:02d}:00" for h in range(24)],
        [charts.Series("calls", "Calls", hours)],
        short_labels=[f"{h:02d}" for h in range(24)],
        width=NARROW[0],
        height=NARROW[1],
        label_every=HOUR_LABEL_EVERY,
    )


def _pop_chart(pop: insights.ScreenPop) -> charts.HorizontalChart | None:
    if pop.median_ms is None or pop.p95_ms is None:
        return None
    return charts.horizontal_chart(
        [("Median", pop.median_ms), ("95th pct.", pop.p95_ms)], width=NARROW[0]
    )


def _top_callers(found: insights.Insights) -> list[dict[str, Any]]:
    most = max((t.calls for t in found.top_callers), default=0)
    link = _customer_link()
    return [
        {
            "name": caller.name,
            "calls": caller.calls,
            "share": caller.calls / found.calls if found.calls else 0.0,
            "bar": round(caller.calls / most * 100, 1) if most else 0.0,
            "url": link(caller.customer_id) if link else None,
        }
        for caller in found.top_callers
    ]


def _customer_link() -> Callable[[int], str] | None:
    """How to link to a customer's page, if that page exists: its rule names the one argument."""
    endpoint = "manage.customers_show"
    if endpoint not in current_app.view_functions:
        return None
    arguments = {
        name for rule in current_app.url_map.iter_rules(endpoint) for name in rule.arguments
    }
    if len(arguments) != 1:
        return None
    (argument,) = arguments
    return lambda customer_id: url_for(endpoint, **{argument: customer_id})

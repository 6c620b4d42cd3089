"""The app's gate for untrusted requests: the rules of ``inputs`` applied before any view runs,
so that a bad id, number, text or JSON body is answered 400 (or 404) and never reaches a database
that would turn it into a 500."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from . import inputs
from .inputs import MAX_ID, MAX_JSON_DEPTH, BadInput, text_problem


def _at_most(limit: int) -> str:
    """A regular expression for the whole numbers from 0 to ``limit`` (leading zeros allowed)."""
    digits = str(limit)
    options = [rf"\d{{1,{len(digits) - 1}}}", digits]
    for i, digit in enumerate(digits):
        if digit != "0":
            options.append(rf"{digits[:i]}[0-{int(digit) - 1}]\d{{{len(digits) - i - 1}}}")
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """``<int:...>`` in our routes: an id a database column can hold, so a larger one is a 404
    like any other missing row, not a database error."""

    # In the pattern, not only in ``max``: Werkzeug answers 405 rather than 404 when a path
    # matches a rule's pattern for another method and then fails the converter's range.
    regex = _at_most(MAX_ID)

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class CheckedJSON(DefaultJSONProvider):
    """Flask's JSON, whose request bodies are refused (400) when nested past ``MAX_JSON_DEPTH``
    or holding text a database cannot store, whichever view reads them."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
        try:
            inputs.check_json(value)
        except BadInput as exc:
            raise BadRequest(str(exc)) from None
        return value


def _check_request_text() -> None:
    """Every query parameter, form field and path part of a request, names included."""
    # Twilio's parameters are checked after their signature, by telephony.params: an unsigned
    # request must learn nothing, and unknown parameters are never refused there.
    if request.blueprint == "telephony":
        return
    fields = [("The address", request.path)]
    for source, label in ((request.args, "Query parameter"), (request.form, "Form field")):
        for key, value in source.items(multi=True):
            fields += [(f"{label} name", key), (f"{label} {key!r}", value)]
    for name, value in fields:
        problem = text_problem(value)
        if problem:
            raise BadRequest(f"{name} {problem}.")


def init_app(app: Flask) -> None:
    """Wire the rules into ``app``: before any blueprint is registered, so ``<int:...>`` in every
    route is bounded."""
    app.url_map.converters["int"] = IdConverter
    app.json = CheckedJSON(app)
    app.before_request(_check_request_text)

"""The customer form of the manager pages: what it sends to the directory's one validator
(``directory.record``), what it shows again, and its messages under each field."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from ..directory import customers as records
from ..directory import record
from ..models import Customer

# The form's text inputs; flags are its checkboxes (``record.FLAGS``), numbers its own box.
FORM_TEXT: tuple[str, ...] = ("name", "salutation", "preferred_name", "email", "tags")
FORM_TEXT += ("birthday", "anniversary", "notes", "preferences", "alerts", "pronunciation")
LABELS = {
    "name": "Name",
    "salutation": "Salutation",
    "preferred_name": "Preferred name",
    "email": "Email",
    "tags": "Tags",
    "birthday": "Birthday",
    "anniversary": "Anniversary",
    "notes": "Notes",
    "preferences": "Preferences",
    "alerts": "Alerts",
    "pronunciation": "Pronunciation",
    "numbers": "Phone numbers",
    "vip": "VIP",
    "do_not_greet": "Do not greet",
    "do_not_contact": "Do not contact",
    "number": "Number",
    "label": "Label",
}


def submitted(form: MultiDict[str, str], *, with_numbers: bool = False) -> dict[str, Any]:
    """The directory's fields from a customer form; unticked boxes are not sent, so mean no."""
    data: dict[str, Any] = {field: form.get(field, "") for field in FORM_TEXT}
    data |= {flag: flag in form for flag in record.FLAGS}
    if with_numbers:
        lines = form.get("numbers", "").replace(";", "\n").replace(",", "\n").splitlines()
        data["numbers"] = [line.strip() for line in lines if line.strip()]
    return data


def shown(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the form showed, to show it again exactly as typed."""
    return {**form.to_dict(), **{flag: flag in form for flag in record.FLAGS}}


def values_of(customer: Customer) -> dict[str, Any]:
    """The form's values for a customer being edited."""
    values: dict[str, Any] = {field: getattr(customer, field) for field in FORM_TEXT}
    values["tags"] = ", ".join(customer.tag_list)
    for field in record.DATES:
        values[field] = values[field].isoformat() if values[field] else ""
    values |= {flag: getattr(customer, column) for flag, column in record.FLAGS.items()}
    return values


def field_errors(data: dict[str, Any], region: str) -> dict[str, str]:
    """The validator's complaint about each field, as a sentence to show under it."""
    return {
        field: sentence(message, field)
        for field, message in records.field_errors(data, region).items()
    }


def sentence(message: str, field: str = "") -> str:
    """The directory's message as a sentence under the field: its label instead of its key."""
    if field and message.startswith(field + " "):
        message = LABELS.get(field, field) + message[len(field) :]
    message = message.replace(", or null", ", or left empty")
    return f"{message[:1].upper()}{message[1:]}."

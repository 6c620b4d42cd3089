"""Customers and their numbers: who is calling, how to greet them, and keeping the list tidy."""

from .cards import caller_card, card_for_call, cards_for_calls, customer_details, greeting
from .desk import InvalidChange, new_customer, update_customer
from .lookup import (
    add_number,
    find_by_number,
    line_key,
    lines_of,
    owners_of_many,
)

__all__ = [
    "InvalidChange",
    "add_number",
    "caller_card",
    "card_for_call",
    "cards_for_calls",
    "customer_details",
    "find_by_number",
    "greeting",
    "line_key",
    "lines_of",
    "new_customer",
    "owners_of_many",
    "update_customer",
]

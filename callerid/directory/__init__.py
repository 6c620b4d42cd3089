"""Customers and their numbers: who is calling, how to greet them, and keeping the list tidy."""

from .cards import caller_card, card_for_call, greeting
from .lookup import add_number, find_by_number, find_line

__all__ = ["add_number", "caller_card", "card_for_call", "find_by_number", "find_line", "greeting"]

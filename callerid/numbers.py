"""Phone numbers: the one place that turns caller text into E.164 or says why it cannot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

WITHHELD = "withheld"
INVALID = "invalid"
NUMBER = "number"
ADDRESS = "address"  # client: and sip: callers: reachable, but not a phone number

# Words carriers and Twilio put in From when the caller hides their number.
_WITHHELD_WORDS = {
    "",
    "anonymous",
    "restricted",
    "unknown",
    "unavailable",
    "private",
    "blocked",
    "withheld",
    "no caller id",
    "not available",
}
# The same words spelled on a keypad, which phonenumbers parses without complaint
# (help.twilio.com/articles/223179988). Compared as digits, with and without a leading 1.
_WITHHELD_DIGITS = {"266696687", "7378742833", "86282452253", "2562533", "8656696"}

_STRIP = re.compile(r"[\s().\-/]")


class InvalidNumber(ValueError):
    """Raised by ``parse`` for text that is not a usable phone number; ``reason`` says why."""

    def __init__(self, raw_number: str, reason: str) -> None:
        super().__init__(f"{raw_number!r}: {reason}")
        self.raw_number = raw_number
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Caller:
    """What a raw caller ID turned out to be: ``number`` is E.164 only when ``kind`` is NUMBER."""

    kind: str
    number: str | None = None
    address: str | None = None

    @property
    def is_number(self) -> bool:
        return self.kind == NUMBER


def parse(raw_number: str, region: str = "US") -> str:
    """Return ``raw_number`` in E.164 ("+14155550134"), reading national numbers in ``region``.

    Accepts spaces, dashes, dots, parentheses and ``00``/``+`` international prefixes. Raises
    ``InvalidNumber`` (with a reason for people) for withheld markers and anything that is not a
    valid number.
    """
    text = (raw_number or "").strip()
    if text.lower() in _WITHHELD_WORDS or _is_withheld_digits(text):
        raise InvalidNumber(raw_number, "the caller's number is withheld")
    compact = _STRIP.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        parsed = phonenumbers.parse(compact, region)
    except NumberParseException as exc:
        raise InvalidNumber(raw_number, "not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(raw_number, "not a valid number for its country")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def normalise(raw_from: str | None, region: str = "US") -> Caller:
    """Classify a caller ID from a webhook: a number, a withheld one, a SIP/client address, or
    invalid. Never raises."""
    text = (raw_from or "").strip()
    if text.lower().startswith(("client:", "sip:")):
        return Caller(ADDRESS, address=text)
    if text.lower() in _WITHHELD_WORDS or _is_withheld_digits(text):
        return Caller(WITHHELD)
    return _normalise_number(text, region)


@lru_cache(maxsize=4096)
def _normalise_number(text: str, region: str) -> Caller:
    # Cached: the same few hundred regulars call again and again.
    try:
        return Caller(NUMBER, number=parse(text, region))
    except InvalidNumber:
        return Caller(INVALID)


def _is_withheld_digits(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return digits in _WITHHELD_DIGITS or (digits[:1] == "1" and digits[1:] in _WITHHELD_DIGITS)


_LINE_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline or mobile",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.PREMIUM_RATE: "premium rate",
    PhoneNumberType.VOIP: "VoIP",
    PhoneNumberType.PERSONAL_NUMBER: "personal number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "company number",
    PhoneNumberType.SHARED_COST: "shared cost",
}


def display(number: str, region: str = "US") -> str:
    """Format an E.164 number for people: national format at home, international abroad."""
    parsed = phonenumbers.parse(number)
    home = phonenumbers.region_code_for_number(parsed) == region.upper()
    style = PhoneNumberFormat.NATIONAL if home else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)


def describe(number: str, region: str = "US") -> dict[str, str]:
    """Where an E.164 number is from and what kind of line it is, from phonenumbers' offline data:
    ``{"display", "region", "country", "place", "line_type", "carrier"}`` (empty strings when
    unknown)."""
    return dict(_describe(number, region))


@lru_cache(maxsize=8192)
def _describe(number: str, region: str) -> dict[str, str]:
    # Cached: regulars call again and again. On a miss the number's type (~30 µs a time) is
    # worked out once here, where the geocoder and the carrier look-up would each redo it.
    # Imported here: the geocoder's data costs ~100 MB per process (see docs/deployment.md).
    from phonenumbers import carrier, geocoder

    parsed = phonenumbers.parse(number)
    region_code = phonenumbers.region_code_for_number(parsed) or ""
    country = _country_name(region_code, parsed)
    kind = phonenumbers.number_type(parsed)
    place = ""
    code = parsed.country_code  # always set once parse() succeeded; None only on a bare object
    if (
        kind != PhoneNumberType.UNKNOWN
        and code is not None
        and phonenumbers.is_number_type_geographical(kind, code)
    ):
        place = geocoder.description_for_valid_number(parsed, "en")
    mobile = kind in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.PAGER,
    )
    return {
        "display": display(number, region),
        "region": region_code,
        "country": country,
        "place": place if place != country else "",
        "line_type": _LINE_TYPES.get(kind, ""),
        "carrier": carrier.name_for_valid_number(parsed, "en") if mobile else "",
    }


_COUNTRY_NAMES: dict[str, str] = {}


def _country_name(region_code: str, parsed: phonenumbers.PhoneNumber) -> str:
    # The geocoder works the country out from the number again (~160 µs for +1 numbers); the
    # answer depends only on the region we already know, unless the number is valid in several
    # regions of its country code (some UK mobiles: Guernsey, Jersey...), when it is "": such an
    # answer must not stand for the whole region.
    if region_code not in _COUNTRY_NAMES:
        from phonenumbers import geocoder

        name = geocoder.country_name_for_number(parsed, "en")
        if not name:
            return ""
        _COUNTRY_NAMES[region_code] = name
    return _COUNTRY_NAMES[region_code]


def preload_offline_data() -> None:
    """Load the geocoder and carrier data now, e.g. in gunicorn's master before it forks, so the
    workers share one copy and the first new caller's card is not slow."""
    describe("+14155550134")
    describe("+447912345678")

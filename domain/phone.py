"""Phone numbers: the customer's key, so they are normalized to one form (E.164)."""

import re

from domain.errors import InvalidPhone

_SEPARATORS = re.compile(r"[\s\-().]")


def normalize_phone(raw: str, default_country_code: str = "82") -> str:
    """Return the number as +<country><number>; Korean domestic numbers (0...) get +82.

    Accepts the ways staff type numbers: 010-1234-5678, 010 1234 5678, (02) 123-4567,
    +82 10-1234-5678, 0082..., +1 555 123 4567.
    """
    text = raw.strip()
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        digits = compact[1:]
        if not digits.isdigit() or not 8 <= len(digits) <= 15 or digits[0] == "0":
            raise InvalidPhone(
                f"phone number {text!r} is not valid: after '+' give the country code "
                "and 7 to 14 more digits, e.g. +82 10-1234-5678"
            )
        if digits.startswith("82") and digits[2:3] == "0":
            digits = "82" + digits[3:]  # +82 010... is a common way to write +82 10...
        return "+" + digits
    if not compact.isdigit() or not compact.startswith("0") or not 9 <= len(compact) <= 11:
        raise InvalidPhone(
            f"phone number {text!r} is not valid: give a domestic number starting with 0 "
            "(9 to 11 digits, e.g. 010-1234-5678) or an international one starting with +"
        )
    return f"+{default_country_code}{compact[1:]}"

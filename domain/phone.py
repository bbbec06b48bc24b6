"""Phone numbers: the customer's key, so they are normalized to one form (E.164).

Parsing and validity come from `phonenumbers` (Google's libphonenumber metadata): it knows
which numbers exist in each country, reads digits typed with a full-width IME, and accepts
nationwide service numbers such as 1588-1234.
"""

import re
import unicodedata

import phonenumbers

from domain.errors import InvalidPhone


def load_metadata() -> None:
    """Load every region's metadata now (about 80 ms). Loaded lazily, the first number of a
    region is parsed under phonenumbers' import lock, which deadlocks inside Temporal's
    workflow sandbox when two workflow threads decode a case at once: the workflow's module
    calls this when the worker imports it, outside the sandbox. Another process (the CLI)
    loads a region's when it first reads one of its numbers. Idempotent, and cheap again."""
    phonenumbers.PhoneMetadata.load_all()


# What staff type around the digits; anything else (a letter, a second '+') is a typo.
_ALLOWED = re.compile(r"^\+?[0-9\s\-().]+$")
_SEPARATORS = re.compile(r"[\s\-().]")


def normalize_phone(raw: str, region: str = "KR") -> str:
    """Return the number as +<country><number>; a number without a country code is read
    as one of `region`. Accepts 010-1234-5678, 010 1234 5678, (02) 123-4567,
    +82 10-1234-5678, +82 010..., 0082..., 1588-1234 and full-width digits."""
    text = unicodedata.normalize("NFKC", raw).strip()  # full-width ０-９ and ＋ become ASCII
    if not _ALLOWED.match(text):
        raise _invalid(raw, "use digits, spaces, '-', '(', ')' and one leading '+'")
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]  # 0082 ... is how some write +82 ...
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        raise _invalid(raw, "it is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise _invalid(raw, "no such number exists in its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid(raw: str, why: str) -> InvalidPhone:
    return InvalidPhone(
        f"phone number {raw.strip()!r} is not valid ({why}): give a domestic number, "
        "e.g. 010-1234-5678, or an international one starting with +, e.g. +82 10-1234-5678"
    )


def written_phone(e164: str, region: str = "KR") -> str:
    """A stored number as people of `region` write it: 010-1234-5678 at home,
    +1 212-555-0100 from abroad; as stored when it no longer parses."""
    try:
        number = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    domestic = phonenumbers.region_code_for_number(number) == region
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if domestic
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)

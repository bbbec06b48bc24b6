"""Case ids: short enough to read out on the phone, long enough never to collide.

Twelve characters of Crockford's base32 in three groups (`k7qm-3xd9-a2fp`): 60 bits, so
even a million cases have about a one-in-two-million chance of any clash, and a clash is
refused by the workflow id policy anyway. The alphabet has no i, l, o or u, so what staff
type back is forgiving: case is ignored, `i`/`l` read as 1, `o` as 0, the dashes optional.
A ULID (26 characters) would be as safe but too long to spell to a customer.
"""

import hashlib
import re
import secrets

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
LENGTH = 12
_READ_AS = str.maketrans({"i": "1", "l": "1", "o": "0"})
_PLAIN = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def _grouped(chars: str) -> str:
    return "-".join(chars[i : i + 4] for i in range(0, LENGTH, 4))


def _encode(number: int) -> str:
    chars = []
    for _ in range(LENGTH):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    return _grouped("".join(reversed(chars)))


def new_case_id() -> str:
    return _encode(secrets.randbits(5 * LENGTH))


def case_id_for_key(key: str, shop: str | None = None) -> str:
    """The case id an idempotency key stands for: the same key always opens the same case,
    with no table to look it up in (any client, any process, any retry). The same key in
    two shops is two cases; the first shop (`shop` None) keeps the ids keys had before."""
    name = f"complaints/open/{key}" if shop is None else f"complaints/open/{shop}/{key}"
    digest = hashlib.sha256(name.encode()).digest()
    return _encode(int.from_bytes(digest[:8]) >> (64 - 5 * LENGTH))


def read_case_id(text: str) -> str:
    """A case id as staff typed it, in its one written form. Ids of the old form (8 hex
    digits) and anything unknown pass through lower-cased, to be refused by the lookup."""
    typed = text.strip().lower()
    plain = typed.replace("-", "").replace(" ", "").translate(_READ_AS)
    return _grouped(plain) if _PLAIN.match(plain) else typed

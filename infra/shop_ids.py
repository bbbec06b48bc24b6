"""Shop ids, and the workflow ids that carry them.

A shop id is eight characters of Crockford's base32 in two groups (`k7qm-3xd9`), read out
and typed like a case id. The first shop (the one a single-shop database becomes when it is
upgraded, and the one a fresh install starts with) is `0000-0000`.

A case's workflow id carries its shop: `complaint-<shop>-<case>`. The first shop's cases
keep the form they had before there were shops, `complaint-<case>`, so cases that were
running when a deployment upgraded keep their ids, and every client spells them one way.
"""

import re
import secrets

from infra.case_ids import ALPHABET

FIRST_SHOP = "0000-0000"
PREFIX = "complaint-"
_READ_AS = str.maketrans({"i": "1", "l": "1", "o": "0"})
_SHOP = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def new_shop_id() -> str:
    number = secrets.randbits(40)
    chars = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(8)))
    shop = f"{chars[:4]}-{chars[4:]}"
    return new_shop_id() if shop == FIRST_SHOP else shop


def read_shop_id(text: str) -> str:
    """A shop id as someone typed it, in its written form (case and spaces ignored)."""
    plain = text.strip().lower().replace("-", "").replace(" ", "")
    plain = plain.translate(_READ_AS)
    shop = f"{plain[:4]}-{plain[4:]}"
    return shop if _SHOP.match(shop) else text.strip()


def is_shop_id(text: str) -> bool:
    return bool(_SHOP.match(text))


def workflow_id(shop: str, case_id: str) -> str:
    return f"{PREFIX}{case_id}" if shop == FIRST_SHOP else f"{PREFIX}{shop}-{case_id}"


def shop_of(workflow_id: str) -> str:
    """The shop a case's (or a case's child's) workflow id belongs to."""
    rest = workflow_id.removeprefix(PREFIX)
    groups = rest.split("-")
    # A case id is three groups (`h00g-fans-atey`): with a shop in front, five.
    if rest != workflow_id and len(groups) == 5 and _SHOP.match(rest[:9]):
        return rest[:9]
    return FIRST_SHOP


def case_of(workflow_id: str) -> str:
    rest = workflow_id.removeprefix(PREFIX)
    shop = shop_of(workflow_id)
    return rest if shop == FIRST_SHOP else rest[len(shop) + 1 :]

"""Case and workflow ids as every client must spell them."""

import re
import unicodedata

from app.refusals import NotFound
from infra import shop_ids
from infra.case_ids import read_case_id
from infra.settings import Settings
from store import scope

_SANE = re.compile(r"^[0-9a-z_-]{1,40}$")  # anything else names no case (never sent on)


def workflow_id(case_id: str) -> str:
    """The workflow id of this case of the shop the caller acts for: another shop's case id
    names no workflow, so Temporal answers it as an unknown case."""
    return shop_ids.workflow_id(scope.shop_now(), case_id)


def case_link(settings: Settings, case_id: str) -> str:
    namespace = settings.temporal_namespace
    return f"{settings.ui_url}/namespaces/{namespace}/workflows/{workflow_id(case_id)}"


def typed_case_id(text: str) -> str:
    """The case id staff typed, in its written form; None-like garbage stays as typed."""
    return read_case_id(text)


def plausible(case_id: str) -> bool:
    return bool(_SANE.match(case_id))


def case_id_of(text: str) -> str:
    """The case id as typed, or NotFound when it cannot name a case at all."""
    case_id = typed_case_id(text)
    if not plausible(case_id):
        raise NotFound(f"no case {case_id!r}: check the id with `complaints list`")
    return case_id


MAX_KEY = 200


def idempotency_key(text: str | None) -> str | None:
    """An idempotency key in its one form, whichever door it came through: trimmed and in
    Unicode NFC, so `주문-1` typed on a Mac (decomposed) and on Windows name one case."""
    if text is None:
        return None
    key = unicodedata.normalize("NFC", text).strip()
    if not key:
        raise ValueError("the idempotency key must not be empty")
    if len(key) > MAX_KEY:
        raise ValueError(f"the idempotency key is longer than {MAX_KEY} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in key):
        raise ValueError("the idempotency key contains control or invisible characters")
    return key


def header_text(raw: str) -> str:
    """An HTTP header's text as the client wrote it: servers read header bytes as Latin-1,
    so UTF-8 bytes (a Korean key) arrive mis-decoded; read them again as UTF-8."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw

"""Case and workflow ids as every client must spell them."""

import re

from infra.case_ids import read_case_id
from infra.settings import Settings

_SANE = re.compile(r"^[0-9a-z_-]{1,40}$")  # anything else names no case (never sent on)


def workflow_id(case_id: str) -> str:
    return f"complaint-{case_id}"


def case_link(settings: Settings, case_id: str) -> str:
    namespace = settings.temporal_namespace
    return f"{settings.ui_url}/namespaces/{namespace}/workflows/{workflow_id(case_id)}"


def typed_case_id(text: str) -> str:
    """The case id staff typed, in its written form; None-like garbage stays as typed."""
    return read_case_id(text)


def plausible(case_id: str) -> bool:
    return bool(_SANE.match(case_id))

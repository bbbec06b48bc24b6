"""Times for scripts: ISO 8601 with the shop's offset, never bare UTC."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter

_DURATION = TypeAdapter(timedelta)


def in_zone(value: Any, zone: ZoneInfo) -> Any:
    """`value` (a model, or plain data) as JSON-ready data with every time in `zone`."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, timedelta):
        return _DURATION.dump_python(value, mode="json")  # ISO 8601, as pydantic writes it
    if isinstance(value, dict):
        return {str(k): in_zone(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [in_zone(v, zone) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)  # dates, decimals, uuids

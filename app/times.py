"""Times for scripts: ISO 8601 with the shop's offset, never bare UTC."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter

_DURATION = TypeAdapter(timedelta)


def in_zone(value: Any, zone: ZoneInfo) -> Any:
    """`value` (a model, or plain data) as JSON-ready data with every time in `zone`."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    if isinstance(value, datetime):
        if not value.tzinfo:
            return value.isoformat()
        local = value.astimezone(zone)
        offset = local.utcoffset()
        if offset is not None and offset.seconds % 60:
            # A zone's local mean time before standard time (Seoul until 1908: +08:27:52)
            # has an offset in seconds, which RFC 3339 cannot write: such instants go as UTC.
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return local.isoformat()
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

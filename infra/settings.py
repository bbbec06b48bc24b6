"""One settings object, read from the environment (Temporal's own variables honoured)."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.model import Motive, ResponseTargets
from domain.policy import DEFAULT_ESCALATION_CONTACTS, response_targets

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(value: Any) -> Any:
    """Accept '24h', '4h30m', '2d', '45s' and '90' (seconds) besides pydantic's own forms."""
    if isinstance(value, str) and value.strip().lower() in ("0", "0s", "0m", "0h", "0d"):
        raise ValueError("a response target must be longer than zero")
    if isinstance(value, str):
        text = value.strip().lower()
        if text.replace(".", "", 1).isdigit():
            return timedelta(seconds=float(text))
        match = _DURATION.match(text)
        if match and text:
            d, h, m, s = match.groups()
            return timedelta(
                days=int(d or 0), hours=int(h or 0), minutes=int(m or 0), seconds=float(s or 0)
            )
        if not text.startswith("p"):
            raise ValueError(f"{value!r} is not a duration; write e.g. 24h, 4h30m, 2d or 90s")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("a response target must be longer than zero")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]


def explain(err: ValidationError) -> str:
    """A validation error as one line: `field: reason; field: reason`."""
    parts = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "input"
        message = str(e["ctx"]["error"]) if "error" in e.get("ctx", {}) else e["msg"]
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMPLAINTS_", extra="ignore", populate_by_name=True
    )

    temporal_address: str = Field(
        "localhost:7233",
        validation_alias=AliasChoices("TEMPORAL_ADDRESS", "COMPLAINTS_TEMPORAL_ADDRESS"),
    )
    temporal_namespace: str = Field(
        "default",
        validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "COMPLAINTS_TEMPORAL_NAMESPACE"),
    )
    task_queue: str = "complaints"
    ui_url: str = "http://localhost:8233"

    # Unset: the embedded PostgreSQL under data_dir.
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "COMPLAINTS_DATABASE_URL")
    )
    data_dir: Path = Path(".data")

    response_target: Duration = timedelta(hours=24)
    # Per motive, as JSON: COMPLAINTS_RESPONSE_TARGETS='{"protect_others": "4h"}'
    response_targets: dict[Motive, Duration] = {}
    warn_fraction: float = Field(0.75, gt=0, lt=1)
    escalation_contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS
    language: Literal["ko", "en"] = "ko"
    webhook_url: str | None = None
    log_format: Literal["auto", "json", "console"] = "auto"

    @classmethod
    def load(cls) -> "Settings":
        """From the environment; a bad value stops the program with one clear line."""
        try:
            return cls()
        except ValidationError as err:
            raise SystemExit(f"configuration error: {explain(err)}") from None

    def targets_for(self, motive: Motive) -> ResponseTargets:
        return response_targets(
            motive,
            self.response_target,
            self.warn_fraction,
            self.response_targets,
            self.escalation_contacts,
        )

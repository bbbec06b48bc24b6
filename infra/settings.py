"""One settings object, read from the environment (Temporal's own variables honoured)."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.model import CarePolicy, Motive, RemedyTerms, ResponseTargets
from domain.policy import DEFAULT_ESCALATION_CONTACTS, DEFAULT_FIRST_RESPONSE, response_targets

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
    # On SIGTERM or SIGINT the worker stops polling and gives activities in flight this long.
    shutdown_grace: Duration = timedelta(seconds=10)
    # How long `complaints open` waits for a worker to store the opening before it says
    # the case will be stored once a worker runs (exit code 3).
    open_wait: Duration = timedelta(seconds=15)
    ui_url: str = "http://localhost:8233"

    # Unset: the embedded PostgreSQL under data_dir.
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "COMPLAINTS_DATABASE_URL")
    )
    data_dir: Path = Path(".data")

    response_target: Duration = timedelta(hours=24)
    # Per motive, as JSON: COMPLAINTS_RESPONSE_TARGETS='{"protect_others": "4h"}'
    response_targets: dict[Motive, Duration] = {}
    # The apology's own target per motive, as JSON; a public review gets 4 h by default.
    first_response_targets: dict[Motive, Duration] = dict(DEFAULT_FIRST_RESPONSE)
    warn_fraction: float = Field(0.75, gt=0, lt=1)
    customer_wait: Duration = timedelta(hours=72)
    follow_up_after: Duration = timedelta(days=7)
    follow_up_window: Duration = timedelta(days=7)
    improvement_report_after: Duration = timedelta(days=1)
    reopen_at_or_below: int = Field(2, ge=1, le=4)
    # Amounts are the shop's: COMPLAINTS_REMEDY_TERMS='{"partial_refund_percent": 30}'
    remedy_terms: RemedyTerms = RemedyTerms()
    silver_from_visits: int = Field(3, ge=1)
    gold_from_visits: int = Field(5, ge=1)
    escalation_contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS
    language: Literal["ko", "en"] = "ko"
    timezone: str = "Asia/Seoul"  # dates typed at the CLI are the shop's dates
    webhook_url: str | None = None
    log_format: Literal["auto", "json", "console"] = "auto"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; e.g. Asia/Seoul or UTC") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

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
            self.first_response_targets,
        )

    def care_policy(self) -> CarePolicy:
        return CarePolicy(
            remedies=self.remedy_terms,
            customer_wait=self.customer_wait,
            follow_up_after=self.follow_up_after,
            follow_up_window=self.follow_up_window,
            improvement_report_after=self.improvement_report_after,
            reopen_at_or_below=self.reopen_at_or_below,
        )

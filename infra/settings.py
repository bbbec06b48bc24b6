"""One settings object, read from the environment (Temporal's own variables honoured)."""

import base64
import ipaddress
import json
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.calendar import BusinessCalendar, ExtraOpening
from domain.errors import InvalidPhone
from domain.messages import TEMPLATES
from domain.model import CarePolicy, Motive, RemedyTerms, ResponseTargets, Step
from domain.phone import normalize_phone
from domain.policy import DEFAULT_ESCALATION_CONTACTS, DEFAULT_FIRST_RESPONSE, response_targets
from infra.calendar import (
    DEFAULT_OPENING_HOURS,
    check_calendar,
    quiet_hours,
    shop_calendar,
    snapshot_years,
)
from infra.keys import SHOP_KEY, parse_keys, shop_keys_folder

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(value: Any) -> Any:
    """Accept '24h', '4h30m', '2d', '45s' and '90' (seconds) besides pydantic's own forms."""
    if isinstance(value, str) and value.strip().lower() in ("0", "0s", "0m", "0h", "0d"):
        raise ValueError("a response target must be longer than zero")
    if isinstance(value, str):
        text = value.strip().lower()
        if text.replace(".", "", 1).isdigit():
            try:
                return timedelta(seconds=float(text))
            except OverflowError:
                raise ValueError(f"{value!r} is longer than {MAX_DURATION.days} days") from None
        match = _DURATION.match(text)
        if match and text:
            d, h, m, s = match.groups()
            try:
                return timedelta(
                    days=int(d or 0), hours=int(h or 0), minutes=int(m or 0), seconds=float(s or 0)
                )
            except OverflowError:
                raise ValueError(f"{value!r} is longer than {MAX_DURATION.days} days") from None
        if not text.startswith("p"):
            raise ValueError(f"{value!r} is not a duration; write e.g. 24h, 4h30m, 2d or 90s")
    return value


# No rule of the method waits longer than a year; anything longer is a typo (and past the
# calendar's reach: a due time in the year 10000 does not exist).
MAX_DURATION = timedelta(days=366)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("a response target must be longer than zero")
    if value > MAX_DURATION:
        raise ValueError(f"is longer than {MAX_DURATION.days} days; write e.g. 24h, 4h30m or 2d")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]


def explained(err: ValidationError) -> list[tuple[str, str]]:
    """A validation error as (field, reason) pairs, each reason in plain words."""
    parts = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"])  # empty: the value itself
        parts.append((field, _reason(e)))
    return parts


def _reason(e: Any) -> str:
    ctx = e.get("ctx", {})
    if "error" in ctx:
        return str(ctx["error"])
    kind = e["type"]
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "string_too_short":
        return f"must be at least {ctx['min_length']} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "missing":
        return "is required"
    return str(e["msg"])


def explain(err: ValidationError) -> str:
    """A validation error as one line: `field: reason; field: reason`."""
    return "; ".join(f"{field}: {reason}" if field else reason for field, reason in explained(err))


Mode = Literal["wall", "business"]
_MODE_KEYS = (
    {"default"}
    | {m.value for m in Motive}
    | {s.value for s in Step}
    | {f"{m.value}.{s.value}" for m in Motive for s in Step}
)


def target_modes(value: str) -> dict[str, Mode]:
    """COMPLAINTS_TARGET_MODE as a mapping: a bare mode is the default for every case."""
    text = value.strip()
    if text in ("wall", "business"):
        return {"default": text}  # type: ignore[dict-item]
    try:
        raw = json.loads(text)
    except ValueError:
        raise ValueError(
            f"{value!r}: write wall, business, or JSON such as "
            '{"default": "business", "apologize": "wall"}'
        ) from None
    if not isinstance(raw, dict):
        raise ValueError(f"{value!r}: a JSON object of step or motive -> wall|business")
    for key, mode in raw.items():
        if key not in _MODE_KEYS:
            raise ValueError(
                f"{key!r} is not a step, a motive, motive.step or default "
                f"(steps: {', '.join(s.value for s in Step)})"
            )
        if mode not in ("wall", "business"):
            raise ValueError(f"{key}: {mode!r} is not wall or business")
    return raw


def temporal_profile() -> tuple[str | None, str | None]:
    """The Temporal client profile's address and namespace: the TOML file
    (TEMPORAL_CONFIG_FILE or the default place), its profile (TEMPORAL_PROFILE or default),
    then TEMPORAL_* variables on top. With no file and no profile named, that is the two
    variables alone, read here: Temporal's own reader (Rust, behind the SDK's bindings) is
    a fifth of a second of imports that a command which never reaches Temporal skips."""
    if not os.environ.get("TEMPORAL_PROFILE") and not _temporal_config_file().exists():
        return os.environ.get("TEMPORAL_ADDRESS"), os.environ.get("TEMPORAL_NAMESPACE")
    from temporalio.envconfig import ClientConfigProfile

    try:
        profile = ClientConfigProfile.load()
    except Exception as err:  # a broken file: say which, in one line
        raise ValueError(f"Temporal client configuration: {err}") from None
    return profile.address, profile.namespace


def _temporal_config_file() -> Path:
    """Where Temporal's tools look for temporal.toml (its Rust core: the variable, else the
    user's configuration folder)."""
    named = os.environ.get("TEMPORAL_CONFIG_FILE")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    if sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    elif sys.platform == "win32":
        base = os.environ.get("APPDATA", base)
    return Path(base) / "temporalio" / "temporal.toml"


def _phone_region(value: str) -> str:
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{value!r} is not a region phone numbers are known for, e.g. KR, JP, US")
    return region


PhoneRegion = Annotated[str, AfterValidator(_phone_region)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMPLAINTS_", extra="ignore", populate_by_name=True
    )

    # Left empty, both come from Temporal's own configuration as every Temporal tool reads
    # it (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PROFILE, the temporal.toml file),
    # else localhost:7233 and default. API key and TLS come from there too (infra.connection).
    temporal_address: str = Field(
        "", validation_alias=AliasChoices("COMPLAINTS_TEMPORAL_ADDRESS", "temporal_address")
    )
    temporal_namespace: str = Field(
        "", validation_alias=AliasChoices("COMPLAINTS_TEMPORAL_NAMESPACE", "temporal_namespace")
    )
    task_queue: str = "complaints"
    # On SIGTERM or SIGINT the worker stops polling and gives activities in flight this long.
    shutdown_grace: Duration = timedelta(seconds=10)
    # Run cases in Temporal's workflow sandbox, which refuses a call that would not replay
    # (the clock, randomness, files) and imports the workflow's module afresh for every
    # case: a guard for code under development, about a seventh of a loaded worker's CPU. The
    # workflow tests and the replay of recorded cases run with it (docs/decisions.md).
    workflow_sandbox: bool = False
    # How long `complaints open` waits for a worker to store the opening before it says
    # the case will be stored once a worker runs (exit code 3).
    open_wait: Duration = timedelta(seconds=15)
    # At most this many cases a shop opens in a minute, through every door together (counted
    # in PostgreSQL): one shop's flood (a misbehaving integration) is refused (429) before it
    # slows every other shop on the deployment down.
    shop_openings_per_minute: int = Field(120, ge=1)
    ui_url: str = "http://localhost:8233"
    # Where staff reach the service's own pages (the API's app): links in staff notices and
    # sign-in links start with it.
    public_url: str = "http://localhost:8000"
    # The CLI acts as this staff member (a name `complaints staff list` shows).
    staff: str | None = None
    # The shop the CLI acts for (`complaints shop list` shows the ids); unset, the staff
    # member's only shop.
    shop: str = ""
    # The HTTP API (`make run`, `make api`): where uvicorn listens.
    api_port: int = Field(8000, ge=1, le=65535)
    api_host: str = "127.0.0.1"  # 0.0.0.0 in a container

    # Unset: the embedded PostgreSQL under data_dir.
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "COMPLAINTS_DATABASE_URL")
    )
    data_dir: Path = Path(".data")
    database_pool_size: int = Field(10, ge=1, le=1000)
    # asyncpg's prepared-statement cache; PgBouncer in transaction mode needs 0.
    database_statement_cache_size: int = Field(100, ge=0)

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
    # How a phone number written without "+" is read (ISO 3166 region, e.g. KR, JP, US).
    phone_region: PhoneRegion = "KR"
    timezone: str = "Asia/Seoul"  # dates typed at the CLI are the shop's dates
    # The business calendar: JSON weekday -> "10:00-19:00" or null (unset: Mon-Fri 10-19),
    # public holidays of a country (KR; empty: none), and whether response targets count
    # wall-clock hours or only open hours.
    opening_hours: str = ""
    # Regular closing days: "mon", "2nd,4th sun", "last fri"; several joined by ";".
    closed_every: str = ""
    holidays: str = "KR"
    # "wall", "business", or per step and motive as JSON, the most specific key winning:
    # '{"default": "business", "apologize": "wall", "protect_others.apologize": "wall"}'
    # ("motive.step", then step, then motive, then "default").
    target_mode: str = "wall"
    quiet_hours: str = "21:00-09:00"
    # Staff reminders wait for opening hours (false: around the clock, e.g. a 24-hour shop).
    hold_staff_notices: bool = True
    # Escalations to the owner at night: held until opening unless this is set (a case that
    # protects other customers always goes through).
    owner_at_night: bool = False
    # A reply to a public review is posted no sooner than this, at an opening time.
    review_cool_off: Duration = timedelta(hours=8)
    # An offer the customer never answers closes the case as unanswered after this long.
    unanswered_close_after: Duration = timedelta(days=14)
    # Notices POSTed here, signed with the secret (Standard Webhooks); unset: a log line.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None  # whsec_<base64>, as Standard Webhooks has it
    webhook_timeout: Duration = timedelta(seconds=10)
    log_format: Literal["auto", "json", "console"] = "auto"
    # Customer messages: KakaoTalk notifications (알림톡) with an SMS/LMS fallback, through
    # SOLAPI (`solapi`, with the key, secret, sender number, channel and template ids below),
    # the stand-in provider on COMPLAINTS_STANDIN_PORT (`standin`: `make run`'s default, no
    # account needed), or none (`off`: the default elsewhere, so nothing reaches a customer
    # by accident; customer notices then go where staff notices go, as before).
    messages: Literal["standin", "solapi", "off"] = "off"
    solapi_url: str = "https://api.solapi.com"
    solapi_api_key: SecretStr | None = None
    solapi_api_secret: SecretStr | None = None
    sender_number: str | None = None  # registered with the provider in advance
    kakao_channel_id: str | None = None  # the KakaoTalk channel's pfId
    # Notice kind -> the provider's approved template id, as JSON (`complaints templates`).
    message_templates: dict[str, str] = {}
    # Staff notices by text message as well (with messages on), by the notice's recipient:
    # '{"staff": "010-1111-2222", "owner": "010-3333-4444"}' (staff, or an escalation
    # contact's name). The text carries the case's link, never the customer's details.
    staff_phones: dict[str, str] = {}
    messages_timeout: Duration = timedelta(seconds=10)
    standin_port: int = Field(8025, ge=1, le=65535)
    # Customer links (/c/<token>): signed with this, else with a key derived from the
    # payload keys; valid this long after the message goes out.
    link_secret: SecretStr | None = None
    link_ttl: Duration = timedelta(days=14)
    # Payload encryption: key id -> base64 of 32 bytes, as JSON; the active id encrypts,
    # every listed key decrypts (keep old ones after a rotation). Unset: the key `make run`
    # keeps in the data folder, if any.
    codec_keys: dict[str, SecretStr] = {}
    codec_key_id: str = ""
    # Keys per shop: a folder with one random secret per shop (a file named for the shop
    # id, mode 0600), each shop's key derived from it and the master key above. Destroying a
    # shop's file leaves that shop's histories unreadable. Every process that seals or opens
    # payloads (workers, the API's /codec, the CLI) reads the same folder. Unset: `shop-keys`
    # in the data folder.
    shop_keys: Path | None = None
    # The worker's Prometheus endpoint (http://HOST:PORT/metrics); 0 turns it off. The CLI
    # never serves one. The host is an IP address: 0.0.0.0 (or ::) in a container.
    metrics_port: int = Field(9464, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # How often each worker reads its gauges (overdue cases, unsent notices, ...) from
    # PostgreSQL for that endpoint.
    gauges_every: Duration = timedelta(seconds=15)
    # The worker's `/ready` (and `complaints_worker_ready`) turn to 503 (0) once Temporal has
    # not answered it for this long; PostgreSQL not answering does so at the next check (5 s).
    temporal_grace: Duration = timedelta(seconds=30)
    # How long a closed case keeps its customer's name and phone (`complaints retention`,
    # a Temporal Schedule daily): `3y` (the default: the 3-year record some businesses must
    # keep), `400d`, or `off` (kept until `complaints forget`).
    retention: str = "3y"
    # Keeping customers. Advertising messages name the shop and how to reach it (the law
    # asks for both); the contact is the sender number unless set.
    shop_name: str = Field("", max_length=40)
    shop_contact: str = Field("", max_length=40)
    # A customer not seen this long gets one keep-in-touch message (with a basis, at allowed
    # hours), once per visit they follow.
    keep_in_touch_after: Duration = timedelta(days=90)
    # Referral rewards: both sides' discount on the next visit, and a free check-up for the
    # referrer on every Nth referral.
    referral_discount_percent: int = Field(10, ge=0, le=100)
    referrer_discount_percent: int = Field(10, ge=0, le=100)
    referrals_for_free_check: int = Field(3, ge=1)
    # Online sellers keep a minimal record of consumer complaints for 3 years: when set,
    # `forget` keeps it (dates, motive, outcome, remedy; no name, phone or free text) apart.
    complaint_records_hold: bool = False
    complaint_records_years: int = Field(3, ge=1, le=10)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; e.g. Asia/Seoul or UTC") from None
        return value

    @model_validator(mode="after")
    def _temporal_profile(self) -> Self:
        if not (self.temporal_address and self.temporal_namespace):
            address, namespace = temporal_profile()
            if not self.temporal_address:
                self.temporal_address = address or "localhost:7233"
            if not self.temporal_namespace:
                self.temporal_namespace = namespace or "default"
        return self

    @field_validator("metrics_host")
    @classmethod
    def _ip_address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value.strip())
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IP address; e.g. 127.0.0.1, or 0.0.0.0 in a container"
            ) from None
        return value.strip()

    @property
    def metrics_address(self) -> str | None:
        """HOST:PORT for the metrics endpoint, None when it is off."""
        if not self.metrics_port:
            return None
        host = ipaddress.ip_address(self.metrics_host)
        return (
            f"[{host}]:{self.metrics_port}" if host.version == 6 else f"{host}:{self.metrics_port}"
        )

    @field_validator("target_mode")
    @classmethod
    def _modes(cls, value: str) -> str:
        target_modes(value)
        return value

    @property
    def default_mode(self) -> Mode:
        """How targets count unless a step or motive says otherwise."""
        return target_modes(self.target_mode).get("default", "wall")

    def modes_for(self, motive: Motive) -> tuple[Mode, dict[Step, Mode]]:
        """The case's default mode and the steps counted otherwise, for `motive`."""
        modes = target_modes(self.target_mode)
        default = modes.get(motive.value, modes.get("default", "wall"))
        steps = {
            step: modes.get(f"{motive.value}.{step.value}", modes.get(step.value, default))
            for step in Step
        }
        return default, {step: mode for step, mode in steps.items() if mode != default}

    @field_validator("opening_hours", "closed_every", "holidays", "quiet_hours")
    @classmethod
    def _calendar(cls, value: str, info: ValidationInfo) -> str:
        """A bad calendar is a configuration error at start, in one line, under the name of
        the setting to fix: its variable at start, its rule key in the owner's rulebook. The
        checks need the zone and the hours, read before these fields."""
        zone = info.data.get("timezone")
        if zone is None:
            return value  # the zone itself was refused, under its own name
        hours = info.data.get("opening_hours") or DEFAULT_OPENING_HOURS
        match info.field_name:
            case "opening_hours":
                check_calendar(zone, value or DEFAULT_OPENING_HOURS, None)
            case "closed_every":
                check_calendar(zone, hours, None, value)
            case "holidays":
                check_calendar(zone, hours, value)
            case _:
                quiet_hours(value, zone)
        return value

    def calendar(
        self,
        closures: Iterable[date] = (),
        now: datetime | None = None,
        openings: Iterable[ExtraOpening] = (),
        years: Iterable[int] | None = None,
    ) -> BusinessCalendar:
        """The shop's calendar as a case opened `now` snapshots it (the holidays of
        `years`, else of `now`'s year and the next)."""
        return shop_calendar(
            self.timezone,
            self.opening_hours or DEFAULT_OPENING_HOURS,
            self.holidays,
            snapshot_years(now or datetime.now(UTC)) if years is None else years,
            closures,
            self.closed_every,
            openings,
        )

    @field_validator("codec_keys")
    @classmethod
    def _aes_keys(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        parse_keys({k: v.get_secret_value() for k, v in value.items()})
        for key_id in value:
            if key_id.startswith(SHOP_KEY):
                raise ValueError(f"key id {key_id!r}: ids starting {SHOP_KEY!r} name shops' keys")
        return value

    @property
    def shop_keys_folder(self) -> Path:
        return self.shop_keys or shop_keys_folder(self.data_dir)

    @model_validator(mode="after")
    def _active_key(self) -> Self:
        if self.codec_keys and not self.codec_key_id:
            if len(self.codec_keys) > 1:
                raise ValueError("COMPLAINTS_CODEC_KEY_ID must name the active key of several")
            self.codec_key_id = next(iter(self.codec_keys))
        if self.codec_keys and self.codec_key_id not in self.codec_keys:
            raise ValueError(f"COMPLAINTS_CODEC_KEY_ID {self.codec_key_id!r} is not a key")
        return self

    @field_validator("webhook_url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _standard_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        text = value.get_secret_value()
        try:
            key = base64.b64decode(text.removeprefix("whsec_"), validate=True)
            if not text.startswith("whsec_") or len(key) < 16:
                raise ValueError
        except ValueError:
            raise ValueError(
                "not a Standard Webhooks secret: write whsec_ followed by base64, e.g. "
                "whsec_$(openssl rand -base64 32)"
            ) from None
        return value

    @model_validator(mode="after")
    def _signed_webhooks(self) -> Self:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "COMPLAINTS_WEBHOOK_SECRET is required with COMPLAINTS_WEBHOOK_URL: every "
                "notice is signed (e.g. whsec_$(openssl rand -base64 32))"
            )
        return self

    @model_validator(mode="after")
    def _staff_phones(self) -> Self:
        known = ("staff", *self.escalation_contacts)
        for recipient, phone in self.staff_phones.items():
            if recipient not in known:
                raise ValueError(
                    f"COMPLAINTS_STAFF_PHONES: {recipient!r} is no recipient of staff notices "
                    f"(one of {', '.join(known)})"
                )
            try:
                self.staff_phones[recipient] = normalize_phone(phone, self.phone_region)
            except InvalidPhone as err:
                raise ValueError(f"COMPLAINTS_STAFF_PHONES: {recipient}: {err}") from None
        if self.staff_phones and self.messages == "off":
            raise ValueError("COMPLAINTS_STAFF_PHONES needs COMPLAINTS_MESSAGES=standin or solapi")
        return self

    @model_validator(mode="after")
    def _message_provider(self) -> Self:
        if self.messages != "solapi":
            return self
        required = {
            "COMPLAINTS_SOLAPI_API_KEY": self.solapi_api_key,
            "COMPLAINTS_SOLAPI_API_SECRET": self.solapi_api_secret,
            "COMPLAINTS_SENDER_NUMBER": self.sender_number,
            "COMPLAINTS_KAKAO_CHANNEL_ID": self.kakao_channel_id,
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise ValueError(
                f"{', '.join(missing)} {verb} required with COMPLAINTS_MESSAGES=solapi"
            )
        unset = [kind for kind in TEMPLATES if not self.message_templates.get(kind)]
        if unset:
            raise ValueError(
                "COMPLAINTS_MESSAGE_TEMPLATES lacks the approved template id of "
                f"{', '.join(unset)} (JSON kind -> id; `complaints templates` lists them)"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def records_hold_years(self) -> int | None:
        """How long `forget` (by hand or by retention) keeps the minimal complaint records;
        None when the shop is not subject to the hold."""
        return self.complaint_records_years if self.complaint_records_hold else None

    @classmethod
    def load(cls) -> "Settings":
        """From the environment; a bad value stops the program with one clear line."""
        try:
            return cls()
        except ValidationError as err:
            raise SystemExit(f"configuration error: {cls.explain(err)}") from None

    @classmethod
    def explain(cls, err: ValidationError) -> str:
        """A bad environment as one line, each value named by its variable."""
        return "; ".join(
            f"{cls.variable(field)}: {reason}" if field else reason
            for field, reason in explained(err)
        )

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable behind a field (or `field.key` of a JSON one), as the
        operator typed it: COMPLAINTS_PHONE_REGION, not phone_region."""
        name, dot, rest = field.partition(".")
        info = cls.model_fields.get(name)
        if info is None:
            return field  # already the variable (an alias)
        alias = info.validation_alias
        first = alias.choices[0] if isinstance(alias, AliasChoices) else None
        env = first if isinstance(first, str) else f"COMPLAINTS_{name.upper()}"
        return env + dot + rest

    def targets_for(
        self, motive: Motive, calendar: BusinessCalendar | None = None
    ) -> ResponseTargets:
        """The targets a new case gets; in business mode counted over `calendar` (the shop's
        calendar with its closures, as the rulebook activity reads it)."""
        targets = response_targets(
            motive,
            self.response_target,
            self.warn_fraction,
            self.response_targets,
            self.escalation_contacts,
            self.first_response_targets,
        )
        # The calendar comes along in wall mode too: staff reminders wait for opening hours.
        mode, step_modes = self.modes_for(motive)
        return targets.model_copy(
            update={
                "mode": mode,
                "step_modes": step_modes,
                "calendar": calendar or self.calendar(),
            }
        )

    def care_policy(self) -> CarePolicy:
        return CarePolicy(
            remedies=self.remedy_terms,
            customer_wait=self.customer_wait,
            follow_up_after=self.follow_up_after,
            follow_up_window=self.follow_up_window,
            improvement_report_after=self.improvement_report_after,
            reopen_at_or_below=self.reopen_at_or_below,
            quiet_hours=quiet_hours(self.quiet_hours, self.timezone),
            hold_staff_notices=self.hold_staff_notices,
            owner_at_night=self.owner_at_night,
            review_cool_off=self.review_cool_off,
            unanswered_close_after=self.unanswered_close_after,
            customer_messages=self.messages != "off",
            language=self.language,
            contacts=self.escalation_contacts,
        )

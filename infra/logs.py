"""structlog set-up: JSON in production, readable on a terminal; never customer PII.

Every line goes through the same processors, whoever writes it: our own structlog calls, the
Python loggers of the Temporal SDK (`temporalio.workflow`, `temporalio.activity`,
`temporalio.worker`, ...) through structlog's ProcessorFormatter, and Temporal core's Rust
logs, which infra.telemetry forwards to the Python logger `temporalio.core`. So in JSON mode
each line is one JSON object (a traceback is its `exception` field), with `case_id`,
`workflow_id` and `run_id` wherever they are known.
"""

import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor
from temporalio import activity, workflow

from infra import shop_ids

WORKFLOW_ID_PREFIX = shop_ids.PREFIX  # workflow ids `complaint-[<shop>-]<case id>`

# The SDK's context dicts, flattened; the activity's `workflow_run_id` is the run's id.
_RENAMED = {"workflow_run_id": "run_id"}
_CORE_CONTEXT = ("workflow_id", "run_id", "task_queue", "namespace", "activity_id")


def _sdk_context(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """The context the Temporal SDK puts on a stdlib record, as fields of the line:
    `temporal_workflow` / `temporal_activity` (its workflow and activity loggers),
    `temporal_log` (a core log line: its target and fields), and `case_id` given as extra."""
    record: logging.LogRecord | None = event_dict.get("_record")
    if record is None:
        return event_dict
    for name in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, name, None)
        if isinstance(details, Mapping):
            for key, value in details.items():
                name = str(key)
                event_dict.setdefault(_RENAMED.get(name, name), value)
    core = getattr(record, "temporal_log", None)
    if core is not None:
        event_dict["target"] = core.target
        try:
            fields = dict(core.fields or {})
        except Exception:  # the SDK's own conversion; never lose the line over it
            fields = {}
        for key in _CORE_CONTEXT:
            if key in fields:
                event_dict.setdefault(key, fields.pop(key))
        if fields:
            event_dict["fields"] = fields
    case_id = getattr(record, "case_id", None)
    if case_id is not None:
        event_dict.setdefault("case_id", case_id)
    return event_dict


def _case_from_workflow(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """A line naming a case's workflow names the case too."""
    workflow_id = event_dict.get("workflow_id")
    if (
        "case_id" not in event_dict
        and isinstance(workflow_id, str)
        and workflow_id.startswith(WORKFLOW_ID_PREFIX)
    ):
        event_dict["case_id"] = shop_ids.case_of(workflow_id)
        event_dict.setdefault("shop", shop_ids.shop_of(workflow_id))
    return event_dict


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=(kind, error, tb))


def pretty(fmt: str = "auto", stream: TextIO | None = None) -> bool:
    """Whether `fmt` means the readable console format on `stream` (stderr): `console`, or
    `auto` on a terminal; else every line is JSON."""
    return fmt == "console" or (fmt == "auto" and (stream or sys.stderr).isatty())


def configure(fmt: str = "auto", level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Log to `stream` (stderr): JSON, `console` (pretty), or `auto` (pretty on a terminal)."""
    stream = stream or sys.stderr
    renderer: Processor = (
        structlog.dev.ConsoleRenderer()
        if pretty(fmt, stream)  # Korean stays readable in JSON logs too
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    # Our own lines: rendered here and written whole, one write per line.
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            timestamper,
            _case_from_workflow,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    # Python's logging (the Temporal SDK, core's forwarded lines, libraries): the same fields.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                timestamper,
                _sdk_context,
                _case_from_workflow,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # A crash's traceback is a line like any other (JSON mode: its `exception` field).
    sys.excepthook = sys.__excepthook__ if pretty(fmt, stream) else _log_uncaught
    # The context is in the line's fields; the SDK need not append it to the message too.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False

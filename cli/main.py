"""The entry point: parse, run the handler in a fresh context, print; a refusal is one line
on stderr and a non-zero exit.

Only the parser is read before the arguments are: the settings, the application layer and
the command's handler are imported once parsing is done, so `--help` and a usage mistake
answer at once, and each command reads only what it uses.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from cli.parser import parser

if TYPE_CHECKING:
    from app.context import Context
    from infra.settings import Settings

Handler = Callable[["Context", argparse.Namespace], Awaitable[str]]


def handler_of(args: argparse.Namespace) -> Handler:
    """The function in cli/handlers.py that the parsed command names."""
    handlers = importlib.import_module("cli.handlers")
    found: Handler = getattr(handlers, args.handler)
    return found


async def run(args: argparse.Namespace, settings: Settings) -> str:
    from app.context import Context

    handler = handler_of(args)
    async with Context(settings) as ctx:
        return await handler(ctx, args)


# A refused field as the CLI's user typed it: the application layer names fields as the
# API's bodies do (`what`), the CLI has flags (`--what`) and a positional text per step.
_STEP_TEXT = ("what", "customer_words", "cause", "plan", "measure", "reason")
_TYPED_AS: dict[str, dict[str, str]] = {
    "open": {
        **{f: f"--{f}" for f in ("name", "phone", "what", "channel", "motive")},
        "Idempotency-Key": "--key",
    },
    "analyze": {"fault": "--fault"},
    "offer": {"options": "--option", "override_reason": "--override"},
    "answer": {"choice": "--choose", "decline_reason": "--decline"},
    "rate": {"comment": "--comment"},
    "delay": {"until": "--until"},
    "visit": {"name": "--name"},
    "list": {"since": "--since"},
    "export": {"since": "--since"},
    "report": {"from": "--from", "to": "--to"},
}


def _typed_as(command: str | None) -> dict[str, str]:
    names = dict.fromkeys(_STEP_TEXT, "text") if command != "open" else {}
    return names | _TYPED_AS.get(command or "", {})


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"complaints: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import asyncio

    from pydantic import ValidationError

    from app.refusals import InvalidInput, Refusal
    from infra.settings import Settings, explain

    try:
        settings = Settings()
    except ValidationError as err:
        fail(Settings.explain(err))
    try:
        print(asyncio.run(run(args, settings)))
    except ValidationError as err:
        fail(explain(err))
    except InvalidInput as err:
        fail(err.spelled(_typed_as(args.command)), err.exit_code)
    except Refusal as err:
        fail(err.message, err.exit_code)
    return 0


def cli() -> None:
    """The console script. It skips interpreter teardown once its output is flushed: the
    Temporal core's threads can touch the GIL during finalization of a short-lived client
    process and crash it (temporalio/sdk-python#300, open)."""
    try:
        code = main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BrokenPipeError:
        code = 0  # the reader (`| head`) has what it wanted
    telemetry = sys.modules.get("infra.telemetry")  # read only by a command that connects
    if telemetry is not None:
        telemetry.flush()  # spans, when tracing is on: exit handlers do not run here
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)

"""`complaints retention [--dry-run]`: what the daily schedule does, now (store.retention)."""

from datetime import UTC, datetime

from app.context import Context
from app.identity import FORGET, Actor, require
from app.refusals import InvalidInput
from store import retention


async def run(
    ctx: Context, actor: Actor, dry_run: bool, now: datetime | None = None
) -> tuple[str, retention.Due | None]:
    """The period in force and what was due (None when retention is off)."""
    require(actor, FORGET)
    try:
        kept = retention.parse_retention(ctx.settings.retention)
    except ValueError as err:
        raise InvalidInput(f"COMPLAINTS_RETENTION: {err}") from None
    if kept is None:
        return "off", None
    cutoff = kept.cutoff(now or datetime.now(UTC))
    hold = ctx.settings.records_hold_years
    return str(kept), await retention.apply(await ctx.pool(), cutoff, dry_run, hold)

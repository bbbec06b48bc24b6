"""The shop's rulebook page (/staff/rules): everyone reads the rules, the calendar's next
days and the changes; the owner changes hours, regular closing days and rules; managers
close or open a day. A refusal is one line in the shop's language, nothing changed."""

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import calendar, rules
from app.refusals import InvalidInput, Refusal, Unauthorized
from app.sessions import Session
from pages.catalogue import Catalogue
from pages.routes import PageRoute, catalogue, context, posted, render, shop, signed_in

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# A refusal's reason, as the catalogue says it (the application layer words it in English).
_REASONS = (
    ("overlap or are out of order", "rules.err.overlap"),
    ("runs into the next day", "rules.err.spill"),
    ("at least one weekday", "rules.err.never_open"),
    ("no open hour in the coming year", "rules.err.never_open"),
    ("both closed and opened", "rules.err.both"),
    ("has a one-off extra opening", "rules.err.both"),
    ("is closed (", "rules.err.both"),
    ("is not a time of day", "rules.err.time"),
    ("is not a window", "rules.err.time"),
    ("opens and closes at", "rules.err.time"),
    ("is not a weekday", "rules.err.days"),
    ("does not end with a weekday", "rules.err.days"),
    ("is not a week of the month", "rules.err.days"),
)


def refusal_line(err: Refusal, t: Catalogue) -> str:
    """One line: what was wrong, in the shop's language, and that nothing changed."""
    for words, key in _REASONS:
        if words in err.message:
            return t(key)
    if t.language == "en":
        return err.message
    return t("rules.err.other", detail=err.message)


async def _page(
    request: Request, session: Session, error: Refusal | None = None, form: str | None = None
) -> HTMLResponse:
    ctx = context(request)
    t = catalogue(request)
    return render(
        request,
        "rules.html",
        error.status if error else 200,
        session=session,
        rules=await rules.show(ctx),
        days=await calendar.days_ahead(ctx, 14),
        changes=await rules.changes(ctx, 20),
        refused=refusal_line(error, t) if error else None,
        refused_form=form,
        done=request.query_params.get("done") == "1",
        tz=shop(request).zone,
    )


@router.get("/staff/rules")
async def rules_page(request: Request) -> HTMLResponse:
    return await _page(request, await signed_in(request))


@router.post("/staff/rules/{form}", response_model=None)
async def change(request: Request, form: str) -> Response:
    session, values = await posted(request)
    ctx, actor = context(request), session.actor
    try:
        if form == "hours":
            await rules.set_hours(ctx, actor, values.get("days", ""), values.get("periods", ""))
        elif form == "closed-every":
            await rules.set_closed_every(ctx, actor, values.get("closed_every", ""))
        elif form == "rule":
            value = values.get("value", "").strip()
            await rules.set_rules(ctx, actor, {values.get("key", ""): value or None})
        elif form == "close":
            await rules.close_day(ctx, actor, _day(values.get("day", "")), values.get("reason", ""))
        elif form == "open":
            await rules.open_day(
                ctx, actor, _day(values.get("day", "")), values.get("hours", ""),
                values.get("reason", ""),
            )  # fmt: skip
        else:
            return RedirectResponse("/staff/rules", status_code=303)
    except Refusal as err:
        if isinstance(err, Unauthorized):
            raise
        return await _page(request, session, err, form)
    return RedirectResponse("/staff/rules?done=1", status_code=303)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"day: {text!r} is not a date like 2026-12-08") from None

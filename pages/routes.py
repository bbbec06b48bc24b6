"""The staff pages' routes: each parses a form or a query, calls the application layer and
renders the result, or the refusal beside the field it is about. No SQL, no Temporal here.

Every POST but the sign-in carries the session's CSRF token; a successful one answers with a
redirect (post-redirect-get). No customer name or phone ever goes into a URL: opening a case
posts them, and the case page is found by the case id.
"""

import re
import uuid
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app import (
    admin,
    cases,
    customer_answers,
    customers,
    ids,
    inbox,
    keeping,
    photos,
    reads,
    sessions,
)
from app.context import Context
from app.identity import OVERRIDE, VISIT, WITHDRAW, Actor, Role
from app.refusals import Forbidden, InvalidInput, Refusal, Unauthorized
from app.sessions import LinkRefused, Session
from domain.clock import staff_due_at
from domain.model import CaseState, IntakeChannel, Motive, RemedyKind, RemedyTerms
from domain.phone import written_phone
from domain.photos import shown_inline
from domain.wording import when
from infra.settings import Settings
from pages import view
from pages.catalogue import Catalogue
from pages.refusals import Said, said

HERE = Path(__file__).resolve().parent
COOKIE = sessions.COOKIE
STEP_FORMS = ("apologize", "empathize", "analyze_cause", "offer_resolution", "show_prevention")
PAGE_SIZE = 20

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_CATALOGUES = {"ko": Catalogue("ko"), "en": Catalogue("en")}


class CsrfRefused(Forbidden):
    kind = "csrf"

    def __init__(self) -> None:
        super().__init__(
            "the form's CSRF token is missing or wrong: reload the page and send again"
        )


class PageRoute(APIRoute):
    """A refusal becomes a page in the shop's language, not problem+json; a page asked for
    without a session sends the person to the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            # The shop as the owner's rulebook has it (its language, its zone), for the
            # page and any refusal of it.
            request.state.shop = await context(request).shop_settings()
            try:
                return await handler(request)
            except Refusal as err:
                plain = isinstance(err, Unauthorized) and not isinstance(err, LinkRefused)
                if plain and request.headers.get("hx-request") == "true":
                    # htmx would swap the sign-in page into the list: send the page there.
                    return Response(status_code=204, headers={"HX-Redirect": "/staff/sign-in"})
                if plain and request.method == "GET":
                    return RedirectResponse("/staff/sign-in", status_code=303)
                return refused_page(request, err)

        return guarded


router = APIRouter(route_class=PageRoute, include_in_schema=False)


# -- rendering ---------------------------------------------------------------------------
def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def shop(request: Request) -> Settings:
    """The settings with the owner's rulebook on top (read by the page's route), so a
    language or zone set with `rules set` is the pages' too."""
    found: Settings | None = getattr(request.state, "shop", None)
    return found if found is not None else context(request).settings


def catalogue(request: Request) -> Catalogue:
    return _CATALOGUES[shop(request).language]


def render(
    request: Request,
    template: str,
    status: int = 200,
    session: Session | None = None,
    **values: Any,
) -> HTMLResponse:
    settings = shop(request)
    actor = session.actor if session else None
    for name, default in (("error", None), ("error_field", None), ("posted_to", None)):
        values.setdefault(name, default)
    values.setdefault("typed", {})
    t = catalogue(request)
    html = _templates.get_template(template).render(
        t=t,
        said=lambda err: said(err, t),  # a refusal's line in the page's language
        session=session,
        actor=actor,
        csrf=session.csrf if session else "",
        managing=actor is not None and actor.role in (Role.MANAGER, Role.OWNER),
        owner=actor is not None and actor.role == Role.OWNER,
        zone=settings.timezone,
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    # Pages hold customers' names and phones: never cached or framed, and no referrer to
    # another site (a sign-in link's token is in its path). Same-origin keeps the Origin
    # header of our own form posts real (no-referrer would make it "null").
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    )
    return response


def refused_page(request: Request, err: Refusal) -> HTMLResponse:
    t = catalogue(request)
    if isinstance(err, LinkRefused):
        return render(
            request,
            "refused.html",
            err.status,
            title=t("link.refused"),
            message=t(f"link.{err.why}"),
            detail=None,
        )
    if isinstance(err, CsrfRefused):
        return render(
            request,
            "refused.html",
            err.status,
            title=t("refused.title"),
            message=t("refused.csrf"),
            detail=None,
        )
    if isinstance(err, Unauthorized):
        return render(
            request,
            "refused.html",
            err.status,
            title=t("sign_in.needed"),
            message=t("sign_in.how"),
            detail=None,
        )
    return render(request, "refused.html", err.status, title=t("refused.title"), message=None,
                  detail=said(err, t))  # fmt: skip


# -- who is asking -----------------------------------------------------------------------
async def signed_in(request: Request) -> Session:
    return await sessions.session_for(context(request), request.cookies.get(COOKIE))


async def posted(request: Request) -> tuple[Session, dict[str, Any]]:
    """The session and the form of a POST, once its CSRF token is checked: without it the
    request is refused (403) before anything is read or written."""
    session = await signed_in(request)
    form = await request.form()
    if not sessions.csrf_ok(session, _text(form.get("csrf"))):
        raise CsrfRefused()
    values: dict[str, Any] = {k: _text(v) for k, v in form.items()}
    values["option"] = [_text(v) for v in form.getlist("option")]
    values["override_option"] = [_text(v) for v in form.getlist("override_option")]
    values["wanted"] = [_text(v) for v in form.getlist("wanted")]
    values["redeem"] = [_text(v) for v in form.getlist("redeem")]
    return session, values


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# -- signing in ----------------------------------------------------------------------------
@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=303)


@router.get("/staff/sign-in")
async def sign_in_help(request: Request) -> HTMLResponse:
    t = catalogue(request)
    return render(request, "refused.html", 200, title=t("sign_in.needed"),
                  message=t("sign_in.how"), detail=None)  # fmt: skip


@router.get("/staff/sign-in/{token}")
async def sign_in_page(request: Request, token: str) -> HTMLResponse:
    """A button, not a sign-in: a chat app's link preview fetches the page and must not
    spend the link."""
    name = await sessions.link_holder(context(request), token)
    return render(request, "sign_in.html", name=name, token=token)


def _same_origin(request: Request) -> bool:
    """A browser says where a POST comes from; one from another site is not ours (the
    sign-in form has no session to tie a CSRF token to yet)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    sent = urlsplit(origin)
    return (sent.hostname, sent.port) == (request.url.hostname, request.url.port)


@router.post("/staff/sign-in/{token}")
async def sign_in(request: Request, token: str) -> RedirectResponse:
    if not _same_origin(request):
        raise CsrfRefused()
    device = request.headers.get("user-agent", "")
    session = await sessions.sign_in(context(request), token, device)
    response = RedirectResponse("/staff/", status_code=303)
    response.set_cookie(
        COOKIE,
        session.token,
        max_age=int(sessions.SESSION_LASTS.total_seconds()),
        path="/",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
    )
    return response


@router.post("/staff/sign-out")
async def sign_out(request: Request) -> RedirectResponse:
    session, _ = await posted(request)
    await sessions.sign_out(context(request), session)
    response = RedirectResponse("/staff/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- the inbox -----------------------------------------------------------------------------
def _chosen(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/staff/")
async def inbox_page(
    request: Request,
    status: str | None = None,
    step: str | None = None,
    motive: str | None = None,
    owner: str | None = None,
    case_id: str | None = None,
    mine: str | None = None,
    page: int = 1,
) -> HTMLResponse:
    session = await signed_in(request)
    ctx = context(request)
    where = inbox.inbox_filter(
        _chosen(status),
        _chosen(step),
        _chosen(motive),
        bool(owner),
        _chosen(case_id),
        session.actor.name if mine else None,  # the URL says "mine", never a name
    )
    found = await inbox.inbox(ctx, session.actor, where, PAGE_SIZE, max(1, page))
    t = catalogue(request)
    now = datetime.now(UTC)
    zone = shop(request).timezone
    rows = [(r, view.due(r.response_due_at, now, zone, t)) for r in found.rows]
    waiting = await inbox.held(ctx, session.actor)
    held = (
        t("inbox.held", n=waiting.count, when=when(waiting.first, zone, t.language))
        if waiting.count and waiting.first
        else None
    )
    query = {
        "status": where.status or "",
        "step": where.step or "",
        "motive": where.motive or "",
        "owner": "1" if where.owner else "",
        "case_id": where.case_id or "",
        "mine": "1" if where.mine else "",
    }
    partial = request.headers.get("hx-request") == "true"
    return render(
        request,
        "inbox_list.html" if partial else "inbox.html",
        session=session,
        found=found,
        rows=rows,
        held=held,
        query=query,
        poll_url=str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
        statuses=inbox.OPEN_STATUSES,
        stages=inbox.OPEN_STAGES,
        motives=[m.value for m in Motive],
        page_url=lambda n: _page_url(query, n),
    )


def _page_url(query: Mapping[str, str], page: int) -> str:
    kept = {k: v for k, v in query.items() if v}
    return "/staff/?" + urlencode({**kept, "page": page})


@router.get("/staff/owner")
async def owner_page(request: Request) -> HTMLResponse:
    session = await signed_in(request)
    ctx = context(request)
    t = catalogue(request)
    now = datetime.now(UTC)
    rows = [
        (r, view.due(r.response_due_at, now, shop(request).timezone, t))
        for r in await inbox.owner_waits(ctx, session.actor)
    ]
    return render(request, "owner.html", session=session, rows=rows)


# -- opening a case ------------------------------------------------------------------------
def _new_form(
    request: Request,
    session: Session,
    typed: Mapping[str, Any] | None = None,
    error: Refusal | None = None,
) -> HTMLResponse:
    typed = dict(typed or {})
    typed.setdefault("key", uuid.uuid4().hex)  # one per form shown: a double tap opens one case
    return render(
        request,
        "new_case.html",
        error.status if error else 200,
        session=session,
        typed=typed,
        error=error,
        error_field=_field_of(error),
        channels=[c.value for c in IntakeChannel],
        motives=[m.value for m in Motive],
    )


@router.get("/staff/cases/new")
async def new_case_page(request: Request) -> HTMLResponse:
    return _new_form(request, await signed_in(request))


@router.post("/staff/cases", response_model=None)
async def open_case(request: Request) -> Response:
    session, form = await posted(request)
    try:
        opened = await cases.open_case(
            context(request),
            session.actor,
            name=form.get("name", ""),
            phone=form.get("phone", ""),
            channel=form.get("channel", ""),
            motive=form.get("motive", ""),
            what=form.get("what", ""),
            key=form.get("key") or None,
        )
    except Refusal as err:
        if isinstance(err, Unauthorized):
            raise
        return _new_form(request, session, form, err)
    again = "&again=1" if opened.already_open else ""
    kept = "&kept=1" if opened.name_kept else ""
    return RedirectResponse(f"/staff/cases/{opened.case_id}?opened=1{again}{kept}", status_code=303)


@router.post("/staff/customers/lookup")
async def returning_customer(request: Request) -> HTMLResponse:
    """The customer a number belongs to, while it is typed (htmx posts the form: the phone
    stays out of the URL)."""
    session, form = await posted(request)
    found = await inbox.returning_customer(context(request), session.actor, form.get("phone", ""))
    return render(request, "returning.html", session=session, found=found)


@router.post("/staff/search")
async def search_by_phone(request: Request) -> HTMLResponse:
    session, form = await posted(request)
    try:
        rows = await inbox.cases_of_phone(context(request), session.actor, form.get("phone", ""))
    except InvalidInput as err:
        return render(request, "search.html", err.status, session=session, rows=None,
                      typed=form, error=err, error_field="phone", posted_to="search")  # fmt: skip
    return render(request, "search.html", session=session, rows=rows, typed=form, error=None,
                  error_field=None, posted_to=None)  # fmt: skip


# -- a case ----------------------------------------------------------------------------------
def _field_of(error: Refusal | None) -> str | None:
    if isinstance(error, InvalidInput) and error.fields:
        return error.fields[0][0]
    if isinstance(error, InvalidInput) and ":" in error.message:
        return error.message.split(":", 1)[0].strip()
    return None


async def _case_page(
    request: Request,
    session: Session,
    case_id: str,
    status: int = 200,
    error: Refusal | None = None,
    typed: Mapping[str, Any] | None = None,
    posted_to: str | None = None,
) -> HTMLResponse:
    ctx = context(request)
    t = catalogue(request)
    actor = session.actor
    state = await reads.show(ctx, actor, case_id)
    entries = await inbox.timeline(ctx, actor, state.case_id)
    zone = shop(request).timezone
    phone = (
        written_phone(state.customer.phone, ctx.settings.phone_region) if state.customer else None
    )
    starter_key = f"starter.{state.stage}.{state.motive.value}"
    notes = [
        (when(n.written_at, zone, t.language), n.body)
        for n in await customer_answers.notes(ctx, actor, state.case_id)
    ]
    consent, rewards = None, []
    if state.customer and _may(actor, VISIT.roles):
        card = await keeping.consent_card(ctx, actor, state.customer.phone)
        consent = view.consent(card, zone, t)
        rewards = await customers.rewards_waiting(ctx, actor, state.customer.phone)
    return render(
        request,
        "case.html",
        status,
        session=session,
        state=state,
        phone=phone,
        tel=state.customer.phone if state.customer else None,
        due=view.due(staff_due_at(state), datetime.now(UTC), zone, t),
        opened_at=when(state.opened_at, zone, t.language),
        post_from=when(state.reply_post_from, zone, t.language) if state.reply_post_from else None,
        lines=view.timeline(entries, zone, t),
        menu=view.menu(state, t),
        stage=state.stage,
        step_forms=STEP_FORMS,
        starter=t(starter_key) if t.has(starter_key) else "",
        typed=dict(typed or {}),
        error=error,
        error_field=_field_of(error),
        posted_to=posted_to,
        can_override=_may(actor, OVERRIDE.roles),
        can_withdraw=_may(actor, WITHDRAW.roles),
        opened=request.query_params.get("opened") == "1",
        again=request.query_params.get("again") == "1",
        kept=request.query_params.get("kept") == "1",
        faults=["ours", "misunderstanding", "unfounded"],
        notes=notes,
        consent=consent,
        rewards=[(r.id, view.reward(r, t)) for r in rewards],
        consent_choices=list(keeping.PAGE_CHOICES),
        saved=_saved(request, t),
        standard_terms=_standard_terms(state, t),
        messages=view.message_lines(await inbox.messages(ctx, actor, state.case_id), zone, t),
        photos=view.photo_lines(
            await photos.of_case(ctx, actor, state.case_id), state.case_id, zone, t
        ),
        may_delay=view.may_delay(state, datetime.now(UTC)),
        delay_percent=state.care.remedies.delay_discount_percent,
        delayed_from=when(state.delayed_from, zone, t.language) if state.delayed_from else None,
        due_local=(
            state.response_due_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
            if state.response_due_at
            else ""
        ),
    )


def _saved(request: Request, t: Catalogue) -> str | None:
    """What the last POST saved, said back once (a tired hand taps Save twice otherwise)."""
    action = request.query_params.get("saved", "")
    key = f"saved.{action}"
    return t("case.saved_what", what=t(key)) if action.isidentifier() and t.has(key) else None


def _standard_terms(state: CaseState, t: Catalogue) -> dict[str, str]:
    """Each remedy's standard terms in the page's language, with the case's own amounts:
    prefilled in the offer form, so what the customer is offered is in their language and
    can be edited. A gift or benefit the shop named itself is offered in its words."""
    shop, standard = state.care.remedies, RemedyTerms()
    amounts = {
        "partial": shop.partial_refund_percent,
        "next": shop.next_service_discount_percent,
        "delay": shop.delay_discount_percent,
    }
    out = {k.value: t(f"terms.{k.value}", **amounts) for k in RemedyKind}
    if shop.goodwill_gift != standard.goodwill_gift:
        out[RemedyKind.GOODWILL_GIFT.value] = shop.goodwill_gift
    if shop.thank_you_benefit != standard.thank_you_benefit:
        out[RemedyKind.THANK_YOU_BENEFIT.value] = shop.thank_you_benefit
    return out


def _may(actor: Actor, roles: frozenset[Role]) -> bool:
    return actor.role in roles


@router.get("/staff/cases/{case_id}")
async def case_page(request: Request, case_id: str) -> HTMLResponse:
    return await _case_page(request, await signed_in(request), case_id)


@router.get("/staff/cases/{case_id}/photos/{photo_id}", response_model=None)
async def case_photo(request: Request, case_id: str, photo_id: str) -> Response:
    """A customer's photo, for staff signed in: by its id within its case, never cached by
    anyone but the browser, its type as checked when it came (never sniffed again)."""
    session = await signed_in(request)
    kind, data = await photos.one(context(request), session.actor, case_id, photo_id)
    headers = {
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline" if shown_inline(kind) else "attachment",
    }
    return Response(data, media_type=kind, headers=headers)


def _score(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput.about([("score", "choose a score from 1 to 5")]) from None


async def _act(ctx: Context, actor: Actor, case_id: str, action: str, form: dict[str, Any]) -> None:
    def text(name: str) -> str:
        return str(form.get(name, ""))

    def optional(name: str) -> str | None:
        return text(name).strip() or None

    match action:
        case "apology":
            await cases.apologize(ctx, actor, case_id, text("what"))
        case "empathy":
            await cases.empathize(ctx, actor, case_id, text("customer_words"))
        case "cause":
            await cases.analyze_cause(ctx, actor, case_id, text("cause"), text("fault"))
        case "offer":
            kinds = [*form["option"], *form["override_option"]]
            options = [cases.remedy(k, text(f"terms_{k}")) for k in kinds]
            await cases.offer_resolution(
                ctx, actor, case_id, text("plan"), options, optional("override_reason")
            )
        case "answer":
            answer = text("answer")
            if not answer:
                raise InvalidInput.about([("answer", "choose the option taken, or declined")])
            if answer == "decline":
                await cases.record_customer_response(
                    ctx, actor, case_id, decline_reason=text("decline_reason")
                )
            else:
                await cases.record_customer_response(ctx, actor, case_id, choice=answer)
        case "prevention":
            await cases.show_prevention(ctx, actor, case_id, text("measure"))
        case "satisfaction":
            await cases.record_satisfaction(
                ctx, actor, case_id, _score(text("score")), optional("comment")
            )
        case "delay":
            await cases.record_delay(ctx, actor, case_id, text("until"), text("reason"))
        case "withdrawal":
            await cases.withdraw(ctx, actor, case_id, text("reason"))
        case "override_request":
            await cases.request_override(
                ctx, actor, case_id, form["wanted"], text("override_request_reason")
            )
        case _:
            raise InvalidInput(f"no action {action!r} on a case")


async def _consent(ctx: Context, actor: Actor, case_id: str, choice: str, t: Catalogue) -> None:
    """Marketing consent as the customer told staff, recorded from the case's customer card
    (the number from the case, never from the form): by the staff member, via staff_page."""

    def refused(key: str) -> InvalidInput:  # one line in the page's language, by the field
        return Said(t(key), (("consent", t(key)),))

    if choice not in keeping.PAGE_CHOICES:
        raise refused("consent.refused.choice")
    state = await reads.show(ctx, actor, case_id)
    if state.customer is None:
        raise refused("consent.refused.forgotten")
    given, night = keeping.PAGE_CHOICES[choice]
    await keeping.consent(ctx, actor, state.customer.phone, given, night, keeping.STAFF_PAGE)


async def _visit(
    ctx: Context, actor: Actor, case_id: str, form: Mapping[str, Any], t: Catalogue
) -> None:
    """A visit of the case's customer (the number from the case), with who referred them
    if anyone did, and the rewards they use at it: `complaints visit` from the card."""
    state = await reads.show(ctx, actor, case_id)
    if state.customer is None:
        key = "consent.refused.forgotten"
        raise Said(t(key), (("referred_by", t(key)),))
    try:
        redeem = [int(r) for r in form.get("redeem", [])]
    except ValueError:
        raise InvalidInput.about([("redeem", "not a reward of this customer")]) from None
    referred_by = str(form.get("referred_by", "")).strip() or None
    await customers.record_visit(ctx, actor, state.customer.phone, None, referred_by, redeem)


# The starter phrases' blanks (`[무엇]`, `[고객의 말]`), by the action whose text they start.
_BLANK = re.compile(r"\[[^\[\]\n]{1,30}\]")
_STARTED = {
    "apology": ("what", "apologize"),
    "empathy": ("customer_words", "empathize"),
    "cause": ("cause", "analyze_cause"),
    "offer": ("plan", "offer_resolution"),
    "prevention": ("measure", "show_prevention"),
}
_BLANKS = {
    action: frozenset(
        blank
        for t in _CATALOGUES.values()
        for motive in Motive
        if t.has(f"starter.{stage}.{motive.value}")
        for blank in _BLANK.findall(t(f"starter.{stage}.{motive.value}"))
    )
    for action, (_, stage) in _STARTED.items()
}


def _filled_in(action: str, form: Mapping[str, Any]) -> None:
    """A starter phrase saved with its blank still in it (`[무엇]`) would reach the customer
    as it stands: refused, nothing sent, the text kept to finish."""
    if action not in _STARTED:
        return
    field = _STARTED[action][0]
    left = sorted(b for b in _BLANKS[action] if b in str(form.get(field, "")))
    if left:
        raise InvalidInput.about([(field, f"replace {left[0]} with what happened")])


@router.post("/staff/cases/{case_id}/{action}", response_model=None)
async def act(request: Request, case_id: str, action: str) -> Response:
    session, form = await posted(request)
    try:
        if action == "consent":
            choice = str(form.get("consent", ""))
            await _consent(context(request), session.actor, case_id, choice, catalogue(request))
        elif action == "visit":
            await _visit(context(request), session.actor, case_id, form, catalogue(request))
        else:
            _filled_in(action, form)
            await _act(context(request), session.actor, case_id, action, form)
    except Refusal as err:
        if isinstance(err, Unauthorized):
            raise
        return await _case_page(request, session, case_id, err.status, err, form, action)
    saved = f"/staff/cases/{ids.case_id_of(case_id)}?saved={action}#now"
    return RedirectResponse(saved, status_code=303)


# -- reports (managers and the owner) -------------------------------------------------------
def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)") from None


@router.get("/staff/notifications")
async def notices_page(request: Request) -> HTMLResponse:
    """What has not reached anyone yet, and why: held for quiet or closed hours, being sent,
    failed and retried (`complaints notifications`, in the page's language)."""
    session = await signed_in(request)
    ctx = context(request)
    rows = await admin.unsent_notices(ctx, session.actor, 200)
    lines = view.notice_lines(rows, datetime.now(UTC), shop(request).timezone, catalogue(request))
    return render(request, "notices.html", session=session, lines=lines)


@router.get("/staff/reports")
async def reports_page(
    request: Request, start: str | None = None, end: str | None = None
) -> HTMLResponse:
    session = await signed_in(request)
    ctx = context(request)
    t = catalogue(request)
    report = await reads.period_report(ctx, session.actor, _day(start), _day(end))
    last_day = (report.end - timedelta(seconds=1)).astimezone(shop(request).zone).date()
    first_day = report.start.astimezone(shop(request).zone).date()
    return render(
        request,
        "reports.html",
        session=session,
        report=report,
        first_day=first_day.isoformat(),
        last_day=last_day.isoformat(),
        per_step=view.shares(
            [(t.name(s.step), s.within_target, s.answered) for s in report.per_step]
        ),
        by_motive=view.counts([(t.name(m), n) for m, n in sorted(report.by_motive.items())]),
        causes=view.counts(list(report.top_causes)),
        referrers=view.counts(
            [(r.name or r.customer_id, r.referred) for r in report.top_referrers]
        ),
        median=view.minutes(report.first_response_median_minutes, t),
        p90=view.minutes(report.first_response_p90_minutes, t),
    )


@router.get("/staff/exports/cases.csv", response_model=None)
async def export_csv(request: Request) -> Response:
    session = await signed_in(request)
    body = await reads.export_csv(context(request), session.actor, reads.Filters())
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="cases.csv"',
            "Cache-Control": "no-store",
        },
    )


# -- sessions (the owner) ----------------------------------------------------------------------
@router.get("/staff/sessions")
async def sessions_page(request: Request) -> HTMLResponse:
    session = await signed_in(request)
    ctx = context(request)
    rows = await sessions.live_sessions(ctx, session.actor)
    zone, language = shop(request).timezone, catalogue(request).language
    listed = [
        (r, when(r.created_at, zone, language), when(r.last_seen_at, zone, language)) for r in rows
    ]
    return render(request, "sessions.html", session=session, rows=listed)


@router.post("/staff/sessions/{session_id}/end")
async def end_session(request: Request, session_id: int) -> RedirectResponse:
    session, _ = await posted(request)
    await sessions.end_session(context(request), session.actor, session_id)
    return RedirectResponse("/staff/sessions", status_code=303)

"""The customer's pages: `/c/<token>` (their case, from the link in a message) and `/c/new`
(the public complaint form). No sign-in: the signed link is the customer's identity, for
one case and one purpose. Each route parses the form, calls the application layer
(app.customer_answers, app.intake) and renders the result, or the refusal beside its field
in the customer's language. No SQL, no Temporal here.

Every POST carries a CSRF token (bound to the link; the public form has no link, so another
site posting it is the very thing the flood limit counts) and answers with a redirect. No
name, phone or case text is ever in a URL: the answer's outcome is a word in the query.
"""

import functools
import uuid
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile

from app import customer_answers, intake, keeping, photos
from app.customer_answers import Outcome, Visit
from app.refusals import InvalidInput, Refusal, TooMany
from domain.model import CaseState, CaseStatus, Motive, Step
from domain.phone import written_phone
from domain.photos import MAX_PHOTO_BYTES
from domain.wording import when
from infra.links import LinkExpired, LinkRefused
from pages.catalogue import Catalogue
from pages.routes import _CATALOGUES, _templates, context, shop

_NOTICES = {
    "recorded": "c.recorded",
    "already": "c.already",
    "wrote": "c.wrote",
    "wrote_already": "c.wrote_already",
    "photo": "c.photo.kept",
    "photo_already": "c.photo.kept_already",
}


class CsrfMissing(Refusal):
    kind, title, status = "csrf", "Form not ours", 403


class CustomerRoute(APIRoute):
    """A link that is not ours, or expired, or any refusal: a kind page in the customer's
    language with how to reach the shop, never the staff's sign-in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            # The shop as the owner's rulebook has it (its language, its zone), for the
            # page and any refusal of it.
            request.state.shop = await context(request).shop_settings()
            try:
                return await handler(request)
            except LinkExpired as err:
                t = catalogue(request)
                zone = shop(request).timezone
                return render(
                    request,
                    "customer_refused.html",
                    410,
                    title=t("c.expired.title"),
                    message=t("c.expired.lead", when=when(err.claim.expires_at, zone, t.language)),
                    case_id=err.claim.case_id,
                )
            except LinkRefused:
                t = catalogue(request)
                return render(request, "customer_refused.html", 404, title=t("c.refused.title"),
                              message=t("c.refused.lead"), case_id=None)  # fmt: skip
            except Refusal as err:
                t = catalogue(request)
                key = "c.refused.csrf" if isinstance(err, CsrfMissing) else "c.refused.generic"
                return render(request, "customer_refused.html", err.status,
                              title=t("refused.title"), message=t(key), case_id=None)  # fmt: skip

        return guarded


router = APIRouter(route_class=CustomerRoute, include_in_schema=False)


def install(app: FastAPI) -> None:
    app.include_router(router)


def catalogue(request: Request) -> Catalogue:
    return _CATALOGUES[shop(request).language]


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    settings = shop(request)
    phone = settings.sender_number
    values.setdefault("error_field", None)
    values.setdefault("error_text", None)
    values.setdefault("typed", {})
    html = _templates.get_template(template).render(
        t=catalogue(request),
        shop_phone=written_phone(phone, settings.phone_region) if phone else None,
        shop_tel=phone,
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    # The token in the path is the customer's key to their case: never cached, framed or
    # sent on to another site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    )
    return response


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


async def _upload(form: FormData, name: str = "photo") -> photos.Upload | None:
    """The file sent as `name`, read up to one byte past the limit (enough to refuse a
    larger one without reading it all); None when none was chosen. Its name is not read."""
    item = form.get(name)
    if not isinstance(item, UploadFile):
        return None
    data = await item.read(MAX_PHOTO_BYTES + 1)
    await item.close()
    return photos.Upload(data) if data else None


def _photo_refusal(t: Catalogue, err: photos.PhotoRefused) -> str:
    return t(f"c.bad.photo.{err.reason}")


# -- where the case stands, in words --------------------------------------------------------
def _stands(state: CaseState, purpose: str) -> str:
    if state.status.is_final:
        return "c.stands.closed"
    if state.status == CaseStatus.AWAITING_CUSTOMER:
        return "c.stands.choose" if purpose == "choose" else "c.stands.choose_elsewhere"
    if state.status == CaseStatus.RESOLVED:
        return "c.stands.resolved"
    if state.next_step == Step.OFFER_RESOLUTION:
        return "c.stands.preparing"
    if state.next_step == Step.SHOW_PREVENTION:
        return "c.stands.carrying_out"
    return "c.stands.received"


def _progress(state: CaseState, t: Catalogue) -> list[tuple[str, bool]]:
    done = state.steps_done
    finished = state.status.is_final or state.status == CaseStatus.RESOLVED
    return [
        (t("c.progress.received"), True),
        (t("c.progress.looked_into"), Step.ANALYZE_CAUSE in done),
        (t("c.progress.offered"), bool(state.offers)),
        (t("c.progress.chosen"), state.accepted is not None),
        (t("c.progress.finished"), finished),
    ]


def _case_page(
    request: Request,
    v: Visit,
    status: int = 200,
    typed: Mapping[str, Any] | None = None,
    error_field: str | None = None,
    error_text: str | None = None,
) -> HTMLResponse:
    ctx = context(request)
    t = catalogue(request)
    state, purpose = v.state, v.claim.purpose
    zone = shop(request).timezone
    reply_by = None
    if state.next_step == Step.APOLOGIZE and state.response_due_at and not state.done:
        reply_by = when(state.response_due_at, zone, t.language)
    notice_kind = request.query_params.get("answer", "")
    notice = t(_NOTICES[notice_kind]) if notice_kind in _NOTICES else None
    return render(
        request,
        "customer.html",
        status,
        state=state,
        token=v.token,
        purpose=purpose,
        csrf=customer_answers.csrf_token(ctx, v.token),
        stands=t(_stands(state, purpose)),
        reply_by=reply_by,
        progress=_progress(state, t),
        offer=state.current_offer,
        can_choose=purpose == "choose" and customer_answers.offer_open(state),
        can_rate=purpose == "rate" and customer_answers.rating_open(state),
        opened=request.query_params.get("new") == "1",
        notice=notice,
        notice_kind=notice_kind,
        typed=dict(typed or {}),
        error_field=error_field,
        error_text=error_text,
    )


# -- the public complaint form (before /c/{token}, which would take "new") ------------------
def _intake_form(
    request: Request,
    typed: Mapping[str, Any] | None = None,
    status: int = 200,
    error_field: str | None = None,
    error_text: str | None = None,
    thanked: bool = False,
    shop_name: str | None = None,
) -> HTMLResponse:
    shown = dict(typed or {})
    shown.setdefault("key", uuid.uuid4().hex)  # one per form shown: a double tap opens one case
    return render(
        request,
        "intake.html",
        status,
        action=request.url.path,
        typed=shown,
        motives=[m.value for m in Motive],
        error_field=error_field,
        error_text=error_text,
        thanked=thanked,
        shop_name=shop_name,
    )


@router.get("/c/new")
async def intake_page(request: Request) -> HTMLResponse:
    _, name = await intake.form_heading(context(request), None)
    return _intake_form(request, shop_name=name)


@router.get("/c/new/{shop}")
async def shop_intake_page(request: Request, shop: str) -> HTMLResponse:
    _, name = await intake.form_heading(context(request), shop)
    return _intake_form(request, shop_name=name)


@router.post("/c/new", response_model=None)
async def intake_post(request: Request) -> Response:
    return await _intake(request, None)


@router.post("/c/new/{shop}", response_model=None)
async def shop_intake_post(request: Request, shop: str) -> Response:
    return await _intake(request, shop)


async def _intake(request: Request, typed_shop: str | None) -> Response:
    ctx = context(request)
    t = catalogue(request)
    shop, name = await intake.form_heading(ctx, typed_shop)
    form_again = functools.partial(_intake_form, request, shop_name=name)
    raw = await request.form()
    form = {k: _text(v) for k, v in raw.items() if k != "photo"}
    try:
        opened = await intake.complain(
            ctx,
            shop=shop,
            name=form.get("name", ""),
            phone=form.get("phone", ""),
            what=form.get("what", ""),
            motive=form.get("motive", ""),
            key=form.get("key") or None,
            address=request.client.host if request.client else "",
            honeypot=form.get("website", ""),
            photo=await _upload(raw),
        )
    except photos.PhotoRefused as err:
        return form_again(form, err.status, "photo", _photo_refusal(t, err))
    except intake.TooMany as err:
        key = "intake.flood.phone" if err.field == "phone" else "intake.flood.address"
        return form_again(form, err.status, err.field, t(key))
    except TooMany as err:  # the shop's openings this minute: every door together
        return form_again(form, err.status, None, t("intake.flood.shop"))
    except InvalidInput as err:
        field = _field(err, ("name", "phone", "what"))
        text = t(f"intake.bad.{field}") if field else t("intake.bad.other")
        return form_again(form, err.status, field, text)
    if opened is None:  # the honeypot: thanked, nothing opened
        return form_again(thanked=True)
    return RedirectResponse(intake.status_link(ctx, opened.case_id) + "?new=1", status_code=303)


def _field(err: InvalidInput, known: tuple[str, ...]) -> str | None:
    named = [f for f, _ in err.fields] or [err.message.split(":", 1)[0].strip()]
    # The command names the complaint's text `summary`; the form calls it `what`.
    named = ["what" if f == "summary" else f for f in named]
    return next((f for f in named if f in known), None)


# -- a case, through its link ---------------------------------------------------------------
@router.get("/c/{token}")
async def case_page(request: Request, token: str) -> HTMLResponse:
    return _case_page(request, await customer_answers.visit(context(request), token))


async def _posted(request: Request, token: str) -> tuple[Visit, dict[str, str]]:
    """The visit and the form of a POST, once its CSRF token is checked (before anything
    is read from the case or written)."""
    ctx = context(request)
    customer_answers.signer(ctx).read(token, datetime.now(UTC))  # a bad link says so first
    form = {k: _text(v) for k, v in (await request.form()).items()}
    if not customer_answers.csrf_ok(ctx, token, form.get("csrf", "")):
        raise CsrfMissing("the form's CSRF token is missing or wrong")
    return await customer_answers.visit(ctx, token), form


def _round(form: Mapping[str, str]) -> int:
    try:
        return int(form.get("round", ""))
    except ValueError:
        return -1  # a form from nowhere: no round is open under it


def _done(token: str, outcome: Outcome, wrote: bool = False) -> RedirectResponse:
    word = ("wrote" if outcome == Outcome.RECORDED else "wrote_already") if wrote else outcome
    return RedirectResponse(f"/c/{token}?answer={word}", status_code=303)


@router.post("/c/{token}/choose", response_model=None)
async def choose(request: Request, token: str) -> Response:
    v, form = await _posted(request, token)
    t = catalogue(request)
    answer = form.get("answer", "")
    try:
        if not answer:
            raise InvalidInput.about([("answer", "required")])
        declined = answer == "decline"
        outcome = await customer_answers.choose(
            context(request),
            v,
            _round(form),
            None if declined else answer,
            form.get("decline_reason", "") if declined else None,
        )
    except InvalidInput as err:
        field = _field(err, ("answer", "decline_reason")) or "answer"
        return _case_page(request, v, err.status, form, field, t(f"c.bad.{field}"))
    return _done(token, outcome)


@router.post("/c/{token}/rate", response_model=None)
async def rate(request: Request, token: str) -> Response:
    v, form = await _posted(request, token)
    t = catalogue(request)
    try:
        try:
            score = int(form.get("score", ""))
        except ValueError:
            raise InvalidInput.about([("score", "required")]) from None
        comment = form.get("comment", "").strip() or None
        outcome = await customer_answers.rate(context(request), v, _round(form), score, comment)
    except InvalidInput as err:
        field = _field(err, ("score", "comment")) or "score"
        return _case_page(request, v, err.status, form, field, t(f"c.bad.{field}"))
    return _done(token, outcome)


@router.post("/c/{token}/write", response_model=None)
async def write(request: Request, token: str) -> Response:
    v, form = await _posted(request, token)
    ctx = context(request)
    t = catalogue(request)
    staff_t = _CATALOGUES[shop(request).language]
    notice = staff_t("c.staff_notice", case_id=v.claim.case_id)
    try:
        outcome = await customer_answers.write_back(ctx, v, form.get("message", ""), notice)
    except InvalidInput:
        return _case_page(request, v, 422, form, "message", t("c.bad.message"))
    return _done(token, outcome, wrote=True)


@router.post("/c/photo/{token}", response_model=None)
async def photo(request: Request, token: str) -> Response:
    """A photo from the case page (its own path, so the body limit can allow a photo here
    and nowhere else under /c/)."""
    v, form = await _posted(request, token)
    t = catalogue(request)
    upload = await _upload(await request.form())
    try:
        if upload is None:
            raise photos.PhotoRefused("missing", "choose a photo")
        outcome = await photos.from_customer(context(request), v, upload)
    except photos.PhotoRefused as err:
        return _case_page(request, v, err.status, form, "photo", _photo_refusal(t, err))
    word = "photo" if outcome == Outcome.RECORDED else "photo_already"
    return RedirectResponse(f"/c/{token}?answer={word}", status_code=303)


# -- the opt-out link of an advertising message: no sign-in, free, at once ------------------
@router.get("/c/{token}/stop")
async def stop_page(request: Request, token: str) -> HTMLResponse:
    """A button, not an opt-out on GET: a messenger's link preview must not opt anyone out."""
    ctx = context(request)
    claim = keeping.opt_out_claim(ctx, token)  # a bad link says so first
    await keeping.for_customer(ctx, claim)  # the page in the customer's shop's words
    done = request.query_params.get("done", "")
    csrf = customer_answers.csrf_token(ctx, token)
    return render(request, "customer_stop.html", token=token, csrf=csrf, done=done)


@router.post("/c/{token}/stop", response_model=None)
async def stop(request: Request, token: str) -> Response:
    ctx = context(request)
    keeping.opt_out_claim(ctx, token)
    form = {k: _text(v) for k, v in (await request.form()).items()}
    if not customer_answers.csrf_ok(ctx, token, form.get("csrf", "")):
        raise CsrfMissing("the form's CSRF token is missing or wrong")
    state = await keeping.opt_out(ctx, token)
    return RedirectResponse(f"/c/{token}/stop?done={'done' if state else 'gone'}", status_code=303)

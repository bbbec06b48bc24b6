"""Photos a customer sends: with the public complaint form, or from their case page. Checked
by what the file holds (domain.photos), kept in PostgreSQL (store.photos), shown to the
shop's staff on the case page. Nothing about a photo is logged but its case and id."""

from dataclasses import dataclass

import structlog

from app.context import Context
from app.customer_answers import Outcome, Visit
from app.identity import READ, Actor, require
from app.ids import case_id_of
from app.refusals import InvalidInput, NotFound
from domain.photos import MAX_PHOTO_BYTES, PHOTOS_PER_CASE, photo_type
from store import photos as photo_store
from store.photos import Photo, TooManyPhotos

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Upload:
    """A file as the form sent it: at most MAX_PHOTO_BYTES + 1 bytes read (`data`), so a
    larger one is known to be too large without reading it all."""

    data: bytes

    @property
    def empty(self) -> bool:
        return not self.data


class PhotoRefused(InvalidInput):
    """A photo the shop cannot take: `reason` is too_large, not_image or too_many."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"photo: {message}", (("photo", message),))
        self.reason = reason


def checked(upload: Upload) -> str:
    """The photo's type, or PhotoRefused: over the size limit, or not an image we take."""
    if len(upload.data) > MAX_PHOTO_BYTES:
        raise PhotoRefused("too_large", f"larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    kind = photo_type(upload.data)
    if kind is None:
        raise PhotoRefused("not_image", "not a JPEG, PNG, WebP or HEIC photo")
    return kind


async def keep(ctx: Context, case_id: str, upload: Upload) -> Outcome:
    """Keep a checked photo for the case (the same one twice is kept once)."""
    kind = checked(upload)
    try:
        photo_id, new = await photo_store.add(
            await ctx.pool(), case_id, kind, upload.data, PHOTOS_PER_CASE
        )
    except TooManyPhotos:
        raise PhotoRefused("too_many", f"the case holds {PHOTOS_PER_CASE} photos already") from None
    log.info("photo kept" if new else "photo kept before", case_id=case_id, photo_id=photo_id)
    return Outcome.RECORDED if new else Outcome.ALREADY


async def from_customer(ctx: Context, v: Visit, upload: Upload) -> Outcome:
    """A photo the customer sends from their case page (any link of an open case)."""
    if v.state.status.is_final:
        raise PhotoRefused("closed", "the case is closed")
    return await keep(ctx, v.claim.case_id, upload)


async def of_case(ctx: Context, actor: Actor, case_id: str) -> list[Photo]:
    require(actor, READ)
    return await photo_store.listed(await ctx.pool(), case_id_of(case_id))


async def one(ctx: Context, actor: Actor, case_id: str, photo_id: str) -> tuple[str, bytes]:
    require(actor, READ)
    found = await photo_store.read(await ctx.pool(), case_id_of(case_id), photo_id)
    if found is None:
        raise NotFound(f"no photo {photo_id!r} in case {case_id}")
    return found

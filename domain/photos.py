"""A customer's photo of what went wrong: which files count as one, by what they hold.

The type is read from the file's first bytes, never from its name or the type the browser
claims (either says whatever the sender wants): JPEG, PNG, WebP and HEIC/HEIF (what iPhones
take). Anything else is refused, as is a photo over the size limit.
"""

from typing import Literal

PhotoType = Literal["image/jpeg", "image/png", "image/webp", "image/heic"]
MAX_PHOTO_BYTES = 5 * 1024 * 1024  # a phone's photo is 1-4 MB; 5 MB leaves room
PHOTOS_PER_CASE = 5
# ISO base media "ftyp" brands of HEIC/HEIF still images (not AVIF's "avif"/"avis").
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})


def photo_type(data: bytes) -> PhotoType | None:
    """The image type `data` holds, or None when it is not a photo we take."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def shown_inline(kind: str) -> bool:
    """Whether a browser draws it in the page (HEIC only Safari does: the others download)."""
    return kind != "image/heic"

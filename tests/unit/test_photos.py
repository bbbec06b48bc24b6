"""A photo is what its bytes say, never what its name or the browser claims."""

import pytest

from app.photos import PhotoRefused, Upload, checked
from domain.photos import MAX_PHOTO_BYTES, photo_type, shown_inline

PNG = b"\x89PNG\r\n\x1a\n" + bytes(16)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
WEBP = b"RIFF\x1e\x00\x00\x00WEBPVP8 " + bytes(8)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00", None),  # AVIF: not taken
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", None),  # a video
        (b"GIF89a", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),  # can carry script
        (b"%PDF-1.7", None),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
        (b"", None),
    ],
)
def test_the_type_is_read_from_the_bytes(data: bytes, kind: str | None) -> None:
    assert photo_type(data) == kind


def test_too_large_or_not_a_photo_is_refused_with_its_reason() -> None:
    assert checked(Upload(JPEG + bytes(MAX_PHOTO_BYTES - len(JPEG)))) == "image/jpeg"
    with pytest.raises(PhotoRefused) as big:
        checked(Upload(JPEG + bytes(MAX_PHOTO_BYTES)))
    assert big.value.reason == "too_large" and big.value.fields[0][0] == "photo"
    with pytest.raises(PhotoRefused) as text:
        checked(Upload(b"just text"))
    assert text.value.reason == "not_image"
    assert shown_inline("image/png") and not shown_inline("image/heic")

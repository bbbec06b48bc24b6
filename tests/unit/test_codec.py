"""The payload codec: sealed with the active key, opened with any configured key, plain
payloads from before the codec untouched, tampering refused."""

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from infra.codec import ENCODING, EncryptionCodec, UnknownKey, new_key, parse_keys

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data='{"name": "김민지"}'.encode())


async def test_a_sealed_payload_hides_its_data_and_opens_again() -> None:
    codec = EncryptionCodec(parse_keys({"k1": new_key()}), "k1")
    [sealed] = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata["encryption-key-id"] == b"k1"
    assert "김민지".encode() not in sealed.SerializeToString() and b"json/plain" not in sealed.data
    assert await codec.decode([sealed]) == [PLAIN]
    [again] = await codec.encode([PLAIN])
    assert again.data != sealed.data  # a fresh nonce each time


async def test_after_a_rotation_old_payloads_still_open_and_new_ones_use_the_new_key() -> None:
    old, new = new_key(), new_key()
    before = EncryptionCodec(parse_keys({"2026-01": old}), "2026-01")
    after = EncryptionCodec(parse_keys({"2026-01": old, "2026-07": new}), "2026-07")
    [sealed_before] = await before.encode([PLAIN])
    [sealed_after] = await after.encode([PLAIN])
    assert sealed_after.metadata["encryption-key-id"] == b"2026-07"
    assert await after.decode([sealed_before, sealed_after]) == [PLAIN, PLAIN]
    with pytest.raises(UnknownKey, match="'2026-07', which is not configured"):
        await before.decode([sealed_after])


async def test_plain_payloads_recorded_before_the_codec_pass_through() -> None:
    codec = EncryptionCodec(parse_keys({"k1": new_key()}), "k1")
    assert await codec.decode([PLAIN]) == [PLAIN]


async def test_a_tampered_payload_or_a_swapped_key_id_is_refused() -> None:
    codec = EncryptionCodec(parse_keys({"k1": new_key(), "k2": new_key()}), "k1")
    [sealed] = await codec.encode([PLAIN])
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 1
    with pytest.raises(InvalidTag):
        await codec.decode([Payload(metadata=sealed.metadata, data=bytes(flipped))])
    swapped = Payload(metadata={**sealed.metadata, "encryption-key-id": b"k2"}, data=sealed.data)
    with pytest.raises(InvalidTag):
        await codec.decode([swapped])


def test_keys_must_be_base64_of_32_bytes() -> None:
    with pytest.raises(ValueError, match="'k' has 16 bytes; AES-256 needs 32"):
        parse_keys({"k": "A" * 22 + "=="})
    with pytest.raises(ValueError, match="'k' is not base64"):
        parse_keys({"k": "not base64!"})

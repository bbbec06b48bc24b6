"""The payload codec: sealed with the active key, opened with any configured key, plain
payloads from before the codec untouched, tampering refused; each shop under its own key,
a shredded shop's payloads unreadable while the others' open."""

import base64
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import SecretStr, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext

from infra.codec import ENCODING, KEY_ID, EncryptionCodec, UnknownKey
from infra.converter import data_converter
from infra.keys import add_shop_key, new_key, parse_keys, shred_shop_key
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP, workflow_id

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


# Keys per shop: each shop's payloads under a key derived from the master key and the
# shop's secret (a file in the shop key folder), the key id naming both.

SHOP_A, SHOP_B = "k7qm-3xd9", "q2vn-8hzt"
MASTER = {"k1": new_key()}


def shop_codec(
    folder: Path, keys: dict[str, str] | None = None, active: str = "k1"
) -> EncryptionCodec:
    return EncryptionCodec(parse_keys(keys or MASTER), active, folder)


async def test_each_shop_seals_under_its_own_key_and_any_codec_with_the_keys_opens_it(
    tmp_path: Path,
) -> None:
    add_shop_key(tmp_path, SHOP_A)
    add_shop_key(tmp_path, SHOP_B)
    codec = shop_codec(tmp_path)
    [a] = await codec.for_shop(SHOP_A).encode([PLAIN])
    [b] = await codec.for_shop(SHOP_B).encode([PLAIN])
    [first] = await codec.for_shop(FIRST_SHOP).encode([PLAIN])
    assert a.metadata[KEY_ID] == f"shop/{SHOP_A}/k1".encode()
    assert b.metadata[KEY_ID] == f"shop/{SHOP_B}/k1".encode()
    assert first.metadata[KEY_ID] == b"k1"  # the first shop: the master key, as before shops
    # A fresh codec (another process) opens all three; the plain master codec of before
    # shops opens the first shop's alone.
    assert await shop_codec(tmp_path).decode([a, b, first]) == [PLAIN] * 3
    master_only = EncryptionCodec(parse_keys(MASTER), "k1")
    assert await master_only.decode([first]) == [PLAIN]
    with pytest.raises(UnknownKey):
        await master_only.decode([a])
    # A shop's payload relabelled as another shop's opens with neither key.
    relabelled = Payload(metadata={**a.metadata, KEY_ID: f"shop/{SHOP_B}/k1".encode()}, data=a.data)
    with pytest.raises(InvalidTag):
        await codec.decode([relabelled])


async def test_the_serialization_context_picks_the_shop_from_the_workflow_id(
    tmp_path: Path,
) -> None:
    add_shop_key(tmp_path, SHOP_A)
    codec = shop_codec(tmp_path)
    cases = {
        WorkflowSerializationContext("default", workflow_id(SHOP_A, "h00g-fans-atey")): SHOP_A,
        WorkflowSerializationContext(
            "default", workflow_id(FIRST_SHOP, "h00g-fans-atey")
        ): FIRST_SHOP,
        WorkflowSerializationContext("default", "complaints-notification-sweep"): FIRST_SHOP,
        ActivitySerializationContext(
            "default", "1", "append", "q", workflow_id(SHOP_A, "h00g-fans-atey"), "W", False
        ): SHOP_A,
        ActivitySerializationContext("default", "1", "append", "q", None, None, False): FIRST_SHOP,
    }
    for context, shop in cases.items():
        assert codec.with_context(context).shop == shop, context
    assert (
        codec.with_context(WorkflowSerializationContext("default", "complaint-h00g-fans-atey"))
        is codec
    )  # no copy where nothing changes (the SDK then keeps its converter)


async def test_a_shredded_shop_opens_nowhere_and_the_others_still_do(tmp_path: Path) -> None:
    add_shop_key(tmp_path, SHOP_A)
    add_shop_key(tmp_path, SHOP_B)
    codec = shop_codec(tmp_path)
    [a] = await codec.for_shop(SHOP_A).encode([PLAIN])
    [b] = await codec.for_shop(SHOP_B).encode([PLAIN])
    [first] = await codec.encode([PLAIN])
    assert await codec.decode([a]) == [PLAIN]  # its derived key now cached in this codec
    assert shred_shop_key(tmp_path, SHOP_A) is True
    assert shred_shop_key(tmp_path, SHOP_A) is False
    for reader in (codec, shop_codec(tmp_path)):  # the running process too, not only a new one
        with pytest.raises(UnknownKey) as refused:
            await reader.decode([a])
        assert str(refused.value) == (
            f"payload encrypted with key 'shop/{SHOP_A}/k1', which is not here: it needs that "
            "master key (COMPLAINTS_CODEC_KEYS) and the shop's secret (COMPLAINTS_SHOP_KEYS); "
            "a shredded shop's payloads stay sealed"
        )
        assert "\n" not in str(refused.value)
        assert await reader.decode([b, first]) == [PLAIN, PLAIN]
    with pytest.raises(UnknownKey):  # nor does it seal any more
        await codec.for_shop(SHOP_A).encode([PLAIN])
    # Made again, the shop gets a new secret: the old payloads stay sealed.
    add_shop_key(tmp_path, SHOP_A)
    with pytest.raises(InvalidTag):
        await codec.decode([a])


async def test_a_shop_added_after_the_codec_was_made_seals_without_a_restart(
    tmp_path: Path,
) -> None:
    codec = shop_codec(tmp_path / "not-yet")
    with pytest.raises(UnknownKey, match=f"'shop/{SHOP_A}/k1'"):
        await codec.for_shop(SHOP_A).encode([PLAIN])  # never sealed with another key instead
    add_shop_key(tmp_path / "not-yet", SHOP_A)
    [a] = await codec.for_shop(SHOP_A).encode([PLAIN])
    assert await codec.decode([a]) == [PLAIN]


async def test_a_master_key_rotation_carries_the_shops_along(tmp_path: Path) -> None:
    add_shop_key(tmp_path, SHOP_A)
    old, new = new_key(), new_key()
    [before] = await shop_codec(tmp_path, {"k1": old}, "k1").for_shop(SHOP_A).encode([PLAIN])
    after = shop_codec(tmp_path, {"k1": old, "k2": new}, "k2").for_shop(SHOP_A)
    [sealed_after] = await after.encode([PLAIN])
    assert sealed_after.metadata[KEY_ID] == f"shop/{SHOP_A}/k2".encode()
    assert await after.decode([before, sealed_after]) == [PLAIN, PLAIN]


def test_a_shop_secret_is_made_once_private_and_whole(tmp_path: Path) -> None:
    folder = tmp_path / "shop-keys"
    add_shop_key(folder, SHOP_A)
    secret = (folder / SHOP_A).read_text()
    add_shop_key(folder, SHOP_A)  # again: the secret stays what it was
    assert (folder / SHOP_A).read_text() == secret
    assert len(base64.b64decode(secret.strip(), validate=True)) == 32
    assert stat.S_IMODE((folder / SHOP_A).stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [SHOP_A]  # no temporary left behind
    add_shop_key(folder, FIRST_SHOP)  # the first shop is sealed with the master key
    assert not (folder / FIRST_SHOP).exists()
    with pytest.raises(ValueError, match="no shop secret to shred"):
        shred_shop_key(folder, FIRST_SHOP)
    with pytest.raises(ValueError, match="is not a shop id"):
        add_shop_key(folder, "../codec-keys.json")


async def test_a_key_id_never_names_a_file_outside_the_folder(tmp_path: Path) -> None:
    (tmp_path / "outside").write_text(base64.b64encode(bytes(32)).decode())
    folder = tmp_path / "shop-keys"
    add_shop_key(folder, SHOP_A)
    codec = shop_codec(folder)
    [a] = await codec.for_shop(SHOP_A).encode([PLAIN])
    for key_id in ("shop/../outside/k1", "shop//k1", f"shop/{SHOP_A}/nope", "shop/"):
        forged = Payload(metadata={**a.metadata, KEY_ID: key_id.encode()}, data=a.data)
        with pytest.raises(UnknownKey):
            await codec.decode([forged])


async def test_payloads_outside_any_case_keep_the_master_key(tmp_path: Path) -> None:
    add_shop_key(tmp_path, SHOP_A)
    converter = data_converter(shop_codec(tmp_path))
    [sealed] = await converter.encode(["no workflow here"])
    assert sealed.metadata[KEY_ID] == b"k1"
    context = WorkflowSerializationContext("default", workflow_id(SHOP_A, "h00g-fans-atey"))
    [in_case] = await converter.with_context(context).encode(["a case's input"])
    assert in_case.metadata[KEY_ID] == f"shop/{SHOP_A}/k1".encode()


def test_a_master_key_id_cannot_look_like_a_shops() -> None:
    with pytest.raises(ValidationError, match="ids starting 'shop/' name shops' keys"):
        Settings(codec_keys={"shop/k7qm-3xd9/k1": SecretStr(new_key())})
    assert Settings(data_dir=Path("/srv/data")).shop_keys_folder == Path("/srv/data/shop-keys")
    assert Settings(shop_keys=Path("/run/keys")).shop_keys_folder == Path("/run/keys")

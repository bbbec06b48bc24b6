"""Payload encryption: nothing the service sends to Temporal is readable there.

AES-256-GCM over each whole payload (metadata and data), the key id in the encrypted
payload's metadata. Several keys may be configured: payloads encrypted with an older key
still decode after a rotation, new ones use the active key. A payload that was never
encrypted (histories recorded before the codec) passes through unchanged, so running and
recorded cases still replay.

Keys per shop. A payload of a shop's case (the SDK hands the codec the workflow id it
belongs to: `with_context`) is sealed under that shop's own key, derived with HKDF-SHA256
from the active master key and the shop's random secret, one file per shop in the shop key
folder (COMPLAINTS_SHOP_KEYS); its key id names both, `shop/<shop>/<master key id>`.
Destroying the shop's secret (`shred_shop_key`) leaves its payloads unreadable everywhere,
other shops' untouched. The first shop's payloads, and any without a case's context, keep
the master key and its plain key id, as before there were shops. Decoding reads the key id,
never the context, so any process with the keys opens any payload; the secrets are read
from their files on every use, so a shop added later needs no restart and a shredded one
stops opening at once.
"""

import base64
import contextlib
import copy
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Self

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from infra.shop_ids import FIRST_SHOP, is_shop_id, shop_of

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE = 12
SHOP_KEY = "shop/"  # key ids `shop/<shop>/<master key id>`
SECRET_BYTES = 32


class UnknownKey(ValueError):
    """A payload whose key is not here. One message per key id whatever is missing (the
    master key, the shop's secret, the shop itself), so it tells nobody whether a shop
    exists."""

    def __init__(self, key_id: str) -> None:
        if key_id.startswith(SHOP_KEY):
            super().__init__(
                f"payload encrypted with key {key_id!r}, which is not here: it needs that "
                "master key (COMPLAINTS_CODEC_KEYS) and the shop's secret (COMPLAINTS_SHOP_KEYS); "
                "a shredded shop's payloads stay sealed"
            )
        else:
            super().__init__(
                f"payload encrypted with key {key_id!r}, which is not configured "
                "(COMPLAINTS_CODEC_KEYS keeps old keys after a rotation)"
            )


def shop_key_id(shop: str, master_id: str) -> str:
    return f"{SHOP_KEY}{shop}/{master_id}"


def shop_of_key(key_id: str) -> str:
    """The shop a key id seals for: the one it names, else (a master key's id) the first."""
    if key_id.startswith(SHOP_KEY):
        return key_id[len(SHOP_KEY) :].partition("/")[0]
    return FIRST_SHOP


def key_id_of(payload: Payload) -> str | None:
    """The key id of a sealed payload; None for one never sealed."""
    if payload.metadata.get("encoding") != ENCODING:
        return None
    return payload.metadata.get(KEY_ID, b"").decode(errors="replace")


def _secret_file(folder: Path, shop: str) -> Path:
    if not is_shop_id(shop):  # a key id comes from a payload: never a path of its choosing
        raise ValueError(f"{shop!r} is not a shop id")
    return folder / shop


def _read_secret(folder: Path | None, shop: str) -> bytes | None:
    if folder is None or shop == FIRST_SHOP or not is_shop_id(shop):
        return None
    try:
        text = _secret_file(folder, shop).read_text()
    except FileNotFoundError:
        return None
    secret = base64.b64decode(text.strip(), validate=True)
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"the secret of shop {shop} in {folder} is not {SECRET_BYTES} bytes")
    return secret


def derive_shop_key(master: bytes, secret: bytes, shop: str) -> bytes:
    """The shop's AES-256 key: HKDF-SHA256 over the master key, salted with the shop's
    secret, bound to the shop id. Without either input it cannot be made again."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=secret,
        info=f"complaints payload key for shop {shop}".encode(),
    )
    return hkdf.derive(master)


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """Seals with the active master key, or (bound to a shop's case by `with_context` or
    `for_shop`) with that shop's key; opens whatever it has the keys for."""

    def __init__(
        self,
        keys: Mapping[str, bytes],
        active: str,
        shop_keys: Path | None = None,
        shop: str = FIRST_SHOP,
    ) -> None:
        if active not in keys:
            raise ValueError(f"the active key {active!r} is not among the keys")
        self.active = active
        self.masters = dict(keys)
        self.ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.shop_keys = shop_keys
        self.shop = shop
        # (shop key id, secret) -> cipher, shared by the copies `with_context` makes. Keyed
        # by the secret as just read, so a shredded secret never opens anything from here.
        self._derived: dict[tuple[str, bytes], AESGCM] = {}

    def for_shop(self, shop: str) -> Self:
        """This codec sealing for `shop` (the first shop: with the master key, as ever)."""
        if shop == self.shop:
            return self
        bound = copy.copy(self)
        bound.shop = shop
        return bound

    def with_context(self, context: SerializationContext) -> Self:
        workflow_id = None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = context.workflow_id
        return self.for_shop(FIRST_SHOP if workflow_id is None else shop_of(workflow_id))

    def _cipher(self, key_id: str) -> AESGCM:
        """The cipher for a key id; a shop's secret is read from its file now."""
        if not key_id.startswith(SHOP_KEY):
            cipher = self.ciphers.get(key_id)
            if cipher is None:
                raise UnknownKey(key_id)
            return cipher
        shop, _, master_id = key_id[len(SHOP_KEY) :].partition("/")
        master = self.masters.get(master_id)
        secret = _read_secret(self.shop_keys, shop)
        if master is None or secret is None:
            raise UnknownKey(key_id)
        cipher = self._derived.get((key_id, secret))
        if cipher is None:
            cipher = AESGCM(derive_shop_key(master, secret, shop))
            self._derived[(key_id, secret)] = cipher
        return cipher

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        payloads = list(payloads)
        if not payloads:  # nothing to seal needs no key (terminating a shredded shop's case)
            return []
        key_id = self.active if self.shop == FIRST_SHOP else shop_key_id(self.shop, self.active)
        cipher = self._cipher(key_id)
        out = []
        for p in payloads:
            nonce = os.urandom(NONCE)
            sealed = nonce + cipher.encrypt(nonce, p.SerializeToString(), key_id.encode())
            out.append(
                Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=sealed)
            )
        return out

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            key_id = key_id_of(p)
            if key_id is None:
                out.append(p)  # never encrypted: recorded before the codec
                continue
            nonce, sealed = p.data[:NONCE], p.data[NONCE:]
            opened = self._cipher(key_id).decrypt(nonce, sealed, key_id.encode())
            out.append(Payload.FromString(opened))
        return out


def add_shop_key(folder: Path, shop: str, secret: str | None = None) -> bool:
    """Make the shop's secret in the shop key folder unless it has one (`secret`, base64,
    when a backup brings it back; else a new random one): written whole under a temporary
    name (mode 0600) and linked into place, so a reader never sees half a file and two
    processes adding the same shop keep one secret. The first shop needs none (its payloads
    are sealed with the master key). True when this call wrote it."""
    if shop == FIRST_SHOP:
        return False
    final = _secret_file(folder, shop)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if final.exists():
        return False
    text = secret.strip() if secret else base64.b64encode(os.urandom(SECRET_BYTES)).decode()
    if len(base64.b64decode(text, validate=True)) != SECRET_BYTES:
        raise ValueError(f"the secret given for shop {shop} is not {SECRET_BYTES} bytes")
    temp = folder / f".{shop}.{os.getpid()}.{os.urandom(4).hex()}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written = False
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(temp, final)
            written = True
    finally:
        temp.unlink()
    _sync_folder(folder)
    return written


def shop_secrets(folder: Path) -> dict[str, str]:
    """Every shop's secret in the folder (base64), for a backup to seal."""
    if not folder.is_dir():
        return {}
    return {
        path.name: path.read_text().strip()
        for path in sorted(folder.iterdir())
        if is_shop_id(path.name) and path.is_file()
    }


def shred_shop_key(folder: Path, shop: str) -> bool:
    """Destroy the shop's secret: every payload sealed for the shop becomes unreadable, in
    every history and every copy of one. True if there was a secret. Copies of the folder
    (backups of it) are the operator's to destroy too."""
    if shop == FIRST_SHOP:
        raise ValueError(
            "the first shop's payloads are sealed with the master keys (COMPLAINTS_CODEC_KEYS); "
            "it has no shop secret to shred"
        )
    path = _secret_file(folder, shop)
    try:
        size = path.stat().st_size
        with path.open("r+b") as f:  # overwritten first, where the file system does so in place
            f.write(os.urandom(size))
            f.flush()
            os.fsync(f.fileno())
        path.unlink()
    except FileNotFoundError:
        return False
    _sync_folder(folder)
    return True


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_keys(keys: Mapping[str, str]) -> dict[str, bytes]:
    """Key id -> base64 text, as COMPLAINTS_CODEC_KEYS holds them; each 32 bytes."""
    parsed = {}
    for key_id, text in keys.items():
        try:
            key = base64.b64decode(text, validate=True)
        except ValueError:
            raise ValueError(f"key {key_id!r} is not base64") from None
        if len(key) != 32:
            raise ValueError(f"key {key_id!r} has {len(key)} bytes; AES-256 needs 32")
        parsed[key_id] = key
    return parsed


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def shop_keys_folder(data_dir: Path) -> Path:
    """The shop key folder when COMPLAINTS_SHOP_KEYS is unset: beside the local key."""
    return data_dir / "shop-keys"


def keys_file(data_dir: Path) -> Path:
    return data_dir / "codec-keys.json"


def ensure_local_keys(data_dir: Path) -> Path:
    """`make run` on one machine: a key made once and kept beside the data it seals, read
    by the CLI and the worker alike. Production sets COMPLAINTS_CODEC_KEYS instead."""
    path = keys_file(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"active": "local-1", "keys": {"local-1": new_key()}}, f)
    return path


def local_keys(data_dir: Path) -> tuple[dict[str, str], str] | None:
    path = keys_file(data_dir)
    if not path.exists():
        return None
    saved = json.loads(path.read_text())
    return saved["keys"], saved["active"]

"""The codec's keys as files: the master keys (COMPLAINTS_CODEC_KEYS, or the one `make run`
keeps beside its data) and each shop's random secret in the shop key folder, written whole,
read on every use, shredded on request. Plain files and base64 only: the settings read them
without loading the codec's cryptography or Temporal's payload types (infra/codec.py)."""

import base64
import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from infra.shop_ids import FIRST_SHOP, is_shop_id

SHOP_KEY = "shop/"  # key ids `shop/<shop>/<master key id>`
SECRET_BYTES = 32


def shop_key_id(shop: str, master_id: str) -> str:
    return f"{SHOP_KEY}{shop}/{master_id}"


def shop_of_key(key_id: str) -> str:
    """The shop a key id seals for: the one it names, else (a master key's id) the first."""
    if key_id.startswith(SHOP_KEY):
        return key_id[len(SHOP_KEY) :].partition("/")[0]
    return FIRST_SHOP


def secret_file(folder: Path, shop: str) -> Path:
    if not is_shop_id(shop):  # a key id comes from a payload: never a path of its choosing
        raise ValueError(f"{shop!r} is not a shop id")
    return folder / shop


def read_secret(folder: Path | None, shop: str) -> bytes | None:
    if folder is None or shop == FIRST_SHOP or not is_shop_id(shop):
        return None
    try:
        text = secret_file(folder, shop).read_text()
    except FileNotFoundError:
        return None
    secret = base64.b64decode(text.strip(), validate=True)
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"the secret of shop {shop} in {folder} is not {SECRET_BYTES} bytes")
    return secret


def add_shop_key(folder: Path, shop: str, secret: str | None = None) -> bool:
    """Make the shop's secret in the shop key folder unless it has one (`secret`, base64,
    when a backup brings it back; else a new random one): written whole under a temporary
    name (mode 0600) and linked into place, so a reader never sees half a file and two
    processes adding the same shop keep one secret. The first shop needs none (its payloads
    are sealed with the master key). True when this call wrote it."""
    if shop == FIRST_SHOP:
        return False
    final = secret_file(folder, shop)
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
    path = secret_file(folder, shop)
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

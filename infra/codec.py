"""Payload encryption: nothing the service sends to Temporal is readable there.

AES-256-GCM over each whole payload (metadata and data), the key id in the encrypted
payload's metadata. Several keys may be configured: payloads encrypted with an older key
still decode after a rotation, new ones use the active key. A payload that was never
encrypted (histories recorded before the codec) passes through unchanged, so running and
recorded cases still replay.
"""

import base64
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE = 12


class UnknownKey(ValueError):
    pass


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError(f"the active key {active!r} is not among the keys")
        self.active = active
        self.ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        cipher = self.ciphers[self.active]
        out = []
        for p in payloads:
            nonce = os.urandom(NONCE)
            sealed = nonce + cipher.encrypt(nonce, p.SerializeToString(), self.active.encode())
            out.append(
                Payload(metadata={"encoding": ENCODING, KEY_ID: self.active.encode()}, data=sealed)
            )
        return out

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)  # never encrypted: recorded before the codec
                continue
            key_id = p.metadata.get(KEY_ID, b"").decode()
            cipher = self.ciphers.get(key_id)
            if cipher is None:
                raise UnknownKey(
                    f"payload encrypted with key {key_id!r}, which is not configured "
                    "(COMPLAINTS_CODEC_KEYS keeps old keys after a rotation)"
                )
            nonce, sealed = p.data[:NONCE], p.data[NONCE:]
            out.append(Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode())))
        return out


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

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

import copy
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

from infra.keys import SHOP_KEY, read_secret, shop_key_id
from infra.shop_ids import FIRST_SHOP, shop_of

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE = 12


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


def key_id_of(payload: Payload) -> str | None:
    """The key id of a sealed payload; None for one never sealed."""
    if payload.metadata.get("encoding") != ENCODING:
        return None
    return payload.metadata.get(KEY_ID, b"").decode(errors="replace")


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
        secret = read_secret(self.shop_keys, shop)
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
        aad = key_id.encode()
        out = []
        for p in payloads:
            nonce = os.urandom(NONCE)
            sealed = Payload(data=nonce + cipher.encrypt(nonce, p.SerializeToString(), aad))
            # Set key by key: a dict given to the constructor goes through protobuf's generic
            # MutableMapping.update, twice the cost of the whole payload built this way.
            sealed.metadata["encoding"] = ENCODING
            sealed.metadata[KEY_ID] = aad
            out.append(sealed)
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

"""Customer links (`/c/<token>`): a signed token for one case, one purpose, until a time.

The token is `<payload>.<signature>`, both base64url without padding: the payload is
`case id | purpose | expiry (Unix seconds)` and the signature an HMAC-SHA256 of it, cut to
128 bits. Nothing personal is in it (a case id is an opaque reference), and nothing a
customer could change without breaking the signature. It says nothing about whether the
answer was given already: the page asks the case (a second answer changes nothing).

The key: COMPLAINTS_LINK_SECRET when set, else one derived from each payload key
(COMPLAINTS_CODEC_KEYS), the active one signing; any of them verifies, so a key rotation
keeps the links already sent working while the old key is kept.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from infra.keys import local_keys, parse_keys
from infra.settings import Settings

PURPOSES = ("choose", "rate", "status", "opt_out")
# An opt-out link names a customer (`cus-...`, as opaque as a case id) instead of a case, and
# keeps working long after the message: withdrawing consent must stay free and easy.
OPT_OUT = "opt_out"
OPT_OUT_TTL = timedelta(days=400)
_SIGNATURE_BYTES = 16
_SEPARATOR = "|"


class LinkRefused(Exception):
    """A token that is not ours, or was changed: the page says the link does not work."""


class LinkExpired(LinkRefused):
    """A genuine token past its time: the page says so kindly and how to reach the shop."""

    def __init__(self, claim: "LinkClaim") -> None:
        super().__init__(f"the link for case {claim.case_id} expired at {claim.expires_at}")
        self.claim = claim


@dataclass(frozen=True)
class LinkClaim:
    case_id: str
    purpose: str
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_secret(key: bytes) -> bytes:
    """A link key from a payload key: its own purpose, so neither reveals the other."""
    return hmac.new(key, b"complaints customer links v1", hashlib.sha256).digest()


class LinkSigner:
    def __init__(self, secrets: list[bytes]) -> None:
        if not secrets:
            raise ValueError("customer links need a secret (COMPLAINTS_LINK_SECRET)")
        self.secrets = secrets  # the first signs; any verifies

    def _sign(self, payload: bytes, secret: bytes) -> bytes:
        return hmac.new(secret, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def token(self, case_id: str, purpose: str, expires_at: datetime) -> str:
        if purpose not in PURPOSES:
            raise ValueError(f"{purpose!r} is not a link purpose ({', '.join(PURPOSES)})")
        if _SEPARATOR in case_id:
            raise ValueError("a case id has no '|'")
        payload = _SEPARATOR.join((case_id, purpose, str(int(expires_at.timestamp())))).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload, self.secrets[0]))}"

    def issue(self, case_id: str, purpose: str, ttl: timedelta, now: datetime) -> str:
        return self.token(case_id, purpose, now + ttl)

    def read(self, token: str, now: datetime | None = None) -> LinkClaim:
        """The claim of a genuine, unexpired token; LinkRefused or LinkExpired otherwise."""
        try:
            payload_text, signature_text = token.split(".")
            payload, signature = _unb64(payload_text), _unb64(signature_text)
        except ValueError:
            raise LinkRefused("not a link token") from None
        if not any(hmac.compare_digest(signature, self._sign(payload, s)) for s in self.secrets):
            raise LinkRefused("the link's signature does not match")
        try:
            case_id, purpose, expiry = payload.decode().split(_SEPARATOR)
            claim = LinkClaim(case_id, purpose, datetime.fromtimestamp(int(expiry), UTC))
        except ValueError:
            raise LinkRefused("not a link token") from None
        if claim.expires_at <= (now or datetime.now(UTC)):
            raise LinkExpired(claim)
        return claim


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/c/{token}"


def opt_out_url(public_url: str, signer: "LinkSigner", customer_id: str, now: datetime) -> str:
    """The free opt-out link of an advertising message: `/c/<token>/stop`."""
    token = signer.issue(customer_id, OPT_OUT, OPT_OUT_TTL, now)
    return f"{link_url(public_url, token)}/stop"


def link_signer(settings: Settings) -> LinkSigner:
    """The signer the settings choose: COMPLAINTS_LINK_SECRET, else the payload keys'
    (COMPLAINTS_CODEC_KEYS, or the key `make run` keeps in the data folder), active first."""
    if settings.link_secret is not None:
        return LinkSigner([settings.link_secret.get_secret_value().encode()])
    if settings.codec_keys:
        keys = {k: v.get_secret_value() for k, v in settings.codec_keys.items()}
        active = settings.codec_key_id
    else:
        local = local_keys(settings.data_dir)
        if local is None:
            raise ValueError(
                "customer links need COMPLAINTS_LINK_SECRET or payload keys (COMPLAINTS_CODEC_KEYS)"
            )
        keys, active = local
    parsed = parse_keys(keys)
    ordered = [parsed[active], *(v for k, v in parsed.items() if k != active)]
    return LinkSigner([derive_secret(key) for key in ordered])

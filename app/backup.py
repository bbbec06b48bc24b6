"""`complaints backup DIR` and `complaints restore DIR`.

A backup folder holds:
- `tables/<table>.csv`: the service's database, one snapshot (store.backup);
- `keys.sealed.json`: the payload codec's keys, sealed with a passphrase (AES-256-GCM under a
  key derived by scrypt), without which every case's history in Temporal stays unreadable;
- `settings.json`: the shop's COMPLAINTS_* settings from the environment, secrets left out;
- `manifest.json` (written last; its presence means the backup is complete): the versions,
  the schema, each file's rows and SHA-256, the newest event.

Temporal's own database is backed up beside it by the cluster's operator (docs/operations.md,
"Backup and restore"); `complaints doctor` reports where the two disagree."""

import base64
import getpass
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from app.context import Context, open_pool
from app.refusals import Conflict, InvalidInput
from infra import postgres
from infra.keys import add_shop_key, local_keys, parse_keys, shop_secrets
from store import backup as store_backup
from store import cases as case_store
from store import scope

FORMAT = "complaints-backup/1"
KEYS_FORMAT = "complaints-keys/1"
PASSPHRASE_ENV = "COMPLAINTS_BACKUP_PASSPHRASE"
MIN_PASSPHRASE = 12
# scrypt at 2**15 x 8: about 0.1 s and 32 MiB, once per backup or restore.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_AAD = KEYS_FORMAT.encode()
_SECRET_NAME = re.compile(r"SECRET|KEY|TOKEN|PASSWORD|PASSPHRASE|DATABASE_URL")


class BackupRefused(Conflict):
    kind, title = "backup-refused", "Backup or restore refused"


@dataclass(frozen=True)
class BackupDone:
    folder: Path
    cases: int
    events: int
    tables: int
    key_ids: list[str]
    newest_event: dict[str, Any] | None


@dataclass(frozen=True)
class RestoreDone:
    rows: dict[str, int]
    cases: int
    keys: str  # what became of the keys, one line
    notes: list[str] = field(default_factory=list)


# --- the passphrase and the sealed keys ------------------------------------------------


def passphrase(confirm: bool) -> str:
    """COMPLAINTS_BACKUP_PASSPHRASE, else asked on the terminal (twice for a backup)."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given is None:
        if not sys.stdin.isatty():
            raise InvalidInput(
                f"no passphrase: set {PASSPHRASE_ENV} or run this on a terminal to be asked"
            )
        given = getpass.getpass("backup passphrase: ")
        if confirm and getpass.getpass("again: ") != given:
            raise InvalidInput("the two passphrases differ; nothing was written")
    if len(given) < MIN_PASSPHRASE:
        raise InvalidInput(
            f"the passphrase has {len(given)} characters; use at least {MIN_PASSPHRASE}"
        )
    return given


def _derive(secret: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(secret.encode())


def seal(
    keys: dict[str, str], active: str, secret: str, shops: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The master keys and each shop's secret (its payload key is made from it and them),
    sealed with the passphrase."""
    salt, nonce = os.urandom(16), os.urandom(12)
    plain = json.dumps({"keys": keys, "active": active, "shops": dict(shops or {})}).encode()
    sealed = AESGCM(_derive(secret, salt)).encrypt(nonce, plain, _AAD)
    b64 = base64.b64encode
    return {
        "format": KEYS_FORMAT,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                "salt": b64(salt).decode()},
        "cipher": "AES-256-GCM",
        "nonce": b64(nonce).decode(),
        "sealed": b64(sealed).decode(),
        "key_ids": sorted(keys),
    }  # fmt: skip


def unseal(box: dict[str, Any], secret: str) -> tuple[dict[str, str], str]:
    opened = unsealed(box, secret)
    return opened["keys"], opened["active"]


def unsealed(box: dict[str, Any], secret: str) -> dict[str, Any]:
    """What the box holds: `keys`, `active` and `shops` (none in a backup made before)."""
    kdf = box["kdf"]
    key = Scrypt(
        salt=base64.b64decode(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"]
    ).derive(secret.encode())
    try:
        plain = AESGCM(key).decrypt(
            base64.b64decode(box["nonce"]), base64.b64decode(box["sealed"]), _AAD
        )
    except InvalidTag:
        raise InvalidInput(
            "the passphrase does not open keys.sealed.json (or the file was changed)"
        ) from None
    opened: dict[str, Any] = json.loads(plain)
    opened.setdefault("shops", {})
    return opened


def configured_keys(ctx: Context) -> tuple[dict[str, str], str] | None:
    s = ctx.settings
    if s.codec_keys:
        return {k: v.get_secret_value() for k, v in s.codec_keys.items()}, s.codec_key_id
    return local_keys(s.data_dir)


def shop_settings(environ: dict[str, str]) -> dict[str, str]:
    """The COMPLAINTS_* settings in force, without anything secret."""
    return {
        k: v
        for k, v in sorted(environ.items())
        if k.startswith("COMPLAINTS_") and not _SECRET_NAME.search(k)
    }


# --- backup ------------------------------------------------------------------------------


async def backup(ctx: Context, folder: Path, secret: str | None = None) -> BackupDone:
    if folder.exists() and any(folder.iterdir()):
        raise BackupRefused(f"{folder} is not empty: a backup goes into a new or empty folder")
    keys = configured_keys(ctx)
    if keys is None:
        raise BackupRefused(
            "no payload keys configured (COMPLAINTS_CODEC_KEYS): without them a backup cannot "
            "make the cases' histories readable again"
        )
    secret = secret if secret is not None else passphrase(confirm=True)
    parse_keys(keys[0])  # refuse keys that are not keys before writing anything
    url = postgres.configured_url(ctx.settings.database_url, ctx.settings.data_dir)
    if url is None:
        raise BackupRefused("no database: set DATABASE_URL or start the service with `make run`")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pool = await open_pool(ctx.settings, size=1)
    try:
        with scope.every_shop():  # every shop's rows
            async with pool.acquire() as conn:
                exported = await store_backup.export(conn, folder / "tables")
    except store_backup.RestoreRefused as err:
        raise BackupRefused(str(err)) from None
    finally:
        await pool.close()
    box = folder / "keys.sealed.json"
    shop_keys = shop_secrets(ctx.settings.shop_keys_folder)
    _write(box, json.dumps(seal(*keys, secret, shop_keys), indent=2))
    settings_file = folder / "settings.json"
    _write(settings_file, json.dumps(shop_settings(dict(os.environ)), indent=2))
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "snapshot_at": exported.snapshot_at.isoformat(),
        "versions": {
            "complaints": _version("complaints"),
            "temporalio": _version("temporalio"),
            "postgresql": exported.server_version,
        },
        "method": "COPY ... TO STDOUT (csv, header) of every table, one REPEATABLE READ snapshot",
        "schema": exported.schema,
        "tables": exported.tables,
        "cases": exported.cases,
        "newest_event": exported.newest_event,
        "keys": {"file": box.name, "sha256": store_backup.sha256(box), "ids": sorted(keys[0]),
                 "active": keys[1], "shops": sorted(shop_keys)},
        "settings": {"file": settings_file.name},
        "temporal": {"address": ctx.settings.temporal_address,
                     "namespace": ctx.settings.temporal_namespace},
    }  # fmt: skip
    _write(folder / "manifest.json", json.dumps(manifest, indent=2, default=str))
    return BackupDone(
        folder=folder,
        cases=exported.cases,
        events=exported.tables["complaint_events"]["rows"],
        tables=len(exported.tables),
        key_ids=sorted(keys[0]),
        newest_event=exported.newest_event,
    )


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


# --- restore -----------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.exists():
        raise BackupRefused(f"{folder} has no manifest.json: not a backup, or an unfinished one")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupRefused(f"{path}: format {manifest.get('format')!r}, expected {FORMAT}")
    files = [(folder / "tables" / t["file"], t["sha256"]) for t in manifest["tables"].values()]
    files.append((folder / manifest["keys"]["file"], manifest["keys"]["sha256"]))
    for file, digest in files:
        if not file.exists() or store_backup.sha256(file) != digest:
            raise BackupRefused(f"{file} is missing or changed since the backup: not restored")
    return manifest


async def restore(
    ctx: Context, folder: Path, secret: str | None = None, keys_out: Path | None = None
) -> RestoreDone:
    manifest = read_manifest(folder)
    secret = secret if secret is not None else passphrase(confirm=False)
    box = unsealed(json.loads((folder / manifest["keys"]["file"]).read_text()), secret)
    keys, active = box["keys"], box["active"]
    pool = await open_pool(ctx.settings, size=2, schema=False)
    try:
        try:
            rows = await store_backup.load(pool, folder / "tables", manifest["schema"])
        except store_backup.RestoreRefused as err:
            raise BackupRefused(str(err)) from None
        with scope.every_shop():
            cases = await case_store.count_cases(pool)
    finally:
        await pool.close()
    outcome = _keys_outcome(ctx, keys, active, keys_out)
    return RestoreDone(rows=rows, cases=cases, keys=f"{outcome}\n{_shop_keys_back(ctx, box)}")


def _shop_keys_back(ctx: Context, box: dict[str, Any]) -> str:
    """Each shop's secret into the shop key folder, where it is not there already."""
    folder = ctx.settings.shop_keys_folder
    have = shop_secrets(folder)
    written = [s for s, text in box["shops"].items() if add_shop_key(folder, s, text)]
    differ = sorted(s for s, text in box["shops"].items() if have.get(s, text) != text)
    line = f"shop keys: {len(written)} of {len(box['shops'])} written to {folder}"
    if differ:
        line += (
            f"; {', '.join(differ)} kept the secret already there, which differs from the "
            "backup's: that shop's older histories need the backup's"
        )
    return line


def _keys_outcome(ctx: Context, keys: dict[str, str], active: str, keys_out: Path | None) -> str:
    if keys_out is not None:
        _write(keys_out, json.dumps({"keys": keys, "active": active}))
        return (
            f"keys {', '.join(sorted(keys))} written to {keys_out} (mode 600): set "
            "COMPLAINTS_CODEC_KEYS to its `keys` and COMPLAINTS_CODEC_KEY_ID to its `active`"
        )
    have = configured_keys(ctx)
    mine = have[0] if have else {}
    missing = sorted(k for k, v in keys.items() if mine.get(k) != v)
    if not missing:
        return f"the configured payload keys include the backup's ({', '.join(sorted(keys))})"
    return (
        f"COMPLAINTS_CODEC_KEYS lacks the backup's key {', '.join(missing)}: histories sealed "
        "with it stay unreadable until you restore it (`complaints restore DIR --keys-out FILE`)"
    )

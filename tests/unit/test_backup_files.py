"""The backup's pieces without a database: the keys sealed and opened with the passphrase,
the settings copied without secrets, the tables loaded parents first."""

import json

import pytest

from app import backup
from app.refusals import InvalidInput
from infra.keys import new_key
from store.backup import RestoreRefused, load_order


def test_keys_open_with_the_passphrase_only() -> None:
    keys = {"2026-11": new_key(), "2026-12": new_key()}
    box = backup.seal(keys, "2026-12", "a long enough passphrase")
    text = json.dumps(box)
    assert all(key not in text for key in keys.values())
    assert box["kdf"]["name"] == "scrypt" and box["key_ids"] == ["2026-11", "2026-12"]
    assert backup.unseal(box, "a long enough passphrase") == (keys, "2026-12")
    with pytest.raises(InvalidInput, match="does not open"):
        backup.unseal(box, "another long passphrase")
    tampered = dict(box, key_ids=["x"], nonce=box["nonce"][:-4] + "AAAA")
    with pytest.raises(InvalidInput):
        backup.unseal(tampered, "a long enough passphrase")


def test_a_short_passphrase_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backup.PASSPHRASE_ENV, "short")
    with pytest.raises(InvalidInput, match="at least 12"):
        backup.passphrase(confirm=True)
    monkeypatch.setenv(backup.PASSPHRASE_ENV, "twelve chars")
    assert backup.passphrase(confirm=True) == "twelve chars"


def test_settings_are_copied_without_secrets() -> None:
    copied = backup.shop_settings(
        {
            "COMPLAINTS_TIMEZONE": "Asia/Seoul",
            "COMPLAINTS_WEBHOOK_SECRET": "whsec_x",
            "COMPLAINTS_CODEC_KEYS": "{}",
            "COMPLAINTS_SOLAPI_API_KEY": "k",
            "COMPLAINTS_DATABASE_URL": "postgresql://u:p@h/d",
            "COMPLAINTS_BACKUP_PASSPHRASE": "p",
            "HOME": "/root",
        }
    )
    assert copied == {"COMPLAINTS_TIMEZONE": "Asia/Seoul"}


def test_tables_load_after_the_tables_they_refer_to() -> None:
    tables = ["staff_sessions", "notifications", "staff", "complaint_events", "customers"]
    refs = [("staff_sessions", "staff"), ("notifications", "complaint_events")]
    order = load_order(tables, refs)
    assert order.index("staff") < order.index("staff_sessions")
    assert order.index("complaint_events") < order.index("notifications")
    with pytest.raises(RestoreRefused):
        load_order(["a", "b"], [("a", "b"), ("b", "a")])

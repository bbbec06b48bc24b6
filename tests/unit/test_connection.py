"""Temporal is reached as every Temporal tool reaches it: profile file, TEMPORAL_* variables,
API key and TLS; the project's own variables on top."""

from pathlib import Path

import pytest

from infra.connection import connect_config
from infra.settings import Settings, temporal_profile

PROFILES = """
[profile.default]
address = "localhost:7233"

[profile.cloud]
address = "shop.a1b2c.tmprl.cloud:7233"
namespace = "shop.a1b2c"
api_key = "secret-key"
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "temporal.toml"
    path.write_text(PROFILES)
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(path))
    return path


def test_a_profile_alone_gives_address_namespace_and_api_key_with_tls(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "cloud")
    settings = Settings()
    assert (settings.temporal_address, settings.temporal_namespace) == (
        "shop.a1b2c.tmprl.cloud:7233",
        "shop.a1b2c",
    )
    config = connect_config(settings)
    assert config["target_host"] == "shop.a1b2c.tmprl.cloud:7233"
    assert config["namespace"] == "shop.a1b2c"
    assert config["api_key"] == "secret-key" and config["tls"] is True


def test_temporal_variables_beat_the_file_and_the_projects_beat_both(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "cloud")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "staging")
    assert Settings().temporal_namespace == "staging"
    monkeypatch.setenv("COMPLAINTS_TEMPORAL_NAMESPACE", "shop-two")
    monkeypatch.setenv("COMPLAINTS_TEMPORAL_ADDRESS", "10.0.0.5:7233")
    settings = Settings()
    assert (settings.temporal_address, settings.temporal_namespace) == (
        "10.0.0.5:7233",
        "shop-two",
    )
    assert connect_config(settings)["api_key"] == "secret-key"


def test_nothing_configured_means_the_local_dev_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "absent.toml"))
    settings = Settings()
    assert (settings.temporal_address, settings.temporal_namespace) == (
        "localhost:7233",
        "default",
    )
    assert "api_key" not in connect_config(settings)


def test_a_broken_profile_file_is_one_line(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text("[profile.default\naddress = ")
    with pytest.raises(SystemExit, match=r"^configuration error: .*Temporal client configuration"):
        Settings.load()


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"TEMPORAL_ADDRESS": "temporal.shop:7233"},
        {"TEMPORAL_NAMESPACE": "bakery"},
        {"TEMPORAL_ADDRESS": "10.0.0.9:7233", "TEMPORAL_NAMESPACE": "repairs"},
    ],
)
def test_without_a_file_the_variables_read_here_are_what_temporals_reader_says(
    variables: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from temporalio.envconfig import ClientConfigProfile

    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TEMPORAL_CONFIG_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no temporal.toml there
    monkeypatch.setenv("HOME", str(tmp_path))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    profile = ClientConfigProfile.load()
    assert temporal_profile() == (profile.address, profile.namespace)
    (tmp_path / "temporalio").mkdir()
    (tmp_path / "temporalio" / "temporal.toml").write_text(PROFILES)  # now the file counts
    monkeypatch.setenv("TEMPORAL_PROFILE", "cloud")
    assert temporal_profile()[1] == (variables.get("TEMPORAL_NAMESPACE") or "shop.a1b2c")

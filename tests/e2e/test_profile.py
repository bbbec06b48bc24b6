"""A temporal.toml profile, with no TEMPORAL_ADDRESS, is enough for the CLI."""

from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from infra.settings import Settings
from tests.e2e.test_accidents import OPEN
from tests.e2e.test_cli import Cli
from worker import build_worker

pytestmark = pytest.mark.db


async def test_the_cli_reaches_temporal_through_a_profile_alone(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    cli = Cli(dev_env, settings)
    del cli.env["TEMPORAL_ADDRESS"]
    config = tmp_path / "temporal.toml"
    config.write_text(f'[profile.shop]\naddress = "{cli.address}"\nnamespace = "default"\n')
    cli.env |= {"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "shop"}
    async with build_worker(dev_env.client, pool, settings):
        assert "opened case" in await cli(*OPEN)
    cli.env["TEMPORAL_PROFILE"] = "nosuch"
    assert "Temporal client configuration: Profile 'nosuch' not found" in await cli(*OPEN, ok=False)

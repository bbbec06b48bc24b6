"""One way to reach Temporal for every entry point (worker, CLI, make run, benchmarks):
Temporal's own client configuration (envconfig: profile file, TEMPORAL_* variables, API
key, mTLS), with the project's settings on top, and the service's data converter."""

import asyncio
from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime

from infra import telemetry
from infra.codec import EncryptionCodec
from infra.converter import data_converter
from infra.keys import local_keys, parse_keys
from infra.settings import Settings


def codec_for(settings: Settings) -> EncryptionCodec | None:
    """The payload codec: COMPLAINTS_CODEC_KEYS, else the key `make run` keeps locally; each
    shop's payloads sealed with its own key from the shop key folder (COMPLAINTS_SHOP_KEYS)."""
    if settings.codec_keys:
        keys = {k: v.get_secret_value() for k, v in settings.codec_keys.items()}
        active = settings.codec_key_id
    else:
        local = local_keys(settings.data_dir)
        if local is None:
            return None
        keys, active = local
    return EncryptionCodec(parse_keys(keys), active, settings.shop_keys_folder)


def connect_config(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `Client.connect`: what `temporal` itself would use, with the
    address and namespace Settings resolved (they already honour the same sources)."""
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config["target_host"] = settings.temporal_address
    config["namespace"] = settings.temporal_namespace
    return config


async def connect(
    settings: Settings, attempts: int = 1, *, runtime: Runtime | None = None, **options: Any
) -> Client:
    """Connect, retrying while a just-started server finishes coming up. `runtime` is the
    worker's (infra.telemetry: metrics endpoint, core logs forwarded); without one the SDK's
    default serves no metrics. Traced when an OTLP endpoint is configured."""
    converter = data_converter(codec_for(settings))
    config = connect_config(settings) | {"data_converter": converter}
    if runtime is not None:
        config["runtime"] = runtime
    interceptors = telemetry.tracing_interceptors()
    if interceptors:
        config["interceptors"] = interceptors
    config |= options
    for attempt in range(1, attempts + 1):
        try:
            return await Client.connect(**config)
        except RuntimeError:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")

"""Keys per shop through a real worker and client: the SDK hands the codec each payload's
workflow (start input, Update input and result, activity input and result, query result),
so a shop's history is sealed under its own key id, as any client without the key reads it;
shredding one shop's secret leaves its history unopenable and the others' readable; the
first shop keeps the master key and its key id, as before shops."""

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import asyncpg
import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.commands import Apologize
from domain.model import CaseState
from infra.case_ids import new_case_id
from infra.codec import EncryptionCodec, UnknownKey, key_id_of
from infra.converter import DATA_CONVERTER, data_converter
from infra.keys import add_shop_key, parse_keys, shop_of_key, shred_shop_key
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP, new_shop_id, workflow_id
from store import shops
from tests.helpers import open_command
from worker import build_worker
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = pytest.mark.db

SHOP_A, SHOP_B, SHOP_NONE = new_shop_id(), new_shop_id(), "zzzz-zzzz"
CORE_MARKERS = {
    f".marker_recorded_event_attributes.details[{name}].payloads" for name in ("data", "patch-data")
}
APOLOGY = "Sorry the cake was crushed apology-shop-keys"


class RecordingCodec(EncryptionCodec):
    """The service's codec, noting (the shop it is bound to, the key id) of every payload it
    opens: what the SDK's context made of each call. The list is shared by its copies."""

    opened: list[tuple[str, str]]

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        payloads = list(payloads)
        self.opened.extend((self.shop, key_id_of(p) or "plain") for p in payloads)
        return await super().decode(payloads)


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload anywhere in a protobuf message (inputs, results, headers, memo, the
    UI's summaries), however deep, with where it is; search attributes aside."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        if field.message_type is None or field.name == "search_attributes":
            continue  # indexed by the server, never sealed (and never customer data)
        here = f"{path}.{field.name}"
        if field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    yield from payloads_in(item, f"{here}[{key}]")
        elif isinstance(value, Message):
            yield from payloads_in(value, here)
        else:  # a repeated field
            for item in value:
                yield from payloads_in(item, here)


async def sealed_history(raw: Client, wid: str) -> list[Payload]:
    """A case's history as a client without the keys reads it: its payloads, bar the SDK
    core's own bookkeeping in markers (a local activity's type and times, a patch's id),
    which no SDK hands to a codec."""
    history = await raw.get_workflow_handle(wid).fetch_history()
    return [
        p
        for event in history.events
        for where, p in payloads_in(event)
        if where not in CORE_MARKERS
    ]


async def test_each_shop_is_sealed_under_its_own_key_and_a_shredded_shop_alone_goes_dark(
    ts_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    for shop in (SHOP_A, SHOP_B):  # the shops' rows (their keys are the test's)
        await shops.add(pool, shop, f"shop {shop}")
    folder = tmp_path / "shop-keys"
    add_shop_key(folder, SHOP_A)  # SHOP_B is added only once the worker runs
    keys = {k: v.get_secret_value() for k, v in settings.codec_keys.items()}
    codec = RecordingCodec(parse_keys(keys), settings.codec_key_id, folder)
    codec.opened = []
    client = Client(**(ts_env.client.config() | {"data_converter": data_converter(codec)}))
    raw = Client(**(ts_env.client.config() | {"data_converter": DATA_CONVERTER}))
    master = settings.codec_key_id
    wids = {shop: workflow_id(shop, new_case_id()) for shop in (FIRST_SHOP, SHOP_A, SHOP_B)}
    handles: dict[str, WorkflowHandle[WF, CaseState]] = {}
    try:
        async with build_worker(client, pool, settings):
            add_shop_key(folder, SHOP_B)  # a shop added while the worker runs: no restart
            for shop, wid in wids.items():
                handle = await client.start_workflow(
                    WF.run,
                    open_command(wid.removeprefix(f"complaint-{shop}-").removeprefix("complaint-")),
                    id=wid,
                    task_queue=settings.task_queue,
                    static_summary=f"the case of shop {shop}",
                )
                handles[shop] = handle
                await handle.execute_update(WF.apologize, Apologize(what=APOLOGY))
                mark = len(codec.opened)
                state = await handle.query(WF.current)
                assert isinstance(state, CaseState) and state.apology == APOLOGY
                # The query's result came back sealed for the case's shop, and the client
                # opened it bound to that shop.
                expected = master if shop == FIRST_SHOP else f"shop/{shop}/{master}"
                assert codec.opened[mark:] == [(shop, expected)], codec.opened[mark:]
            # A shop with no secret here: nothing is sealed under another key instead.
            with pytest.raises(UnknownKey, match=f"'shop/{SHOP_NONE}/{master}'"):
                await client.start_workflow(
                    WF.run,
                    open_command(new_case_id()),
                    id=workflow_id(SHOP_NONE, new_case_id()),
                    task_queue=settings.task_queue,
                )
        # Whatever the worker and the client opened in a shop's context was sealed for it.
        assert {shop for shop, _ in codec.opened} == {FIRST_SHOP, SHOP_A, SHOP_B}
        assert all(shop_of_key(key_id) == shop for shop, key_id in codec.opened), codec.opened

        histories = {shop: await sealed_history(raw, wid) for shop, wid in wids.items()}
        for shop, payloads in histories.items():
            key_ids = {key_id_of(p) for p in payloads}
            expected = master if shop == FIRST_SHOP else f"shop/{shop}/{master}"
            # Every payload of the history: the start input, the Update's input and result,
            # the activities' inputs and results, the UI's summaries.
            assert key_ids == {expected}, (shop, key_ids)
            assert len(payloads) >= 8, (shop, len(payloads))
            opened = await codec.decode(payloads)
            assert any(APOLOGY.encode() in p.data for p in opened), shop

        assert shred_shop_key(folder, SHOP_A)
        with pytest.raises(UnknownKey, match=f"'shop/{SHOP_A}/{master}'"):
            await codec.decode(histories[SHOP_A])
        fresh = EncryptionCodec(parse_keys(keys), master, folder)  # a process started now
        with pytest.raises(UnknownKey):
            await fresh.decode(histories[SHOP_A][:1])
        for shop in (FIRST_SHOP, SHOP_B):
            for reader in (codec, fresh):
                opened = await reader.decode(histories[shop])
                assert any(APOLOGY.encode() in p.data for p in opened), shop
        # The first shop's history still opens with the master key alone, as before shops.
        before_shops = EncryptionCodec(parse_keys(keys), master)
        await before_shops.decode(histories[FIRST_SHOP])
    finally:
        for running in handles.values():  # a running case would hold the server's clock
            with contextlib.suppress(RPCError):
                await running.terminate(reason="test finished")

"""The application layer (app/) without servers: a fake Temporal that runs the real rulebook
in memory, and a fake PostgreSQL pool that answers the few statements these paths send.

As cosmicpython tests its service layer: the doors' promises (who may do what, what a refusal
says, what an idempotency key guarantees) checked in milliseconds. The fakes stand where
app/ touches the edges today, the Temporal client and the asyncpg pool, because app/ has no
narrower seam of its own yet.
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from app import admin, cases, customers, identity, reads, staff
from app.context import Context
from app.identity import Actor, Role
from app.refusals import (
    CaseIdTaken,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    NotStoredYet,
    TooMany,
    Unauthorized,
    Unavailable,
)
from domain.commands import AnalyzeCause, Apologize, Empathize, OpenCase
from domain.decider import decide, evolve
from domain.errors import DomainError
from domain.model import CaseState, Fault
from domain.summary import summarize
from infra.case_ids import case_id_for_key
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from workflows import search_attributes
from workflows.complaint import refusal

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # a Monday, 10:00 in Seoul
PHONE = "010-1234-5678"


# -- fakes ------------------------------------------------------------------------------
@dataclass
class Run:
    """One case's workflow: its state, and whether it still runs."""

    state: CaseState | None
    status: WorkflowExecutionStatus = WorkflowExecutionStatus.RUNNING
    closed: tuple[str, datetime] | None = None  # ComplaintStatus and close time


@dataclass
class FakeTemporal:
    """The workflows of a namespace, in memory. Updates run the real `decide` and `evolve`,
    and a refusal reaches the client as the workflow sends it (workflows.complaint.refusal).
    `stored` False: the opening is not stored yet (the `state` query answers None)."""

    runs: dict[str, Run] = field(default_factory=dict)
    starts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[str, Any]] = field(default_factory=list)
    stored: bool = True
    fail_update: BaseException | None = None
    fail_query: BaseException | None = None

    async def start_workflow(self, run: Any, command: OpenCase, **options: Any) -> "FakeHandle":
        assert run == "ComplaintWorkflow"
        self.starts.append({"command": command, **options})
        workflow_id = options["id"]
        if workflow_id in self.runs:
            if options["id_conflict_policy"] != WorkflowIDConflictPolicy.USE_EXISTING:
                raise WorkflowAlreadyStartedError(workflow_id, "ComplaintWorkflow")
        else:
            self.runs[workflow_id] = Run(_fold(command) if self.stored else None)
        return FakeHandle(self, workflow_id)

    def get_workflow_handle(self, workflow_id: str) -> "FakeHandle":
        return FakeHandle(self, workflow_id)

    def open(self, case_id: str, *walk: Any) -> None:
        """A case that exists already, walked through `walk`'s commands."""
        state = _fold(_opening(case_id), *walk)
        self.runs[f"complaint-{case_id}"] = Run(state)

    def end(self, case_id: str, how: str, at: datetime) -> None:
        run = self.runs[f"complaint-{case_id}"]
        run.status, run.closed = WorkflowExecutionStatus.COMPLETED, (how, at)


@dataclass
class FakeHandle:
    temporal: FakeTemporal
    id: str

    def _run(self) -> Run:
        run = self.temporal.runs.get(self.id)
        if run is None:
            raise RPCError(f"workflow not found for ID: {self.id}", RPCStatusCode.NOT_FOUND, b"")
        return run

    async def query(self, query: Any, **_: Any) -> CaseState | None:
        assert query == "state"  # the application layer calls it by name
        if self.temporal.fail_query is not None:
            raise self.temporal.fail_query
        return self._run().state

    async def execute_update(self, update: Any, command: Any, **_: Any) -> Any:
        assert isinstance(update, str)  # by name, as the workflow registers it
        self.temporal.updates.append((update, command))
        if self.temporal.fail_update is not None:
            raise self.temporal.fail_update
        run = self._run()
        if run.status != WorkflowExecutionStatus.RUNNING:
            raise RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b"")
        try:
            events = decide(command, run.state, NOW)
        except DomainError as err:
            cause = refusal(err)  # as the client raises it: the workflow's failure as cause
            raise WorkflowUpdateFailedError(cause) from cause
        for event in events:
            run.state = evolve(run.state, event)
        assert run.state is not None
        return summarize(run.state, tuple(e.type for e in events))

    async def describe(self) -> Any:
        run = self._run()  # an unknown id: RPCError NOT_FOUND, as the server answers
        pairs = [SearchAttributePair(search_attributes.STATUS, run.closed[0])] if run.closed else []
        return _Description(
            status=run.status,
            typed_search_attributes=TypedSearchAttributes(pairs),
            close_time=run.closed[1] if run.closed else None,
        )


@dataclass
class _Description:
    status: WorkflowExecutionStatus
    typed_search_attributes: TypedSearchAttributes
    close_time: datetime | None


@dataclass
class FakePool:
    """Answers a statement by the first fragment of `answers` it contains; records each."""

    answers: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    async def _answer(self, sql: str, *args: Any) -> Any:
        self.calls.append((sql, args))
        for fragment, answer in self.answers.items():
            if fragment in sql:
                return answer(*args) if callable(answer) else answer
        raise AssertionError(f"the fake pool has no answer for: {sql}")

    fetchrow = fetchval = fetch = execute = _answer

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator["FakePool"]:
        yield self  # one fake connection: the same answers


class NoDatabase(Context):
    """PostgreSQL unreachable: every pool() is refused as the real one is."""

    async def pool(self) -> Any:
        raise Unavailable("cannot reach PostgreSQL: connection refused")


def _opening(case_id: str, customer_id: str = "cus-aaaaaaaaaaaa") -> OpenCase:
    return OpenCase.model_validate(
        {
            "case_id": case_id,
            "customer_id": customer_id,
            "channel": "phone",
            "motive": "compensation",
            "summary": "cold noodles",
        }
    )


def _fold(*commands: Any) -> CaseState:
    state: CaseState | None = None
    for command in commands:
        for event in decide(command, state, NOW):
            state = evolve(state, event)
    assert state is not None
    return state


@dataclass
class FakeCustomers:
    """The customers table, by phone: what open_case registers and finds."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def register(self, customer_id: str, phone: str, name: str, rename: bool) -> dict[str, Any]:
        made = phone not in self.rows
        row = self.rows.setdefault(phone, {"id": customer_id, "name": name, "phone": phone})
        row["name"] = name if rename else row["name"]
        return {**row, "made": made}

    def rename(self, customer_id: str, name: str) -> dict[str, Any] | None:
        row = self.contact(customer_id)
        if row is not None:
            row["name"] = name
        return row

    def discard(self, customer_id: str) -> str:
        row = self.contact(customer_id)
        if row is None:
            return "DELETE 0"
        del self.rows[row["phone"]]
        return "DELETE 1"

    def find(self, phone: str) -> dict[str, Any] | None:
        return self.rows.get(phone)

    def contact(self, customer_id: str) -> dict[str, Any] | None:
        return next((r for r in self.rows.values() if r["id"] == customer_id), None)


def _with_customers() -> dict[str, Any]:
    table = FakeCustomers()
    return {
        "INSERT INTO customers": table.register,
        "UPDATE customers SET name": table.rename,
        "DELETE FROM customers": table.discard,
        "FROM customers WHERE phone": table.find,
        "FROM customers WHERE id": table.contact,
        "pg_advisory_": None,  # one opening of a key at a time
        "SELECT hits FROM intake_limits": None,  # no window yet
        "INSERT INTO intake_limits": 1,  # the shop's first opening this minute
        "DELETE FROM intake_limits": "DELETE 0",
    }


def _writes(pool: FakePool) -> list[str]:
    """What was written about cases and customers (the shop's opening count aside)."""
    return [
        sql
        for sql, _ in pool.calls
        if ("INSERT" in sql or "UPDATE" in sql) and "intake_limits" not in sql
    ]


@pytest.fixture
def temporal() -> FakeTemporal:
    return FakeTemporal()


@pytest.fixture
def pool() -> FakePool:
    return FakePool(_with_customers())


@pytest.fixture
def ctx(temporal: FakeTemporal, pool: FakePool) -> Context:
    settings = Settings(timezone="Asia/Seoul", open_wait=timedelta(seconds=1))
    return Context(settings, client=temporal, pool=pool)  # type: ignore[arg-type]


def _as(role: Role, name: str = "Ann") -> Actor:
    return Actor(name, role, shop=FIRST_SHOP)


STAFF, MANAGER, OWNER, INTAKE = (
    _as(r) for r in (Role.STAFF, Role.MANAGER, Role.OWNER, Role.INTAKE)
)
WALKED = (
    Apologize(what="the wrong order"),
    Empathize(customer_words="I waited an hour"),
    AnalyzeCause(cause="ticket misread", fault=Fault.OURS),
)


async def _open(
    ctx: Context,
    actor: Actor = STAFF,
    /,
    *,
    key: str | None = None,
    name: str = "Kim",
    phone: str = PHONE,
    channel: str = "phone",
    motive: str = "compensation",
    what: str = "cold noodles",
) -> cases.Opened:
    return await cases.open_case(
        ctx, actor, name=name, phone=phone, channel=channel, motive=motive, what=what, key=key
    )


# -- roles: each door's entry point asks for the right permission ------------------------
Action = Callable[[Context, Actor], Awaitable[Any]]
CASE = "k7f3a9c2d1"
WALKS: dict[str, Action] = {
    "apologize": lambda c, a: cases.apologize(c, a, CASE, "the wrong order"),
    "empathize": lambda c, a: cases.empathize(c, a, CASE, "I waited"),
    "analyze_cause": lambda c, a: cases.analyze_cause(c, a, CASE, "misread", "ours"),
    "offer_resolution": lambda c, a: cases.offer_resolution(c, a, CASE, "redo", []),
    "record_customer_response": lambda c, a: cases.record_customer_response(
        c, a, CASE, "free_redo"
    ),
    "show_prevention": lambda c, a: cases.show_prevention(c, a, CASE, "read back"),
    "record_satisfaction": lambda c, a: cases.record_satisfaction(c, a, CASE, 5),
    "show": lambda c, a: reads.show(c, a, CASE),
    "list_cases": lambda c, a: reads.list_cases(c, a, reads.Filters()),
    "record_visit": lambda c, a: customers.record_visit(c, a, PHONE, None),
    "unsent_notices": lambda c, a: admin.unsent_notices(c, a, 10),
}
MANAGERS_ONLY: dict[str, tuple[Action, str]] = {
    "withdraw": (lambda c, a: cases.withdraw(c, a, CASE, "duplicate"), "withdraw a case"),
    "period_report": (lambda c, a: reads.period_report(c, a), "see reports and exports"),
    "export_csv": (lambda c, a: reads.export_csv(c, a, reads.Filters()), "see reports and exports"),
    "forget": (lambda c, a: customers.forget(c, a, PHONE), "forget a customer"),
    "rebuild": (lambda c, a: admin.rebuild(c, a), "rebuild the read model"),
}


@pytest.mark.parametrize("name", list(WALKS))
async def test_intake_may_only_open_cases(
    name: str, ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    with pytest.raises(Forbidden) as refused:
        await WALKS[name](ctx, INTAKE)
    # The customer's answers are also the customer's own, through their link.
    also = (
        " and the customer" if name in ("record_customer_response", "record_satisfaction") else ""
    )
    staff = "staff, managers, the owner" if also else "staff, managers and the owner"
    assert refused.value.message.startswith(f"Ann is intake: only {staff}{also} ")
    assert temporal.updates == [] and pool.calls == []  # refused before anything is asked


async def test_intake_opens_a_case(ctx: Context, temporal: FakeTemporal) -> None:
    summary = await _open(ctx, INTAKE)
    assert summary.status == "open" and len(temporal.starts) == 1
    assert temporal.starts[0]["command"].by == "Ann"


async def test_an_opening_that_fails_takes_back_the_customer_it_entered(
    ctx: Context, pool: FakePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fails(*_: Any, **__: Any) -> CaseState:
        raise InvalidInput("case x could not be opened: invalid input: summary")

    monkeypatch.setattr(cases, "start_case", fails)
    with pytest.raises(InvalidInput):
        await _open(ctx, phone="010-5555-6666")
    entered = [c for c in pool.calls if "INSERT INTO customers" in c[0]]
    taken_back = [c for c in pool.calls if "DELETE FROM customers" in c[0]]
    assert len(entered) == 1 and taken_back == [(taken_back[0][0], (entered[0][1][0],))]


async def test_a_known_customer_is_neither_taken_back_nor_renamed_by_a_failed_opening(
    ctx: Context, pool: FakePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _open(ctx, name="Kim", phone="010-5555-7777")
    real = cases.start_case

    async def fails(*_: Any, **__: Any) -> CaseState:
        raise InvalidInput("case x could not be opened")

    monkeypatch.setattr(cases, "start_case", fails)
    with pytest.raises(InvalidInput):
        await cases.open_case(
            ctx, STAFF, name="Lee", phone="010-5555-7777", channel="phone",
            motive="compensation", what="cold", rename=True,
        )  # fmt: skip
    assert not [c for c in pool.calls if "DELETE FROM customers" in c[0]]
    assert not [c for c in pool.calls if "UPDATE customers SET name" in c[0]]
    monkeypatch.setattr(cases, "start_case", real)
    renamed = await cases.open_case(
        ctx, STAFF, name="Lee", phone="010-5555-7777", channel="phone",
        motive="compensation", what="warm", rename=True,
    )  # fmt: skip
    assert renamed.name_kept is False
    assert [c[1] for c in pool.calls if "UPDATE customers SET name" in c[0]][-1][1] == "Lee"


async def test_opening_asks_for_the_open_permission(
    ctx: Context, temporal: FakeTemporal, pool: FakePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every role may open today, so only a narrower rule shows that open_case asks at all
    # (a role that may not open, such as an operator's, would otherwise slip through).
    monkeypatch.setattr(cases, "OPEN", identity.Permission("open a case", frozenset({Role.OWNER})))
    with pytest.raises(Forbidden, match=r"^Ann is staff: only the owner may open a case$"):
        await _open(ctx, STAFF)
    assert temporal.starts == [] and pool.calls == []


@pytest.mark.parametrize("name", list(MANAGERS_ONLY))
async def test_staff_may_not_do_what_managers_do(
    name: str, ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    action, doing = MANAGERS_ONLY[name]
    with pytest.raises(Forbidden) as refused:
        await action(ctx, STAFF)
    assert refused.value.message == f"Ann is staff: only managers and the owner may {doing}"
    assert temporal.updates == [] and pool.calls == []


async def test_staff_walk_a_case_and_the_command_records_who(
    ctx: Context, temporal: FakeTemporal
) -> None:
    temporal.open(CASE)
    summary = await cases.apologize(ctx, STAFF, CASE, "the wrong order")
    assert summary.recorded == ("apologized",)
    assert temporal.updates == [("apologize", Apologize(what="the wrong order", by="Ann"))]


def _read_model(temporal: FakeTemporal, pool: FakePool) -> None:
    """The read model holds each case's state as its workflow folded it (the append writes
    both in one transaction); a case still being opened has no row."""

    def state(case_id: str) -> str | None:
        run = temporal.runs.get(f"complaint-{case_id}")
        return run.state.model_dump_json() if run and run.state else None

    pool.answers["SELECT state FROM complaint_cases"] = state


async def test_staff_see_whom_to_call_and_a_known_phone_keeps_its_name(
    ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    _read_model(temporal, pool)
    opened = await _open(ctx)
    again = await _open(ctx, name="Kim Minsu")  # a second complaint, the name typed anew
    assert (opened.name_kept, again.name_kept) == (False, True)
    temporal.fail_query = RPCError("no poller seen", RPCStatusCode.DEADLINE_EXCEEDED, b"")
    for case_id in (opened.case_id, again.case_id):
        case = await reads.show(ctx, STAFF, case_id)  # from PostgreSQL: no worker needed
        assert case.customer is not None
        assert (case.customer.name, case.customer.phone) == ("Kim", "+821012345678")


async def test_with_the_database_away_a_case_is_asked_of_its_workflow(
    temporal: FakeTemporal,
) -> None:
    ctx = NoDatabase(Settings(), client=temporal)  # type: ignore[arg-type]
    old = _opening(CASE).model_dump() | {"customer_id": None}
    old["customer"] = {"name": "Kim", "phone": "+821012345678"}  # carried by the case itself
    temporal.runs[f"complaint-{CASE}"] = Run(state=_fold(OpenCase.model_validate(old)))
    case = await reads.show(ctx, STAFF, CASE)
    assert case.customer is not None and case.customer.name == "Kim"
    temporal.open(CASE)  # a case of today names its customer by reference: that waits
    with pytest.raises(Unavailable, match=r"^cannot reach PostgreSQL: connection refused$"):
        await reads.show(ctx, STAFF, CASE)


async def test_a_case_with_no_row_yet_is_asked_of_its_workflow(
    ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    _read_model(temporal, pool)
    temporal.runs[f"complaint-{CASE}"] = Run(state=None)
    with pytest.raises(NotStoredYet, match=r"is still being opened; try again in a moment$"):
        await reads.show(ctx, STAFF, CASE)
    with pytest.raises(NotFound, match=r"^no case 'zzzz-zzzz-zzzz': check the id"):
        await reads.show(ctx, STAFF, "zzzz-zzzz-zzzz")


async def test_a_manager_withdraws_a_case(ctx: Context, temporal: FakeTemporal) -> None:
    temporal.open(CASE)
    assert (await cases.withdraw(ctx, MANAGER, CASE, "duplicate")).status == "withdrawn"


@pytest.mark.parametrize("actor", [STAFF, MANAGER])
async def test_only_the_owner_offers_outside_the_policy(
    actor: Actor, ctx: Context, temporal: FakeTemporal
) -> None:
    temporal.open(CASE, *WALKED)
    free = [cases.remedy("goodwill_gift")]
    with pytest.raises(
        Forbidden, match=r"only the owner may offer outside the policy \(override\)$"
    ):
        await cases.offer_resolution(ctx, actor, CASE, "refund", free, override_reason="regular")
    assert temporal.updates == []
    summary = await cases.offer_resolution(ctx, OWNER, CASE, "refund", free, "regular")
    assert "policy_overridden" in summary.recorded


async def test_a_manager_is_past_the_role_check_for_reports(ctx: Context) -> None:
    # A manager gets past the role check to the database (which this fake cannot report
    # from); staff are refused before it.
    with pytest.raises(Exception) as reached:
        await reads.period_report(ctx, MANAGER, NOW.date() - timedelta(days=3), NOW.date())
    assert not isinstance(reached.value, Forbidden)
    with pytest.raises(Forbidden):
        await reads.period_report(ctx, STAFF, NOW.date() - timedelta(days=3), NOW.date())


# -- idempotency ------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["", "   "])
async def test_an_empty_idempotency_key_is_refused_before_anything_is_written(
    key: str, ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await _open(ctx, key=key)
    # Named as the API's header, so each door can name it as its user typed it.
    assert refused.value.fields == (("Idempotency-Key", "the idempotency key must not be empty"),)
    assert temporal.starts == [] and pool.calls == []


async def test_the_same_key_names_the_same_case_and_a_retry_writes_nothing(
    ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    first = await _open(ctx, key="order-42")
    written = _writes(pool)
    again = await _open(ctx, key=" order-42 ")  # as typed, with spaces around it
    assert first.case_id == again.case_id == case_id_for_key("order-42")
    assert (first.already_open, again.already_open) == (False, True)
    assert len(temporal.runs) == 1 and _writes(pool) == written
    assert [s["id_conflict_policy"] for s in temporal.starts] == [
        WorkflowIDConflictPolicy.USE_EXISTING  # two doors racing on one key meet in one case
    ]


@pytest.mark.parametrize(
    "changes",
    [{"motive": "anger"}, {"channel": "in_person"}, {"what": "warm noodles"}],
)
async def test_the_same_key_with_other_details_is_a_conflict(
    changes: dict[str, str], ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    first = await _open(ctx, key="order-42")
    written = _writes(pool)
    with pytest.raises(Conflict) as refused:
        await _open(ctx, key="order-42", **changes)
    assert refused.value.message == (
        f"this idempotency key already opened case {first.case_id} with other details; "
        "use a new key for a new complaint"
    )
    assert _writes(pool) == written and len(temporal.starts) == 1


async def test_the_same_key_for_another_customer_is_a_conflict(
    ctx: Context, pool: FakePool
) -> None:
    await _open(ctx, key="order-42")
    with pytest.raises(Conflict, match=r"with other details"):
        await _open(ctx, key="order-42", phone="010-9999-0000")  # another customer
    assert len(_writes(pool)) == 1  # the other customer is not registered either


async def test_a_shop_past_its_openings_this_minute_is_refused_before_anything_is_written(
    ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    limit = ctx.settings.shop_openings_per_minute
    pool.answers["INSERT INTO intake_limits"] = limit // 6  # the last one of ten seconds
    await _open(ctx)
    assert len(temporal.starts) == 1
    pool.answers["INSERT INTO intake_limits"] = limit // 6 + 1
    with pytest.raises(TooMany, match=rf"^this shop is opening more than {limit} cases a minute"):
        await _open(ctx, phone="010-3333-4444")
    assert len(temporal.starts) == 1  # nothing started
    registered = [args for sql, args in pool.calls if "INSERT INTO customers" in sql]
    assert "+821033334444" not in str(registered), "the customer is not registered either"
    counted = [args for sql, args in pool.calls if "INSERT INTO intake_limits" in sql]
    assert counted[-1][0] == "openings"  # the shop's own bucket (the row carries the shop)
    # Past the limit, the window is read and nothing more written for the next ones.
    pool.answers["SELECT hits FROM intake_limits"] = limit // 6 + 1
    with pytest.raises(TooMany):
        await _open(ctx, phone="010-3333-5555")
    assert len([c for c in pool.calls if "INSERT INTO intake_limits" in c[0]]) == len(counted)


async def test_without_a_key_a_taken_id_is_never_reused(
    ctx: Context, temporal: FakeTemporal, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporal.open("k0000000001")
    monkeypatch.setattr(cases, "new_case_id", lambda: "k0000000001")  # every id clashes
    with pytest.raises(CaseIdTaken, match=r"^case id k0000000001 is taken by another case$"):
        await _open(ctx)
    assert len(temporal.starts) == 3  # three fresh ids tried, then the refusal
    assert all(s["id_conflict_policy"] == WorkflowIDConflictPolicy.FAIL for s in temporal.starts)


async def test_an_opening_no_worker_stores_says_not_to_open_it_again(
    temporal: FakeTemporal, pool: FakePool
) -> None:
    temporal.stored = False
    settings = Settings(timezone="Asia/Seoul", open_wait=timedelta(milliseconds=1))
    ctx = Context(settings, client=temporal, pool=pool)  # type: ignore[arg-type]
    with pytest.raises(NotStoredYet) as refused:
        await _open(ctx, key="order-42")
    case_id = case_id_for_key("order-42")
    assert refused.value.message.endswith(
        f"do not open it again: `complaints show {case_id}` tells when it is stored"
    )


# -- invalid input: refused before any write, in one line --------------------------------
async def test_a_bad_phone_is_invalid_input_and_nothing_is_written(
    ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    with pytest.raises(InvalidInput, match=r"^phone: "):
        await _open(ctx, phone="12")
    assert temporal.starts == [] and pool.calls == []


async def test_an_unknown_motive_is_refused_before_the_customer_is_registered(
    ctx: Context, temporal: FakeTemporal, pool: FakePool
) -> None:
    with pytest.raises(InvalidInput, match=r"^motive: "):
        await _open(ctx, motive="revenge")
    assert temporal.starts == [] and pool.calls == []


async def test_an_empty_apology_is_invalid_input_and_not_sent(
    ctx: Context, temporal: FakeTemporal
) -> None:
    temporal.open(CASE)
    with pytest.raises(InvalidInput, match=r"^what: "):
        await cases.apologize(ctx, STAFF, CASE, "   ")
    assert temporal.updates == []


async def test_a_score_out_of_range_is_invalid_input(ctx: Context, temporal: FakeTemporal) -> None:
    with pytest.raises(InvalidInput, match=r"^score: .*5"):
        await cases.record_satisfaction(ctx, STAFF, CASE, 9)
    assert temporal.updates == []


async def test_an_unknown_remedy_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"^unknown remedy 'free_car'; known: .*free_redo"):
        cases.remedy(" free_car ")


@pytest.mark.parametrize("typed", ["../etc", "a b", ""])
async def test_an_id_that_names_no_case_is_not_found_without_asking_temporal(
    typed: str, ctx: Context, temporal: FakeTemporal
) -> None:
    with pytest.raises(NotFound, match=r"check the id with `complaints list`$"):
        await cases.apologize(ctx, STAFF, typed, "sorry")
    assert temporal.updates == []


async def test_list_filters_name_what_they_accept(ctx: Context, pool: FakePool) -> None:
    with pytest.raises(InvalidInput, match=r"^status: 'shut' is not one of open, "):
        await reads.list_cases(ctx, STAFF, reads.Filters(status="shut"))
    with pytest.raises(InvalidInput, match=r"^--limit and --page start at 1$"):
        await reads.list_cases(ctx, STAFF, reads.Filters(), limit=0)
    assert pool.calls == []


# -- the workflow's refusals, translated once for both doors ------------------------------
async def test_a_step_out_of_order_is_a_conflict_in_the_rulebooks_words(
    ctx: Context, temporal: FakeTemporal
) -> None:
    temporal.open(CASE)
    with pytest.raises(Conflict) as refused:
        await cases.analyze_cause(ctx, STAFF, CASE, "misread", "ours")
    assert type(refused.value) is Conflict
    assert refused.value.message.startswith(f"case {CASE} ")
    assert "apologize" in refused.value.message  # what is due instead


async def test_a_remedy_outside_the_policy_is_a_conflict_naming_the_override(
    ctx: Context, temporal: FakeTemporal
) -> None:
    # 409, not 422: the same remedy is allowed for another case, so the input is valid.
    temporal.open(CASE, *WALKED)
    with pytest.raises(Conflict, match=r"The owner can override with a reason"):
        await cases.offer_resolution(ctx, STAFF, CASE, "refund", [cases.remedy("goodwill_gift")])


async def test_an_action_on_a_closed_case_says_when_it_closed(
    ctx: Context, temporal: FakeTemporal
) -> None:
    temporal.open(CASE)
    temporal.end(CASE, "closed", datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    with pytest.raises(Conflict) as refused:
        await cases.apologize(ctx, STAFF, CASE, "sorry")
    assert refused.value.message == (
        f"case {CASE} is closed on 2026-11-30 18:30 KST: nothing more can be recorded "
        f"(see it with `complaints show {CASE}`)"
    )


async def test_an_action_on_no_case_is_not_found(ctx: Context) -> None:
    with pytest.raises(NotFound, match=rf"^no case '{CASE}': check the id with `complaints list`$"):
        await cases.apologize(ctx, STAFF, CASE, "sorry")


async def test_temporal_unreachable_is_unavailable_not_the_callers_fault(
    ctx: Context, temporal: FakeTemporal
) -> None:
    temporal.fail_update = RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
    with pytest.raises(Unavailable, match=rf"^case {CASE}: connection refused$"):
        await cases.apologize(ctx, STAFF, CASE, "sorry")


async def test_no_worker_and_no_database_asks_whether_the_service_runs(
    temporal: FakeTemporal,
) -> None:
    temporal.open(CASE)
    temporal.fail_query = RPCError("no poller seen", RPCStatusCode.DEADLINE_EXCEEDED, b"")
    ctx = NoDatabase(Settings(), client=temporal)  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match=r"no worker answered \(no poller seen\); is `make run`"):
        await reads.show(ctx, STAFF, CASE)


# -- identity: who is acting ------------------------------------------------------------
def _staff_row(role: str = "staff", revoked_at: datetime | None = None) -> dict[str, Any]:
    return {
        "name": "Ann",
        "role": role,
        "created_at": NOW,
        "revoked_at": revoked_at,
        "shop_id": FIRST_SHOP,
    }


async def test_the_cli_without_a_name_says_which_variable_to_set(
    ctx: Context, pool: FakePool
) -> None:
    with pytest.raises(Unauthorized, match=r"^set COMPLAINTS_STAFF to your name"):
        await identity.actor_named(ctx, "  ")
    assert pool.calls == []


async def test_the_cli_acts_as_the_active_member_it_names(ctx: Context, pool: FakePool) -> None:
    pool.answers = {"FROM staff WHERE name": [_staff_row("manager")]}
    assert await identity.actor_named(ctx, " Ann ") == Actor("Ann", Role.MANAGER, shop=FIRST_SHOP)
    assert pool.calls[0][1] == ("Ann",)


async def test_a_revoked_member_is_told_when_in_the_shops_zone(
    ctx: Context, pool: FakePool
) -> None:
    row = _staff_row(revoked_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    pool.answers = {"WHERE name": [row], "WHERE token_sha256": row, "FROM rulebook": []}
    with pytest.raises(
        Unauthorized, match=r"^staff member 'Ann' was revoked on 2026-11-20 12:00 KST$"
    ):
        await identity.actor_named(ctx, "Ann")
    with pytest.raises(
        Unauthorized, match=r"^this token is not a staff member's \(unknown or revoked\)$"
    ):
        await identity.actor_for_token(ctx, "cmp_x")


async def test_a_token_is_looked_up_by_its_hash_alone(ctx: Context, pool: FakePool) -> None:
    pool.answers = {"WHERE token_sha256": _staff_row("owner")}
    assert await identity.actor_for_token(ctx, " cmp_secret ") == Actor(
        "Ann", Role.OWNER, shop=FIRST_SHOP
    )
    assert pool.calls[0][1] == (identity.token_hash("cmp_secret"),)
    with pytest.raises(Unauthorized, match=r"^this call needs a staff token: send `Authorization"):
        await identity.actor_for_token(ctx, None)


# -- staff accounts ---------------------------------------------------------------------
async def test_an_unknown_role_lists_the_roles(ctx: Context, pool: FakePool) -> None:
    with pytest.raises(
        InvalidInput, match=r"^unknown role 'boss'; known: staff, manager, owner, intake, operator$"
    ):
        await staff.add(ctx, "Ann", "boss")
    assert pool.calls == []


async def test_a_second_active_member_of_a_name_is_a_conflict(ctx: Context, pool: FakePool) -> None:
    pool.answers = {"INSERT INTO staff": None}  # ON CONFLICT DO NOTHING: no row back
    with pytest.raises(
        Conflict, match=r"^staff member 'Ann' exists already: `complaints staff revoke"
    ):
        await staff.add(ctx, "Ann", "staff")
    pool.answers = {"INSERT INTO staff": True}
    token = await staff.add(ctx, "Ann", "staff")
    assert pool.calls[-1][1] == ("Ann", "staff", identity.token_hash(token))  # never the token


async def test_a_staff_name_is_one_short_line(ctx: Context) -> None:
    with pytest.raises(InvalidInput, match=r"^name: one line of at most 80 characters$"):
        await staff.add(ctx, "A" * 81, "staff")


async def test_revoking_no_one_is_not_found(ctx: Context, pool: FakePool) -> None:
    pool.answers = {"UPDATE staff SET revoked_at": None}
    with pytest.raises(
        NotFound, match=r"^no active staff member 'Bo': see `complaints staff list`$"
    ):
        await staff.revoke(ctx, " Bo ")

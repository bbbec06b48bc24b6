"""The customer as an actor: bound to the one case their link names, never a staff account;
the forms' CSRF token bound to the link (app.identity, app.customer_answers, app.staff)."""

import asyncio
from typing import Any

import pytest

from app import cases, customer_answers, reads
from app import staff as staff_accounts
from app.identity import Actor, Role, require_case
from app.refusals import Forbidden, InvalidInput
from infra.settings import Settings


class _NoIO:
    """A context whose every door is shut: the refusal must come before any I/O."""

    def __init__(self) -> None:
        self.settings = Settings(link_secret="s" * 32)

    async def client(self) -> Any:
        raise AssertionError("no Temporal call before the actor is checked")

    async def pool(self) -> Any:
        raise AssertionError("no database call before the actor is checked")


CUSTOMER = Actor("customer", Role.CUSTOMER, "4f7k-q2mx-9bd3")


def test_a_customer_answers_only_the_case_their_link_names() -> None:
    require_case(CUSTOMER, "4f7k-q2mx-9bd3")
    with pytest.raises(Forbidden, match="another case"):
        require_case(CUSTOMER, "aaaa-bbbb-cccc")
    require_case(Actor("Kim", Role.STAFF), "aaaa-bbbb-cccc")  # staff: any case


@pytest.mark.parametrize(
    "call",
    [
        lambda ctx: cases.record_customer_response(ctx, CUSTOMER, "aaaa-bbbb-cccc", "free_redo"),
        lambda ctx: cases.record_satisfaction(ctx, CUSTOMER, "aaaa-bbbb-cccc", 5),
        lambda ctx: cases.apologize(ctx, CUSTOMER, "4f7k-q2mx-9bd3", "sorry"),
        lambda ctx: cases.withdraw(ctx, CUSTOMER, "4f7k-q2mx-9bd3", "no"),
        lambda ctx: reads.show(ctx, CUSTOMER, "4f7k-q2mx-9bd3"),
    ],
)
def test_a_customer_does_nothing_else_and_no_other_case(call: Any) -> None:
    with pytest.raises(Forbidden):
        asyncio.run(call(_NoIO()))


def test_customer_is_not_a_role_a_staff_account_can_have() -> None:
    with pytest.raises(InvalidInput, match="unknown role 'customer'"):
        asyncio.run(staff_accounts.add(_NoIO(), "Kim", "customer"))  # type: ignore[arg-type]


def test_the_forms_csrf_token_is_bound_to_the_link() -> None:
    ctx: Any = _NoIO()
    a, b = "payload-a.sig", "payload-b.sig"
    assert customer_answers.csrf_ok(ctx, a, customer_answers.csrf_token(ctx, a))
    assert not customer_answers.csrf_ok(ctx, b, customer_answers.csrf_token(ctx, a))
    assert not customer_answers.csrf_ok(ctx, a, "")

"""A case knows its customer by reference: the name and phone stay in PostgreSQL."""

import pytest
from pydantic import ValidationError

from domain.commands import OpenCase
from domain.decider import decide, fold
from domain.model import Customer
from tests.helpers import open_command
from tests.unit.test_notifications import T0


def test_a_case_opens_with_the_customers_reference_and_carries_no_contact_data() -> None:
    state = fold(decide(open_command("c0ffee"), None, T0))
    assert state is not None
    assert state.customer_id == "cus-kim-minji" and state.customer is None
    assert "Kim" not in state.model_dump_json() and "+82" not in state.model_dump_json()


def test_an_opening_names_its_customer_exactly_once() -> None:
    data = open_command("c0ffee").model_dump()
    with pytest.raises(ValidationError, match="give the customer's reference"):
        OpenCase.model_validate(data | {"customer_id": None})
    with pytest.raises(ValidationError, match="give the customer's reference"):
        OpenCase.model_validate(data | {"customer": {"name": "Kim", "phone": "010-1234-5678"}})
    with pytest.raises(ValidationError, match="customer_id"):
        OpenCase.model_validate(data | {"customer_id": "kim"})  # not a reference


def test_a_case_opened_with_name_and_phone_before_references_still_folds() -> None:
    legacy = open_command("c0ffee").model_copy(
        update={"customer_id": None, "customer": Customer(name="Kim", phone="010-1234-5678")}
    )
    state = fold(decide(legacy, None, T0))
    assert state is not None and state.customer == Customer(name="Kim", phone="+821012345678")

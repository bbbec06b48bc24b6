from infra.case_ids import new_case_id
from infra.shop_ids import (
    FIRST_SHOP,
    case_of,
    is_shop_id,
    new_shop_id,
    read_shop_id,
    shop_of,
    workflow_id,
)


def test_a_case_of_another_shop_carries_its_shop_in_the_workflow_id() -> None:
    for _ in range(200):
        shop, case = new_shop_id(), new_case_id()
        assert shop != FIRST_SHOP and is_shop_id(shop)
        wid = workflow_id(shop, case)
        assert wid == f"complaint-{shop}-{case}"
        assert (shop_of(wid), case_of(wid)) == (shop, case)


def test_the_first_shop_keeps_the_form_cases_had_before_shops() -> None:
    for case in (new_case_id(), "deadbeef", "0000-0000-abcd"):
        wid = workflow_id(FIRST_SHOP, case)
        assert wid == f"complaint-{case}"
        assert (shop_of(wid), case_of(wid)) == (FIRST_SHOP, case)
    assert shop_of("keep-in-touch-x") == FIRST_SHOP


def test_a_typed_shop_id_is_read_forgivingly() -> None:
    assert read_shop_id(" K7QM 3XD9 ") == "k7qm-3xd9"
    assert read_shop_id("k7qm-3xdo") == "k7qm-3xd0"
    assert read_shop_id("shop #1") == "shop #1"
    assert not is_shop_id("shop #1")

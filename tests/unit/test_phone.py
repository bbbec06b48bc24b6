import pytest

from domain.errors import InvalidPhone
from domain.phone import normalize_phone, written_phone


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("010-1234-5678", "+821012345678"),
        ("010 1234 5678", "+821012345678"),
        ("01012345678", "+821012345678"),
        ("(02) 123-4567", "+8221234567"),
        ("031-123-4567", "+82311234567"),
        ("070-1234-5678", "+827012345678"),
        ("+82 10-1234-5678", "+821012345678"),
        ("+82 010-1234-5678", "+821012345678"),
        ("0082 10 1234 5678", "+821012345678"),
        ("+1 (201) 555-0123", "+12015550123"),
        # A Korean IME types full-width digits: the same customer, not a second one.
        ("010-1234-567８", "+821012345678"),
        ("０１０－１２３４－５６７８", "+821012345678"),
        ("＋82 10 1234 5678", "+821012345678"),
        # Nationwide service numbers have no area code.
        ("1588-1234", "+8215881234"),
    ],
)
def test_accepted_forms_normalize_to_one_key(raw: str, normalized: str) -> None:
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12",
        "010-1234",
        "010-1234-56789-1",
        "phone",
        "+0 123 4567",
        "+82 10 1234 567x",
        "++821012345678",
        "+1 (555) 123-4567",  # 555 numbers do not exist
        "010\x001234\x005678",
    ],
)
def test_malformed_numbers_are_refused_with_the_number_and_an_example(raw: str) -> None:
    with pytest.raises(InvalidPhone, match=r"not valid \(.+\).*e\.g\. 010-1234-5678"):
        normalize_phone(raw)


def test_a_number_of_another_region_is_read_in_that_region() -> None:
    assert normalize_phone("(201) 555-0123", region="US") == "+12015550123"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("010-1234-567O", "use digits, spaces, '-', '(', ')' and one leading '+'"),
        ("+0 123 4567", "it is not a phone number"),
        ("+1 (555) 123-4567", "no such number exists in its country"),
    ],
)
def test_a_refused_number_says_why_and_shows_both_forms_to_type(raw: str, why: str) -> None:
    with pytest.raises(InvalidPhone) as refused:
        normalize_phone(f"  {raw} ")
    assert str(refused.value) == (
        f"phone number {raw!r} is not valid ({why}): give a domestic number, "
        "e.g. 010-1234-5678, or an international one starting with +, e.g. +82 10-1234-5678"
    )


@pytest.mark.parametrize(
    ("stored", "region", "written"),
    [
        ("+821012345678", "KR", "010-1234-5678"),  # a mobile at home
        ("+82212345678", "KR", "02-1234-5678"),  # Seoul's area code
        ("+12125550100", "KR", "+1 212-555-0100"),  # from abroad: with its country
        ("+821012345678", "US", "+82 10-1234-5678"),
        ("+12125550100", "US", "(212) 555-0100"),
        ("forgotten:cus-1", "KR", "forgotten:cus-1"),  # not a number: as stored
    ],
)
def test_a_stored_number_is_written_as_people_of_the_region_write_it(
    stored: str, region: str, written: str
) -> None:
    assert written_phone(stored, region) == written


def test_a_stored_number_is_written_for_korea_by_default() -> None:
    assert written_phone("+821012345678") == "010-1234-5678"

"""Free text staff or customers wrote (the `Text` fields of the commands): what is kept as
typed, what is tidied, and what is refused with a reason staff can act on."""

import pytest
from pydantic import ValidationError

from domain.commands import Empathize


def words(text: object) -> str:
    """The customer's words as the case would record them."""
    return Empathize.model_validate({"customer_words": text}).customer_words


def refusal(text: object) -> str:
    """The reason the customer's words are refused, as staff read it."""
    with pytest.raises(ValidationError) as refused:
        words(text)
    [error] = refused.value.errors()
    return str(error["msg"])


def test_ordinary_words_in_any_script_are_kept_as_typed() -> None:
    typed = "Wrong colour! 색이 달라요 😡 (２ times)"
    assert words(typed) == typed


def test_line_breaks_and_tabs_are_kept() -> None:
    assert words("Line one\nLine two") == "Line one\nLine two"
    assert words("Item\tPrice\nCut\t30,000") == "Item\tPrice\nCut\t30,000"


def test_a_windows_line_end_becomes_a_plain_newline() -> None:
    assert words("Line one\r\nLine two\r\n\r\nLine four") == "Line one\nLine two\n\nLine four"


def test_a_nul_pasted_into_a_complaint_is_refused_with_its_position() -> None:
    assert refusal("ok\x00") == (
        "Value error, contains the control character U+0000 at position 3; "
        "remove it (only line breaks and tabs are allowed)"
    )


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("\x07bell first", "U+0007", 1),
        ("a carriage return\ralone", "U+000D", 18),  # not part of a Windows line end
        ("delete\x7f", "U+007F", 7),
        ("next line\x85", "U+0085", 10),
    ],
)
def test_every_control_character_is_refused_where_it_stands(
    text: str, code: str, position: int
) -> None:
    assert f"control character {code} at position {position};" in refusal(text)


def test_nothing_after_a_line_break_or_tab_escapes_the_check() -> None:
    assert "U+0000 at position 6;" in refusal("a\tb\nc\x00")


def test_an_unpaired_surrogate_is_refused() -> None:
    assert refusal("broken \ud83d emoji") == (
        "Value error, contains the unpaired surrogate U+D83D at position 8; "
        "remove it (only line breaks and tabs are allowed)"
    )


def test_a_number_where_words_belong_is_refused_as_not_text() -> None:
    with pytest.raises(ValidationError) as refused:
        words(42)
    assert [e["type"] for e in refused.value.errors()] == ["string_type"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Kim \u202egnp.exe", "U+202E"),  # right-to-left override: reads "exe.png"
        ("refund\u2066 later", "U+2066"),
        ("\u200fmark", "U+200F"),
        ("zero\u200bwidth", "U+200B"),
        ("word\u2060joiner", "U+2060"),
        ("\ufeffbyte order mark", "U+FEFF"),
        ("soft\u00adhyphen", "U+00AD"),
    ],
)
def test_characters_that_disguise_what_a_text_says_are_refused(text: str, code: str) -> None:
    assert code in refusal(text)
    assert "display as something else" in refusal(text)


def test_emoji_sequences_and_combining_marks_stay_in_texts() -> None:
    typed = "Family 👨\u200d👩\u200d👧 came, chef 🧑\u200d🍳, e\u0301 and 한글"
    assert words(typed) == typed


def test_a_name_refuses_joiners_that_a_text_keeps() -> None:
    from domain.model import Customer

    with pytest.raises(ValidationError, match="U\\+200D"):
        Customer(name="Kim\u200dMinji", phone="010-1234-5678")
    with pytest.raises(ValidationError, match="U\\+202E"):
        Customer(name="Kim \u202eijniM", phone="010-1234-5678")
    assert Customer(name="김민지", phone="010-1234-5678").name == "김민지"


def test_steps_and_stages_read_with_spaces_in_sentences() -> None:
    from domain.model import Step, stage_name

    assert Step.ANALYZE_CAUSE.label == "analyze cause" == stage_name("analyze_cause")
    assert stage_name("customer_response") == "customer response"
    assert stage_name("done") == "done"


def test_a_name_is_at_most_200_characters_and_trimmed() -> None:
    from domain.model import Customer

    assert Customer(name="  Kim  ", phone="010-1234-5678").name == "Kim"
    assert Customer(name="K" * 200, phone="010-1234-5678").name == "K" * 200
    with pytest.raises(ValidationError, match="at most 200"):
        Customer(name="K" * 201, phone="010-1234-5678")
    with pytest.raises(ValidationError):
        Customer(name=" ", phone="010-1234-5678")


def test_a_disguising_character_is_reported_at_its_position() -> None:
    assert "U+202E at position 4" in refusal("abc\u202e")
    assert "U+200B at position 1" in refusal("\u200babc")

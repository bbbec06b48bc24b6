"""The staff notice that stands in for a customer message the customer asked not to get."""

from domain.notifications import call_instead


def test_it_names_the_case_and_the_message_not_sent_in_the_shop_s_language() -> None:
    assert call_instead("case_received", "4f7k-q2mx-9bd3") == (
        "민원 4f7k-q2mx-9bd3: 고객이 메시지 수신을 원하지 않아 '접수 안내' 메시지를 보내지 "
        "않았습니다. 대신 전화로 알려 주세요."
    )
    assert call_instead("case_received", "4f7k-q2mx-9bd3", "en") == (
        "Case 4f7k-q2mx-9bd3: the customer asked for no messages, so they were not sent "
        "the 'receipt' message. Please call them instead."
    )


def test_a_kind_without_a_template_is_named_as_it_is() -> None:
    assert "'improvement_sent'" in call_instead("improvement_sent", "c1", "en")

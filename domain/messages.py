"""The messages a customer reads: one informational template per customer-facing moment, in
Korean and English, worded as a KakaoTalk notification template (알림톡) is approved: fixed
text with `#{variable}` slots, information only, no advertising (Kakao rejects a template
with a promotional line; the law treats advertising apart). The same text is the SMS/LMS
fallback. `complaints templates` prints them for the provider's approval.

Variables hold no name, phone or case text: a case id, a time, a count, a link (`#{link}`,
filled in when the message is sent: a signed `/c/<token>` for this case and purpose), and,
for the improvement report and the delay notice only, what staff wrote for the customer to
read (the measure; the delay's reason).
"""

import re
from dataclasses import dataclass

from domain.wording import Language

__all__ = ["TEMPLATES", "MessageTemplate", "template_for"]

_SLOT = re.compile(r"#\{([a-z_]+)\}")
# Purposes of a customer link (/c/<token>): what the page behind it lets the customer do.
CHOOSE, RATE, STATUS = "choose", "rate", "status"


@dataclass(frozen=True)
class MessageTemplate:
    kind: str  # the notice kind it words (domain.notifications)
    moment: str  # when it goes out, for the approval form and `complaints templates`
    title: dict[Language, str]  # its name in a staff notice ("call instead")
    text: dict[Language, str]
    link: str | None = None  # the link's purpose when the message carries one

    @property
    def variables(self) -> tuple[str, ...]:
        """The slots, in order of first appearance (the same in both languages)."""
        return tuple(dict.fromkeys(_SLOT.findall(self.text["ko"])))

    def render(self, language: Language, values: dict[str, str]) -> str:
        """The text with every slot filled; a slot without a value stays as written."""
        return _SLOT.sub(lambda m: values.get(m[1], m[0]), self.text[language])


TEMPLATES: dict[str, MessageTemplate] = {
    t.kind: t
    for t in (
        MessageTemplate(
            kind="case_received",
            moment="a complaint is opened (any channel)",
            title={"ko": "접수 안내", "en": "receipt"},
            text={
                "ko": "고객님의 말씀을 접수했습니다.\n접수번호: #{case_id}\n"
                "#{reply_by}까지 담당자가 먼저 연락드리겠습니다. 문의하실 때 접수번호를 "
                "알려 주세요.\n진행 상황 보기: #{link}",
                "en": "We have received your complaint.\nReference: #{case_id}\n"
                "Someone will contact you by #{reply_by}. Please quote the reference "
                "when you get in touch.\nSee where it stands: #{link}",
            },
            link=STATUS,
        ),
        MessageTemplate(
            kind="offer_to_choose",
            moment="staff offer a resolution (after the apology)",
            title={"ko": "해결 방법 안내", "en": "offer"},
            text={
                "ko": "불편을 드려 죄송합니다. (접수번호 #{case_id})\n해결 방법 #{options}가지를 "
                "준비했습니다. 아래 링크에서 원하시는 방법을 골라 주세요.\n#{link}",
                "en": "We are sorry for the trouble (reference #{case_id}).\nWe have "
                "prepared #{options} way(s) to put it right. Please choose one here:\n#{link}",
            },
            link=CHOOSE,
        ),
        MessageTemplate(
            kind="offer_waiting",
            moment="an offer has waited for the customer's answer (72 hours by default)",
            title={"ko": "선택 요청 재안내", "en": "offer reminder"},
            text={
                "ko": "접수번호 #{case_id}의 해결 방법이 아직 선택되지 않았습니다.\n"
                "아래 링크에서 고르시거나, 다른 방법을 원하시면 알려 주세요.\n#{link}",
                "en": "Reference #{case_id}: the ways we offered are still waiting for "
                "your choice.\nChoose here, or tell us if you would like something else:\n"
                "#{link}",
            },
            link=CHOOSE,
        ),
        MessageTemplate(
            kind="delay_announced",
            moment="staff see, before the deadline, that what was promised will be late",
            title={"ko": "지연 안내", "en": "delay notice"},
            text={
                "ko": "접수번호 #{case_id}: 약속드린 시간까지 마치지 못하게 되어 미리 "
                "알려 드립니다. 죄송합니다.\n사유: #{reason}\n새 예정 시각: #{due}\n"
                "늦어진 데 대한 보상: #{compensation}\n진행 상황 보기: #{link}",
                "en": "Reference #{case_id}: we will not make the time we promised, and we "
                "are telling you now. We are sorry.\nReason: #{reason}\nNew time: #{due}\n"
                "For the delay: #{compensation}\nSee where it stands: #{link}",
            },
            link=STATUS,
        ),
        MessageTemplate(
            kind="improvement_reported",
            moment="a day after prevention, for a suggestion (motive improvement)",
            title={"ko": "개선 결과 안내", "en": "what we changed"},
            text={
                "ko": "소중한 의견 감사합니다. 말씀해 주신 내용을 이렇게 반영했습니다: #{measure}",
                "en": "Thank you for your suggestion. Here is what we changed: #{measure}",
            },
        ),
        MessageTemplate(
            kind="rating_requested",
            moment="a week after the resolution (the follow-up)",
            title={"ko": "만족도 확인", "en": "follow-up"},
            text={
                "ko": "접수번호 #{case_id}의 처리 결과는 만족스러우셨나요?\n아래 링크에서 "
                "1-5점으로 알려 주세요. 남은 문제가 있으면 무료로 다시 해결해 드립니다.\n#{link}",
                "en": "Reference #{case_id}: are you happy with how it was resolved?\n"
                "Please rate it 1-5 here. If anything is still wrong, we will fix it free "
                "of charge.\n#{link}",
            },
            link=RATE,
        ),
        MessageTemplate(
            kind="case_closed_unanswered",
            moment="an offer went unanswered and the case closed (14 days by default)",
            title={"ko": "미응답 종결 안내", "en": "closed unanswered"},
            text={
                "ko": "접수번호 #{case_id}: 답변을 받지 못해 접수를 마무리했습니다.\n"
                "도움이 필요하시면 언제든 이 번호로 연락 주세요.",
                "en": "Reference #{case_id}: we did not hear back, so we have closed it.\n"
                "If you still need help, contact us at this number at any time.",
            },
        ),
    )
}


def template_for(kind: str) -> MessageTemplate | None:
    return TEMPLATES.get(kind)

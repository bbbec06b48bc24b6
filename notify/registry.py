"""Which sender each notice goes to, by its recipient, as the settings choose.

Three kinds of recipient: the customer (the only one a notice's text may be private to),
staff (reminders, follow-ups), and whoever an escalation reaches (the escalation contacts:
the manager, then the owner, as COMPLAINTS_ESCALATION_CONTACTS names them). Staff and
escalations get the webhook when COMPLAINTS_WEBHOOK_URL is set, else the log; the customer
gets KakaoTalk/SMS (COMPLAINTS_MESSAGES: SOLAPI or its stand-in), or with messages off what
staff get.
"""

from dataclasses import dataclass

from infra.links import link_signer
from infra.settings import Settings
from notify.senders import LogSender
from notify.solapi import MessageSender, SolapiClient
from notify.standin import (
    STANDIN_API_KEY,
    STANDIN_API_SECRET,
    STANDIN_CHANNEL,
    STANDIN_SENDER,
    standin_template_ids,
)
from notify.webhook import WebhookSender
from store.delivery import Delivery, NoticeRow, Sender

CUSTOMER = "customer"
STAFF = "staff"
DEFAULT_TIMEOUT = 10.0  # seconds: a sender that names no timeout of its own


@dataclass(frozen=True)
class WithStaffPhones:
    """Staff notices where they went before (the webhook, the log) and, for a recipient
    with a phone in COMPLAINTS_STAFF_PHONES, as a text message too. Each side is once per
    notice on its own (the webhook's receiver drops a repeated id; the text is looked up
    before a retry sends it), so a failure of either retries both safely."""

    sender: Sender
    texts: MessageSender
    phones: dict[str, str]

    async def send(self, notice: NoticeRow) -> Delivery | None:
        delivered = await self.sender.send(notice)
        phone = self.phones.get(notice["recipient"])
        if phone is None:
            return delivered
        return await self.texts.send_text(notice, phone)

    @property
    def timeout(self) -> float:
        return float(getattr(self.sender, "timeout", DEFAULT_TIMEOUT)) + self.texts.timeout


@dataclass(frozen=True)
class Registry:
    """A Sender that hands each notice to its recipient's sender."""

    customer: Sender
    staff: Sender
    escalation: Sender  # any other recipient: an escalation contact (manager, owner)
    # The case's page for staff (`/staff/cases/<id>`): a notice that asks staff to act,
    # "call the customer" above all, links to where the name and phone are, never to the
    # number itself (a notice leaves the building; the page asks who is looking).
    staff_link: str | None = None

    def sender_for(self, recipient: str) -> Sender:
        if recipient == CUSTOMER:
            return self.customer
        if recipient == STAFF:
            return self.staff
        return self.escalation

    async def send(self, notice: NoticeRow) -> Delivery | None:
        if notice["recipient"] != CUSTOMER and self.staff_link:
            link = f"{self.staff_link.rstrip('/')}/staff/cases/{notice['case_id']}"
            notice = notice | {"link": link, "message": f"{notice['message']}\n{link}"}
        return await self.sender_for(notice["recipient"]).send(notice)

    async def recheck(self, accepted: Delivery) -> Delivery | None:
        """A customer message's result now, when the customer's sender can look one up."""
        look_up = getattr(self.customer, "recheck", None)
        return await look_up(accepted) if look_up is not None else None

    @property
    def timeout(self) -> float:
        """The longest one delivery may take, over every sender: the outbox's claim on a
        notice must outlast it."""
        return max(
            float(getattr(s, "timeout", DEFAULT_TIMEOUT))
            for s in (self.customer, self.staff, self.escalation)
        )


def senders_for(settings: Settings) -> Registry:
    """The senders the settings choose: staff and escalation contacts get the signed
    webhook when it is configured (URL and secret), the log otherwise; customers get
    KakaoTalk/SMS messages (COMPLAINTS_MESSAGES: the stand-in or SOLAPI), or, with messages
    off, what staff get."""
    sender: Sender = LogSender()
    if settings.webhook_url and settings.webhook_secret:
        sender = WebhookSender(
            settings.webhook_url,
            settings.webhook_secret.get_secret_value(),
            settings.webhook_timeout.total_seconds(),
        )
    texts = message_sender(settings)
    staff: Sender = sender
    if texts is not None and settings.staff_phones:
        staff = WithStaffPhones(sender, texts, dict(settings.staff_phones))
    return Registry(
        customer=texts or sender, staff=staff, escalation=staff, staff_link=settings.public_url
    )


def message_sender(settings: Settings) -> MessageSender | None:
    """The customer's message sender for COMPLAINTS_MESSAGES, None when off. The stand-in
    is SOLAPI's API on this machine, with its own fixed keys, number, channel and ids."""
    timeout = settings.messages_timeout.total_seconds()
    if settings.messages == "standin":
        client = SolapiClient(
            f"http://127.0.0.1:{settings.standin_port}",
            STANDIN_API_KEY,
            STANDIN_API_SECRET,
            timeout,
        )
        sender_number, channel = STANDIN_SENDER, STANDIN_CHANNEL
        template_ids = standin_template_ids()
    elif settings.messages == "solapi":
        # Settings refused to load without these (infra.settings._message_provider).
        assert settings.solapi_api_key and settings.solapi_api_secret
        assert settings.sender_number and settings.kakao_channel_id
        client = SolapiClient(
            settings.solapi_url,
            settings.solapi_api_key.get_secret_value(),
            settings.solapi_api_secret.get_secret_value(),
            timeout,
        )
        sender_number, channel = settings.sender_number, settings.kakao_channel_id
        template_ids = settings.message_templates
    else:
        return None
    return MessageSender(
        client,
        sender_number=sender_number,
        channel_id=channel,
        template_ids=template_ids,
        links=link_signer(settings),
        public_url=settings.public_url,
        link_ttl=settings.link_ttl,
        language=settings.language,
        provider=settings.messages,
    )

"""Which sender each notice goes to, by its recipient, as the settings choose.

Three kinds of recipient: the customer (the only one a notice's text may be private to),
staff (reminders, follow-ups), and whoever an escalation reaches (the escalation contacts:
the manager, then the owner, as COMPLAINTS_ESCALATION_CONTACTS names them). Today each gets
the webhook when COMPLAINTS_WEBHOOK_URL is set, else the log. The customer's KakaoTalk/SMS
provider (and its stand-in) goes beside the webhook in this package, and `senders_for`
picks it for `customer`.
"""

from dataclasses import dataclass

from infra.settings import Settings
from notify.senders import LogSender, NoticeRow, Sender
from notify.webhook import WebhookSender

CUSTOMER = "customer"
STAFF = "staff"
DEFAULT_TIMEOUT = 10.0  # seconds: a sender that names no timeout of its own


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

    async def send(self, notice: NoticeRow) -> None:
        if notice["recipient"] != CUSTOMER and self.staff_link:
            link = f"{self.staff_link.rstrip('/')}/staff/cases/{notice['case_id']}"
            notice = notice | {"link": link, "message": f"{notice['message']}\n{link}"}
        await self.sender_for(notice["recipient"]).send(notice)

    @property
    def timeout(self) -> float:
        """The longest one delivery may take, over every sender: the outbox's claim on a
        notice must outlast it."""
        return max(
            float(getattr(s, "timeout", DEFAULT_TIMEOUT))
            for s in (self.customer, self.staff, self.escalation)
        )


def senders_for(settings: Settings) -> Registry:
    """The senders the settings choose: the signed webhook when it is configured (URL and
    secret), the log otherwise; the same for every recipient until a message provider
    exists for customers."""
    sender: Sender = LogSender()
    if settings.webhook_url and settings.webhook_secret:
        sender = WebhookSender(
            settings.webhook_url,
            settings.webhook_secret.get_secret_value(),
            settings.webhook_timeout.total_seconds(),
        )
    return Registry(
        customer=sender, staff=sender, escalation=sender, staff_link=settings.public_url
    )

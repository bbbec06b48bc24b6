"""A case's opening in one local activity: the shop's rules for it and the customer's visits
and tier read side by side, the opening decided (the pure decider, as the workflow would)
and stored, the events as stored handed back for the workflow to fold.

One activity instead of three (two reads, then the append): each local activity's result is
a marker in the case's history and a workflow activation in the worker, and the opening's
three were an eighth of the activations a walked case costs the worker. A retry after a
lost workflow task decides again at a later time and with a fresh lookup; the events stored
first stay the case's, and those are what it returns (as `append_opening`)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store import AppendBatch
from domain.commands import OpenCase
from domain.decider import decide
from domain.errors import DomainError
from domain.events import RecordedEvent
from domain.model import CaseRules, CustomerProfile, Motive

ReadRules = Callable[[Motive, datetime], Awaitable[CaseRules]]
ReadProfile = Callable[[str], Awaitable[CustomerProfile]]
Append = Callable[[AppendBatch], Awaitable[list[RecordedEvent]]]


class Opening(BaseModel):
    """What the workflow knows when the case opens: the command as sent, the time on the
    workflow's clock, the customer's reference and an id (the workflow's own uuid4) from
    which the events' ids are made, so every attempt stores the same ids."""

    command: OpenCase
    opened_at: datetime
    ref: str
    first_event_id: UUID


def event_id(first: UUID, seq: int) -> UUID:
    return first if seq == 1 else uuid5(NAMESPACE_URL, f"{first}/{seq}")


class OpeningActivities:
    """Over the same reads and append the older openings ran as activities of their own
    (RulebookActivities.case_rules, CustomerActivities.customer_profile,
    StoreActivities.append_opening), so every opening reads and stores alike."""

    def __init__(self, rules: ReadRules, profile: ReadProfile, append: Append) -> None:
        self.rules = rules
        self.profile = profile
        self.append = append

    @activity.defn(name="open_case")
    async def open_case(self, opening: Opening) -> list[RecordedEvent]:
        command = opening.command
        rules, profile = await asyncio.gather(
            self.rules(command.motive, opening.opened_at), self.profile(opening.ref)
        )
        decided = command.model_copy(
            update={"targets": rules.targets, "care": rules.care, "profile": profile}
        )
        try:
            events = decide(decided, None, opening.opened_at)
        except DomainError as err:  # none today: an opening is never refused
            raise ApplicationError(str(err), type=type(err).__name__, non_retryable=True) from err
        batch = AppendBatch(
            case_id=command.case_id,
            events=[
                RecordedEvent(
                    event_id=event_id(opening.first_event_id, seq),
                    case_id=command.case_id,
                    seq=seq,
                    event=event,
                )
                for seq, event in enumerate(events, start=1)
            ],
        )
        return await self.append(batch)

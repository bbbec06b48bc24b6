"""ComplaintWorkflow: the life of one case, from opening to resolution or withdrawal.

Every staff action is an Update: its validator runs the pure `decide` (a refused action
writes nothing), its handler stores the events through an activity before it answers,
then folds them in. The main loop owns the response clock.
"""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.customers import CustomerActivities
    from activities.notify import NotifyActivities
    from activities.opening import Opening, OpeningActivities
    from activities.rules import RulebookActivities
    from activities.store import AppendBatch, StoreActivities
    from domain.clock import finished, next_deadline
    from domain.commands import (
        AnalyzeCause,
        Apologize,
        ChangeRules,
        CheckClock,
        Command,
        Empathize,
        OfferResolution,
        OpenCase,
        RecordCustomerResponse,
        RecordDelay,
        RecordSatisfaction,
        RequestOverride,
        ShowPrevention,
        Withdraw,
    )
    from domain.decider import decide
    from domain.effects import effects
    from domain.errors import DomainError
    from domain.events import Escalated, Event, RecordedEvent
    from domain.model import CaseState
    from domain.phone import load_metadata
    from domain.summary import CaseSummary, summarize
    from domain.wording import load_locales
    from workflows import details, search_attributes

# What would otherwise load lazily on a workflow thread, under an import lock that deadlocks
# in the sandbox (domain/phone.py, domain/wording.py): loaded when the worker imports this
# module, before any case runs; a no-op when the sandbox imports it again for each case.
load_metadata()
load_locales()

T = TypeVar("T")
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=["SequenceConflict"],
)  # no attempt limit: while PostgreSQL is down, actions wait instead of failing
# The opening's local activities (_local): as STORE_RETRY, but slower once on timers.
LOCAL_RETRY = dataclasses.replace(STORE_RETRY, maximum_interval=timedelta(minutes=5))
NOTIFY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=8)
# Past its attempts a notice stays in the outbox; the sweep schedule sends it later.
NOTICES_IN_BACKGROUND = "notices-in-background"  # patch: cases recorded before it replay
RULES_FROM_WORKER = "rules-from-worker"  # patch: before it, the client sent the rules
CHANGED_SEARCH_ATTRIBUTES = "changed-search-attributes"  # patch: before it, all six each time
# patch: before it, the opening ran three regular activities. A case that has it has all
# the patches above too, so it records only this one: each patch's first use also upserts
# the TemporalChangeVersion search attribute, a visibility write on the server.
OPENING_LOCAL = "opening-local"
# patch: before it, the opening ran as three local activities (two reads, then its append);
# with it, as one (activities/opening.py). Like OPENING_LOCAL, a case that has it records
# only it: every older patch is taken as given.
OPENING_ONE = "opening-one"
# patch: before it, a case kept the rules it opened with. With it, a `rules_changed` signal
# (or a case outliving the years its calendar's holidays cover) makes the case read the
# rules again through an activity and record what moved (a rules_changed event).
RULES_CHANGED = "rules-changed"


def refusal(err: DomainError) -> ApplicationError:
    """A domain refusal as the caller sees it: the message, typed by the refusal's kind."""
    return ApplicationError(str(err), type=type(err).__name__, non_retryable=True)


# Service counters on the worker's metrics endpoint (exposed with `_total`). The SDK's
# workflow meter skips them while a history replays, so each counts once. Labels are
# low-cardinality kinds only, never a case id or customer data.
def _count(name: str, description: str, **labels: str) -> None:
    workflow.metric_meter().create_counter(name, description).add(1, labels)


def _action() -> str:
    """The staff action being handled: its Update's name, or `open` for the opening."""
    update = workflow.current_update_info()
    return update.name if update else "open"


def _count_refusal(kind: str) -> None:
    _count("complaints_refusals", "Staff actions refused", action=_action(), refusal=kind)


@workflow.defn(name="ComplaintWorkflow")
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, command: OpenCase) -> None:
        self.case_id = command.case_id
        self.case: CaseState | None = None  # only what is stored; None until the open is
        self.lock = asyncio.Lock()  # one decision at a time: decide, store, evolve
        self.unsent = False  # stored events caused notices the outbox has not sent yet
        self.sender: asyncio.Task[None] | None = None  # the send in flight, if any
        # Notices the outbox holds (quiet or closed hours, a review's cool-off): kind and
        # when they may go out. Rebuilt from the stored events on replay, like the state.
        self.held: list[tuple[str, datetime]] = []
        # How the case opened: OPENING_ONE, OPENING_LOCAL, or "" before both (see _patched).
        self.opened_as: str | None = None
        # The shop's rules moved (the rules_changed signal): read them again, with why.
        self.rules_stale: str | None = None
        self.extended_through = 0  # the last year a calendar extension was read for

    @workflow.run
    async def run(self, command: OpenCase) -> CaseState:
        # A reference; a phone only in cases opened before references (they replay).
        ref = command.customer_id or (command.customer.phone if command.customer else "")
        if self._opening() == OPENING_ONE:
            await self._open(command, ref)
        else:
            await self._open_as_before(command, ref)
        while self.case is not None and not finished(self.case):
            if self.unsent:  # sent here, so no staff action waits on a slow webhook
                if self._patched(NOTICES_IN_BACKGROUND):
                    self._start_sender()  # nor the clock: the loop goes straight on
                else:
                    await self._send_notifications()
            reason = self._rules_to_read(self.case)
            if reason and workflow.patched(RULES_CHANGED):
                await self._read_rules(self.case, reason)
                continue
            await self._wait_for_clock(self.case)
        await workflow.wait_condition(workflow.all_handlers_finished)
        while self.held:  # a notice held past the case's end still goes out, once
            until = min(t for _, t in self.held)
            if until > workflow.now():
                await workflow.sleep(until - workflow.now(), summary="release held notices")
            self._release()
        if self._patched(NOTICES_IN_BACKGROUND):
            while self.unsent or (self.sender and not self.sender.done()):
                self._start_sender()
                await workflow.wait_condition(lambda: self.sender is None or self.sender.done())
        elif self.unsent:
            await self._send_notifications()
        assert self.case is not None
        return self.case

    async def _open(self, command: OpenCase, ref: str) -> None:
        """The opening in the case's first workflow task, in one local activity: the rules
        and the customer read, the opening decided and stored (activities/opening.py); the
        events as stored are folded (a lost first task that ran again keeps the first)."""
        opening = Opening(
            command=command, opened_at=workflow.now(), ref=ref, first_event_id=workflow.uuid4()
        )
        async with self.lock:
            try:
                stored = await self._local(
                    OpeningActivities.open_case,
                    [opening],
                    "open the case: read the shop's rulebook and the customer, store",
                )
            except ActivityError as err:
                _count_refusal("NotStored")
                raise self._not_stored(err, ["case_opened"]) from None
            self._fold([r.event for r in stored])
        _count("complaints_actions", "Staff actions stored", action="open")

    async def _open_as_before(self, command: OpenCase, ref: str) -> None:
        """The opening of cases opened before OPENING_ONE (they replay as they ran)."""
        if self._patched(OPENING_LOCAL):
            # The opening (two reads side by side, then its append; see _store) runs inside
            # its first workflow task: the first staff action waits for the opening, and
            # three server round trips (regular activities) were most of that wait.
            rules, profile = await asyncio.gather(
                self._local(
                    RulebookActivities.case_rules,
                    # When the case opens, on the workflow's clock: its holidays are the
                    # holidays of the years it lives in.
                    [command.motive, workflow.now()],
                    "read the shop's rulebook",
                ),
                self._local(
                    CustomerActivities.customer_profile,
                    [ref],
                    "look up the customer's visits and tier",
                ),
            )
            command = command.model_copy(update={"targets": rules.targets, "care": rules.care})
        else:
            if workflow.patched(RULES_FROM_WORKER):
                rules = await workflow.execute_activity_method(
                    RulebookActivities.case_rules,
                    command.motive,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=STORE_RETRY,
                    summary="read the shop's rulebook",
                )
                command = command.model_copy(update={"targets": rules.targets, "care": rules.care})
            profile = await workflow.execute_activity_method(
                CustomerActivities.customer_profile,
                ref,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=STORE_RETRY,
                summary="look up the customer's visits and tier",
            )
        await self._execute(command.model_copy(update={"profile": profile}))

    @workflow.signal(name="rules_changed")
    def rules_changed(self, reason: str = "") -> None:
        """The shop's rulebook or calendar changed: the case takes the new rules from now."""
        self.rules_stale = reason or "the shop's rules changed"

    @workflow.query(name="state")
    def current(self) -> CaseState | None:
        return self.case

    # -- staff actions ---------------------------------------------------------------
    @workflow.update
    async def apologize(self, command: Apologize) -> CaseSummary:
        return await self._execute(command)

    @apologize.validator
    def _validate_apologize(self, command: Apologize) -> None:
        self._validate(command)

    @workflow.update
    async def empathize(self, command: Empathize) -> CaseSummary:
        return await self._execute(command)

    @empathize.validator
    def _validate_empathize(self, command: Empathize) -> None:
        self._validate(command)

    @workflow.update
    async def analyze_cause(self, command: AnalyzeCause) -> CaseSummary:
        return await self._execute(command)

    @analyze_cause.validator
    def _validate_analyze_cause(self, command: AnalyzeCause) -> None:
        self._validate(command)

    @workflow.update
    async def offer_resolution(self, command: OfferResolution) -> CaseSummary:
        return await self._execute(command)

    @offer_resolution.validator
    def _validate_offer_resolution(self, command: OfferResolution) -> None:
        self._validate(command)

    @workflow.update
    async def record_customer_response(self, command: RecordCustomerResponse) -> CaseSummary:
        return await self._execute(command)

    @record_customer_response.validator
    def _validate_record_customer_response(self, command: RecordCustomerResponse) -> None:
        self._validate(command)

    @workflow.update
    async def show_prevention(self, command: ShowPrevention) -> CaseSummary:
        return await self._execute(command)

    @show_prevention.validator
    def _validate_show_prevention(self, command: ShowPrevention) -> None:
        self._validate(command)

    @workflow.update
    async def record_satisfaction(self, command: RecordSatisfaction) -> CaseSummary:
        return await self._execute(command)

    @record_satisfaction.validator
    def _validate_record_satisfaction(self, command: RecordSatisfaction) -> None:
        self._validate(command)

    # A new Update and event change no command of a recorded history (none holds either),
    # so no patch marks them: an old case meets them only as a new action, decided anew.
    @workflow.update
    async def record_delay(self, command: RecordDelay) -> CaseSummary:
        return await self._execute(command)

    @record_delay.validator
    def _validate_record_delay(self, command: RecordDelay) -> None:
        self._validate(command)

    # New, as record_delay was: no recorded history holds it, so no patch marks it.
    @workflow.update
    async def request_override(self, command: RequestOverride) -> CaseSummary:
        return await self._execute(command)

    @request_override.validator
    def _validate_request_override(self, command: RequestOverride) -> None:
        self._validate(command)

    @workflow.update
    async def withdraw(self, command: Withdraw) -> CaseSummary:
        return await self._execute(command)

    @withdraw.validator
    def _validate_withdraw(self, command: Withdraw) -> None:
        self._validate(command)

    # -- the shell -------------------------------------------------------------------
    def _validate(self, command: Command) -> None:
        if self.case is None:
            return  # opening is being stored: the handler waits for it, then decides
        try:
            decide(command, self.case, workflow.now())
        except DomainError as err:
            _count_refusal(type(err).__name__)
            raise refusal(err) from None

    async def _execute(self, command: Command) -> CaseSummary:
        if not isinstance(command, OpenCase):
            await workflow.wait_condition(lambda: self.case is not None)
        async with self.lock:
            try:
                # Decide again under the lock: another action may have landed since validation.
                events = decide(command, self.case, workflow.now())
            except DomainError as err:
                _count_refusal(type(err).__name__)
                raise refusal(err) from None
            opening = isinstance(command, OpenCase) and self._patched(OPENING_LOCAL)
            try:
                events = await self._store(events, opening)
            except ApplicationError as err:
                _count_refusal(err.type or "NotStored")
                raise
        _count("complaints_actions", "Staff actions stored", action=_action())
        assert self.case is not None
        return summarize(self.case, tuple(e.type for e in events))

    async def _store(self, events: list[Event], opening: bool = False) -> list[Event]:
        """Store `events`, then fold them in; returns the events folded. `opening`: inside
        the opening's first workflow task (see _local), and the events as stored."""
        if not events:
            return events
        version = self.case.version if self.case else 0
        batch = AppendBatch(
            case_id=self.case_id,
            events=[
                RecordedEvent(
                    event_id=workflow.uuid4(), case_id=self.case_id, seq=version + i, event=e
                )
                for i, e in enumerate(events, start=1)
            ],
        )
        summary = "store " + ", ".join(e.type for e in events)
        try:
            if opening:
                # The opening as stored: a first workflow task lost after its append
                # committed runs the opening again, at a later time and with a fresh
                # customer lookup; the stored event stays the case's, so it is folded.
                stored = await self._local(StoreActivities.append_opening, [batch], summary)
                events = [r.event for r in stored]
            else:
                # A regular activity, not a local one: local would confirm an action ~20 ms
                # sooner, but the UI would lose the "store ..." line of the case's story.
                await workflow.execute_activity_method(
                    StoreActivities.append_events,
                    batch,
                    start_to_close_timeout=timedelta(seconds=10),
                    retry_policy=STORE_RETRY,
                    summary=summary,
                )
        except ActivityError as err:
            raise self._not_stored(err, [e.type for e in events]) from None
        self._fold(events)
        return events

    def _not_stored(self, err: ActivityError, types: list[str]) -> ApplicationError:
        """Only a failure retrying cannot fix ends here (the rest retry until stored): the
        action is refused, nothing was written, the case stays as it was."""
        cause = err.cause.message if isinstance(err.cause, ApplicationError) else str(err)
        return ApplicationError(
            f"case {self.case_id}: {', '.join(types)} could not be stored, nothing was "
            f"recorded: {cause}",
            type="NotStored",
            non_retryable=True,
        )

    def _fold(self, events: list[Event]) -> None:
        """Stored events into the case: its state, the counters, the notices they cause."""
        for event in events:
            self.case, notices = effects(self.case, event)
            if isinstance(event, Escalated):
                _count(
                    "complaints_escalations",
                    "Cases escalated",
                    level=str(event.level),
                    reason=event.reason,
                    step=event.step.value,
                )
            for notice, until in notices:
                self.unsent = True
                if until is not None:
                    self.held.append((notice.kind, until))
        self._publish()

    async def _local(
        self, activity: Callable[..., Awaitable[T]], args: list[Any], summary: str
    ) -> T:
        """A short read or write of the opening, as a local activity in the workflow task.
        While it fails (PostgreSQL away), it retries in the task for two seconds, then on
        timers, at most every five minutes: retrying in the task keeps the task alive and
        adds to the history every few seconds, a timer adds a handful of events."""
        return await workflow.execute_local_activity_method(
            activity,
            args=args,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LOCAL_RETRY,
            local_retry_threshold=timedelta(seconds=2),
            summary=summary,
        )

    def _publish(self) -> None:
        assert self.case is not None
        updates = search_attributes.updates_for(self.case)
        if self._patched(CHANGED_SEARCH_ATTRIBUTES):
            updates = search_attributes.changed(updates, workflow.info().typed_search_attributes)
        if updates:  # most steps change ComplaintStep alone; a warning changes none
            workflow.upsert_search_attributes(updates)
        workflow.set_current_details(
            details.progress(self.case, tuple(self.held)) + "\n\n" + details.rules(self.case)
        )

    def _release(self) -> None:
        """Held notices whose time has come go to the sender (sent as of this time)."""
        now = workflow.now()
        self.held = [(kind, until) for kind, until in self.held if until > now]
        self.unsent = True
        self._start_sender()
        self._publish()

    async def _wait_for_clock(self, state: CaseState) -> None:
        """Sleep until the case's next deadline unless something happens first; then let
        the rulebook say what has fallen due."""
        deadline = next_deadline(state)
        now = workflow.now()
        release = min((t for _, t in self.held), default=None)
        if release is not None and (deadline is None or release < deadline.at):
            if release > now:
                try:
                    await workflow.wait_condition(
                        lambda: (
                            self.case is not state or self._sender_due() or bool(self.rules_stale)
                        ),
                        timeout=release - now,
                        timeout_summary="release held notices",
                    )
                    return
                except TimeoutError:
                    pass
            self._release()
            return
        if deadline is None:  # nothing is due until someone acts
            await workflow.wait_condition(
                lambda: self.case is not state or self._sender_due() or bool(self.rules_stale)
            )
            return
        if deadline.at > now:
            try:
                await workflow.wait_condition(
                    lambda: self.case is not state or self._sender_due() or bool(self.rules_stale),
                    timeout=deadline.at - now,
                    timeout_summary=deadline.label,
                )
                return  # something happened: the next deadline comes from the new state
            except TimeoutError:
                pass
        async with self.lock:
            await self._store(decide(CheckClock(), self.case, workflow.now()))

    def _rules_to_read(self, state: CaseState) -> str | None:
        """Why the case should read its rules again now, if it should: a change signalled,
        or a next deadline past the last year whose holidays its calendar holds while that
        year's holidays can be read (from the year before it: a case opened in 2026 that
        is still open in 2027 reads 2028's before counting into them)."""
        if self.rules_stale:
            return self.rules_stale
        calendar = state.targets.calendar
        deadline = next_deadline(state)
        if calendar is None or deadline is None:
            return None
        covered = calendar.years[1] if calendar.years else state.opened_at.year + 1
        year = workflow.now().year
        if deadline.at.year > covered and year + 1 > covered and year > self.extended_through:
            self.extended_through = year  # once a year at most, whatever the activity says
            return f"the calendar's public holidays extended to {year + 1}"
        return None

    async def _read_rules(self, state: CaseState, reason: str) -> None:
        """Read the rules as they stand and take them from now (nothing when unchanged)."""
        self.rules_stale = None
        rules = await workflow.execute_activity_method(
            RulebookActivities.current_rules,
            args=[state.motive, state.opened_at, workflow.now()],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORE_RETRY,
            summary="read the shop's rulebook again",
        )
        async with self.lock:
            if self.case is None:
                return
            command = ChangeRules(targets=rules.targets, care=rules.care, reason=reason[:500])
            await self._store(decide(command, self.case, workflow.now()))

    def _opening(self) -> str:
        """How the case opened, asked once: the newest opening patch it has. A new case
        records only OPENING_ONE (each patch's marker also upserts TemporalChangeVersion, a
        visibility write on the server)."""
        if self.opened_as is None:
            if workflow.patched(OPENING_ONE):
                self.opened_as = OPENING_ONE
            else:
                self.opened_as = OPENING_LOCAL if workflow.patched(OPENING_LOCAL) else ""
        return self.opened_as

    def _patched(self, patch: str) -> bool:
        """workflow.patched, except that a case opened with OPENING_LOCAL or OPENING_ONE has
        every earlier patch without asking (no marker, no search-attribute write for each).
        Cases opened before them ask as they did, so their histories replay unchanged."""
        return bool(self._opening()) or workflow.patched(patch)

    def _sender_due(self) -> bool:
        """Notices wait while an earlier send is in flight; once it ends, send them."""
        return self.unsent and self.sender is not None and self.sender.done()

    def _start_sender(self) -> None:
        """Send the outbox's notices in the background, one send at a time per case."""
        if self.unsent and (self.sender is None or self.sender.done()):
            self.sender = asyncio.create_task(self._send_notifications())

    async def _send_notifications(self) -> None:
        self.unsent = False
        try:
            await workflow.execute_activity_method(
                NotifyActivities.send_notifications,
                args=[self.case_id, workflow.now()],
                start_to_close_timeout=timedelta(minutes=2),  # a few notices, each <= 10 s
                retry_policy=NOTIFY_RETRY,
                summary="send notifications",
            )
        except ActivityError:
            # The outbox keeps what was not sent; the next notice's send retries it.
            workflow.logger.warning("notifications not sent yet", extra={"case_id": self.case_id})

"""`complaints doctor`: where Temporal and PostgreSQL disagree about the cases, as after a
restore of one without the other (docs/operations.md, "Backup and restore").

- a case in PostgreSQL whose workflow Temporal does not have: open, it will never move again;
  closed, Temporal's retention (TEMPORAL_NAMESPACE_RETENTION) removed it as intended;
- a workflow whose case PostgreSQL does not have: the database is older than Temporal (or the
  worker has not stored the opening yet);
- a running case whose stored sequence is behind its history (the database lost its last
  events) or ahead of it (Temporal lost its last steps)."""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from app.context import Context
from domain.model import CaseState
from infra import shop_ids
from store import cases as case_store
from store import scope
from workflows.complaint import ComplaintWorkflow

FINAL = ("closed", "withdrawn")


@dataclass
class Findings:
    checked_rows: int = 0
    checked_workflows: int = 0
    only_in_postgres: list[str] = field(default_factory=list)  # open cases Temporal lacks
    expired_in_temporal: int = 0  # closed cases past Temporal's retention
    only_in_temporal: list[str] = field(default_factory=list)
    behind: list[tuple[str, int, int]] = field(default_factory=list)  # case, stored, history
    ahead: list[tuple[str, int, int]] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # running, no worker answered

    @property
    def agree(self) -> bool:
        return not (self.only_in_postgres or self.only_in_temporal or self.behind or self.ahead)


async def examine(ctx: Context, query_timeout: float = 5.0) -> Findings:
    pool, client = await ctx.pool(), await ctx.client()
    with scope.every_shop():  # the operator's check: every shop's cases
        rows = await case_store.stored_seq_by_case(pool)
    running: list[str] = []
    seen: dict[str, str] = {}  # case id: its workflow id (which carries its shop)
    async for wf in client.list_workflows(
        f"WorkflowType = 'ComplaintWorkflow' AND TaskQueue = '{ctx.settings.task_queue}'"
    ):
        case_id = shop_ids.case_of(wf.id)
        seen[case_id] = wf.id
        if wf.status == WorkflowExecutionStatus.RUNNING:
            running.append(case_id)
    found = Findings(checked_rows=len(rows), checked_workflows=len(seen))
    for case_id, (status, _) in sorted(rows.items()):
        if case_id not in seen:
            if status in FINAL:
                found.expired_in_temporal += 1
            else:
                found.only_in_postgres.append(case_id)
    found.only_in_temporal = sorted(set(seen) - set(rows))

    limit = asyncio.Semaphore(8)

    async def compare(case_id: str) -> None:
        async with limit:
            handle = client.get_workflow_handle(seen[case_id])
            try:
                state: CaseState | None = await handle.query(
                    ComplaintWorkflow.current, rpc_timeout=timedelta(seconds=query_timeout)
                )
            except RPCError:
                found.unanswered.append(case_id)
                return
        history = state.version if state else 0
        stored = rows[case_id][1] or 0
        if stored < history:
            found.behind.append((case_id, stored, history))
        elif stored > history:
            found.ahead.append((case_id, stored, history))

    await asyncio.gather(*(compare(c) for c in running if c in rows))
    found.behind.sort()
    found.ahead.sort()
    found.unanswered.sort()
    return found


def report(found: Findings) -> str:
    lines = [
        f"checked {found.checked_rows} cases in PostgreSQL and "
        f"{found.checked_workflows} workflows in Temporal"
    ]
    for case_id in found.only_in_postgres:
        lines.append(f"case {case_id}: open in PostgreSQL, no workflow in Temporal")
    for case_id in found.only_in_temporal:
        lines.append(f"case {case_id}: a workflow in Temporal, no row in PostgreSQL")
    for case_id, stored, history in found.behind:
        lines.append(
            f"case {case_id}: PostgreSQL has {stored} events, its history {history} "
            "(the database is behind)"
        )
    for case_id, stored, history in found.ahead:
        lines.append(
            f"case {case_id}: PostgreSQL has {stored} events, its history {history} "
            "(Temporal is behind)"
        )
    if found.expired_in_temporal:
        lines.append(
            f"{found.expired_in_temporal} closed cases are past Temporal's retention "
            "(expected: their rows and events stay in PostgreSQL)"
        )
    if found.unanswered:
        lines.append(
            f"{len(found.unanswered)} running cases not compared: no worker answered "
            f"({', '.join(found.unanswered[:5])}{', ...' if len(found.unanswered) > 5 else ''})"
        )
    lines.append(
        "Temporal and PostgreSQL agree"
        if found.agree
        else "Temporal and PostgreSQL disagree: docs/operations.md, Backup and restore"
    )
    return "\n".join(lines)

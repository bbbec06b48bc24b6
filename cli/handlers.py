"""One handler per subcommand: call the application layer, return the text to print.

Handlers that act on cases first resolve the actor (COMPLAINTS_STAFF); `setup`, `migrate`,
`staff` and the calendar's read views need no identity. Each handler imports the application
modules it calls, so a command reads only what it uses (tests/unit/test_cli_start.py): a new
handler does the same.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from cli import render

if TYPE_CHECKING:
    from app.context import Context
    from app.identity import Actor
    from app.reads import Filters
    from app.rules import Applied
    from domain.commands import OfferedRemedy
    from domain.summary import CaseSummary


async def _actor(ctx: Context) -> Actor:
    from app.identity import actor_named

    return await actor_named(ctx, ctx.settings.staff)


def parse_option(text: str) -> OfferedRemedy:
    """`KIND` or `KIND=terms`, e.g. `partial_refund=30 % back today`."""
    from app import cases

    kind, _, terms = text.partition("=")
    return cases.remedy(kind, terms)


def _recorded(args: argparse.Namespace, summary: CaseSummary) -> str:
    from domain.model import stage_name

    return (
        f"case {summary.case_id}: {args.command} recorded ({summary.status}); "
        f"now at {stage_name(summary.stage)}"
    )


async def open_case(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases
    from app.ids import case_link
    from domain.model import stage_name

    actor = await _actor(ctx)
    opened = await cases.open_case(
        ctx,
        actor,
        name=args.name,
        phone=args.phone,
        channel=args.channel,
        motive=args.motive,
        what=args.what,
        key=args.key,
        rename=args.rename,
    )
    link = case_link(ctx.settings, opened.case_id)
    if opened.already_open:
        return (
            f"case {opened.case_id} was opened earlier with this key: now {opened.status}, "
            f"at {stage_name(opened.stage)} (nothing new stored)\n{link}"
        )
    lines = [f"opened case {opened.case_id}: next, apologize"]
    if opened.due_at:
        lines[0] += f" (due {render.when(opened.due_at, (await ctx.shop_settings()).zone)})"
    if opened.name_kept:
        lines.append(
            "this phone number is on file under another name, which was kept "
            "(`complaints show` has it); add --rename to replace it"
        )
    return "\n".join([*lines, link])


async def apologize(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    summary = await cases.apologize(ctx, await _actor(ctx), args.case_id, args.text)
    return _recorded(args, summary)


async def empathize(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    summary = await cases.empathize(ctx, await _actor(ctx), args.case_id, args.text)
    return _recorded(args, summary)


async def analyze(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    summary = await cases.analyze_cause(ctx, await _actor(ctx), args.case_id, args.text, args.fault)
    return _recorded(args, summary)


async def offer(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    actor = await _actor(ctx)
    options = [parse_option(o) for o in args.option]
    summary = await cases.offer_resolution(
        ctx, actor, args.case_id, args.text, options, args.override
    )
    return _recorded(args, summary)


async def answer(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    summary = await cases.record_customer_response(
        ctx, await _actor(ctx), args.case_id, args.choose, args.decline
    )
    return _recorded(args, summary)


async def prevent(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    summary = await cases.show_prevention(ctx, await _actor(ctx), args.case_id, args.text)
    return _recorded(args, summary)


async def rate(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    summary = await cases.record_satisfaction(
        ctx, await _actor(ctx), args.case_id, args.score, args.comment
    )
    return _recorded(args, summary)


async def delay(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    summary = await cases.record_delay(ctx, await _actor(ctx), args.case_id, args.until, args.text)
    line = _recorded(args, summary)
    if summary.due_at:
        line += f"; due {render.when(summary.due_at, (await ctx.shop_settings()).zone)}"
    if ctx.settings.messages == "off":  # no messages: nobody else will tell them
        return line + "; customer messages are off: tell the customer yourself"
    return line + "; the customer is told by message"


async def withdraw(ctx: Context, args: argparse.Namespace) -> str:
    from app import cases

    summary = await cases.withdraw(ctx, await _actor(ctx), args.case_id, args.text)
    return _recorded(args, summary)


async def show(ctx: Context, args: argparse.Namespace) -> str:
    from app import reads

    actor = await _actor(ctx)
    state = await reads.show(ctx, actor, args.case_id)
    zone = (await ctx.shop_settings()).zone
    if args.json:
        return render.as_json(state, zone, indent=2)
    history = await reads.history(ctx, actor, state.case_id)
    return render.case(state, zone, ctx.settings.phone_region, history)


def _filters(args: argparse.Namespace) -> Filters:
    from app import reads

    return reads.Filters(
        status=args.status,
        step=args.step,
        motive=args.motive,
        overdue=args.overdue,
        since=args.since,
    )


async def list_cases(ctx: Context, args: argparse.Namespace) -> str:
    from app import reads

    page = await reads.list_cases(ctx, await _actor(ctx), _filters(args), args.limit, args.page)
    zone = (await ctx.shop_settings()).zone
    return render.as_json(page, zone) if args.json else render.case_list(page, args.limit, zone)


async def export(ctx: Context, args: argparse.Namespace) -> str:
    from app import reads

    text = await reads.export_csv(ctx, await _actor(ctx), _filters(args))
    if args.output:
        Path(args.output).write_text(text)
        return f"wrote {render.counted(text.count(chr(10)) - 1, 'case')} to {args.output}"
    return text.rstrip("\n")


async def report(ctx: Context, args: argparse.Namespace) -> str:
    from app import reads

    figures = await reads.period_report(ctx, await _actor(ctx), args.start, args.end)
    if args.json:
        return render.as_json(figures, (await ctx.shop_settings()).zone, indent=2)
    return render.period_report(figures)


async def visit(ctx: Context, args: argparse.Namespace) -> str:
    from app import customers

    profile = await customers.record_visit(
        ctx, await _actor(ctx), args.phone, args.name, args.referred_by, args.redeem
    )
    if args.json:
        return render.as_json(profile, (await ctx.shop_settings()).zone, indent=2)
    earlier = profile.previous_cases
    complaints = f", {render.counted(earlier, 'earlier complaint')}" if earlier else ""
    visits = render.counted(profile.visits, "visit")
    return "\n".join(
        [f"visit recorded: {visits}, tier {profile.tier}{complaints}", *render.rewards(profile)]
    )


async def consent(ctx: Context, args: argparse.Namespace) -> str:
    from app import keeping

    given = args.answer == "yes"
    actor = await _actor(ctx)
    state = await keeping.consent(ctx, actor, args.phone, given, args.night, keeping.CLI)
    if args.json:
        return render.as_json(state, (await ctx.shop_settings()).zone, indent=2)
    return render.consent(state, (await ctx.shop_settings()).zone, given, args.night)


async def keep_in_touch(ctx: Context, args: argparse.Namespace) -> str:
    from app import keeping

    run = await keeping.keep_in_touch(ctx, await _actor(ctx), args.dry_run)
    settings = await ctx.shop_settings()
    if args.json:
        return render.as_json(render.keep_in_touch_rows(run), settings.zone, indent=2)
    return render.keep_in_touch(run, args.dry_run, settings.zone, settings.phone_region)


async def forget(ctx: Context, args: argparse.Namespace) -> str:
    from app import customers

    done = await customers.forget(ctx, await _actor(ctx), args.phone)
    if done.customer_id is None and not done.cases:
        return f"no customer with phone {args.phone}: nothing to forget"
    return (
        f"forgot the customer's name, phone and texts: {render.counted(done.cases, 'case')}, "
        f"{render.counted(done.events, 'event')} and {render.counted(done.notices, 'notice')} "
        "no longer hold them; reports still count the cases"
        + (
            f"; {render.counted(done.records, 'minimal complaint record')} kept under the "
            f"{ctx.settings.complaint_records_years}-year legal hold"
            if done.records
            else ""
        )
    )


async def notifications(ctx: Context, args: argparse.Namespace) -> str:
    from app import admin

    zone = (await ctx.shop_settings()).zone
    if args.sent:
        done = await admin.delivered_messages(ctx, await _actor(ctx), args.limit)
        return render.as_json(done, zone) if args.json else render.messages(done, zone)
    rows = await admin.unsent_notices(ctx, await _actor(ctx), args.limit)
    return render.as_json(rows, zone) if args.json else render.notices(rows, zone)


async def templates(ctx: Context, args: argparse.Namespace) -> str:
    return (
        render.as_json(render.template_rows(), ctx.settings.zone)
        if args.json
        else (render.templates(ctx.settings.message_templates))
    )


async def qr(ctx: Context, args: argparse.Namespace) -> str:
    """The form's address as a QR code: a file to print, or text for a terminal."""
    from app import intake

    url = intake.form_url(ctx.settings, await _shop(ctx))
    if not args.output:
        return f"{intake.qr_text(url)}\n{url}"
    written = intake.write_qr(url, Path(args.output), args.scale)
    return f"wrote {written} for {url}"


async def rebuild(ctx: Context, args: argparse.Namespace) -> str:
    from app import admin

    cases_rebuilt = await admin.rebuild(ctx, await _actor(ctx))
    return f"rebuilt complaint_cases: {render.counted(cases_rebuilt, 'case')}"


async def migrate(ctx: Context, args: argparse.Namespace) -> str:
    from app import admin

    if args.status:
        return render.migrations(await admin.migration_status(ctx), ctx.settings.zone)
    applied = await admin.migrate(ctx)
    if not applied:
        return "the schema is up to date; nothing to apply"
    return "applied " + ", ".join(f"{m.version:04d}_{m.name}" for m in applied)


async def setup(ctx: Context, args: argparse.Namespace) -> str:
    from app import admin

    added, present = await admin.setup(ctx)
    namespace = ctx.settings.temporal_namespace
    if not added:
        return (
            f"namespace {namespace}: search attributes all present already ({', '.join(present)})"
        )
    return f"namespace {namespace}: added {', '.join(added)}"


async def calendar_days(ctx: Context, args: argparse.Namespace) -> str:
    await _shop(ctx)
    from app import calendar, rules

    settings, _ = await rules.effective(ctx)  # the owner's rules over the environment's
    lines = [
        f"the shop's next {args.days} days ({settings.timezone}; "
        f"targets count {settings.default_mode} time)"
    ]
    for d in await calendar.days_ahead(ctx, args.days):
        if d.periods:
            what = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in d.periods)
            what += f" ({d.closed_for})" if d.closed_for else ""
        else:
            what = f"closed: {d.closed_for}" if d.closed_for else "closed"
        lines.append(f"{d.day:%Y-%m-%d %a}  {what}")
    return "\n".join(lines)


async def calendar_due(ctx: Context, args: argparse.Namespace) -> str:
    await _shop(ctx)
    from app import calendar

    due = await calendar.due(ctx, args.target, args.start, args.mode)
    lines = [
        due.due.isoformat(),
        f"due {due.due:%a %Y-%m-%d %H:%M %Z}: {args.target} of {due.counted} from "
        f"{due.start:%a %Y-%m-%d %H:%M}",
    ]
    if args.mode is None and due.counted == calendar.WALL:  # the shop's rule, maybe unawares
        lines.append(
            "counted in wall-clock time, as the shop's targets are: "
            "`complaints rules set target_mode business` counts opening hours"
        )
    return "\n".join(lines)


async def calendar_close(ctx: Context, args: argparse.Namespace) -> str:
    from app import rules

    new, done = await rules.close_day(ctx, await _actor(ctx), args.day, args.reason)
    verb = "closed" if new else "still closed (reason updated)"
    return f"{args.day:%Y-%m-%d (%a)} {verb}: {args.reason.strip()}" + _reached(done)


async def calendar_open(ctx: Context, args: argparse.Namespace) -> str:
    from app import rules

    done = await rules.open_day(ctx, await _actor(ctx), args.day, args.hours, args.reason)
    if not done.changes:
        return f"{args.day:%Y-%m-%d (%a)}: no change"
    after = done.changes[-1].after
    what = f"open once {after}" if after else "extra opening removed"
    return f"{args.day:%Y-%m-%d (%a)} {what}: {args.reason.strip()}" + _reached(done)


async def calendar_hours(ctx: Context, args: argparse.Namespace) -> str:
    from app import rules

    done = await rules.set_hours(ctx, await _actor(ctx), args.days, args.periods)
    return _applied(done)


async def calendar_closed_every(ctx: Context, args: argparse.Namespace) -> str:
    from app import rules

    done = await rules.set_closed_every(ctx, await _actor(ctx), args.days)
    return _applied(done)


async def rules_show(ctx: Context, args: argparse.Namespace) -> str:
    await _shop(ctx)
    from app import rules

    found = await rules.show(ctx)
    if args.json:
        return json.dumps(
            [{"key": r.key, "value": r.value, "set_by": r.set_by} for r in found],
            ensure_ascii=False,
        )
    width = max(len(r.key) for r in found)
    return "\n".join(
        f"{r.key:<{width}}  {r.value}" + (f"  (set by {r.set_by})" if r.set_by else "")
        for r in found
    )


async def rules_set(ctx: Context, args: argparse.Namespace) -> str:
    from app import rules

    pairs = args.pairs
    if len(pairs) % 2:
        from app.refusals import InvalidInput

        raise InvalidInput("give KEY VALUE pairs, e.g. response_target 48h (VALUE - unsets)")
    values: dict[str, str | None] = {
        pairs[i]: (None if pairs[i + 1] == "-" else pairs[i + 1]) for i in range(0, len(pairs), 2)
    }
    done = await rules.set_rules(ctx, await _actor(ctx), values)
    return _applied(done) + _templates_note(ctx, done)


def _templates_note(ctx: Context, done: Applied) -> str:
    """A language change re-words notices and pages, not a KakaoTalk message: Kakao sends only
    the templates registered in the environment's language (docs/rulebook.md)."""
    env = ctx.settings
    changed = [c for c in done.changes if c.what == "language"]
    if env.messages == "off" or not changed or (changed[-1].after or env.language) == env.language:
        return ""
    return (
        f"\nnotices and pages now speak {changed[-1].after}; KakaoTalk messages keep the templates"
        f" registered in {env.language} (COMPLAINTS_LANGUAGE) until templates in"
        f" {changed[-1].after} are registered and the environment says so"
    )


async def rules_changes(ctx: Context, args: argparse.Namespace) -> str:
    await _shop(ctx)
    from app import rules

    found = await rules.changes(ctx, args.limit)
    zone = (await ctx.shop_settings()).zone
    if args.json:
        return json.dumps(
            [
                {
                    "at": c.at.astimezone(zone).isoformat(),
                    "by": c.by,
                    "what": c.what,
                    "before": c.before,
                    "after": c.after,
                }
                for c in found
            ],
            ensure_ascii=False,
        )
    if not found:
        return "no changes recorded"
    lines = []
    for c in found:
        said = render.change(c.what, c.before, c.after)
        lines.append(f"{c.at.astimezone(zone):%Y-%m-%d %H:%M}  {c.by}  {said}")
    return "\n".join(lines)


def _applied(done: Applied) -> str:
    if not done.changes:
        return "no change: the rulebook says so already"
    lines = [render.change(c.what, c.before, c.after) for c in done.changes]
    return "\n".join(lines) + _reached(done)


def _reached(done: Applied) -> str:
    if not done.changes:
        return ""
    taken = "takes" if done.reached == 1 else "take"
    text = f"\n{render.counted(done.reached, 'open case')} {taken} the new rules"
    if done.unreached:
        text += (
            f"; {done.unreached} not reached (Temporal away?): they keep their rules"
            " until the notification sweep brings them the change, within 5 minutes"
        )
    return text


async def _shop(ctx: Context, typed: str | None = None) -> str:
    """The shop a command without an actor acts for (its trust line is the database)."""
    from app import shops

    return await shops.act_for(ctx, typed)


async def shop_add(ctx: Context, args: argparse.Namespace) -> str:
    from app import shops

    row = await shops.add(ctx, await _actor(ctx), args.name)
    return (
        f"added shop {row.name!r}; add its owner with "
        f'`complaints staff add "NAME" --role owner --shop {row.shop_id}`\n{row.shop_id}'
    )


async def shop_list(ctx: Context, args: argparse.Namespace) -> str:
    from app import shops

    rows = await shops.everyone(ctx, await _actor(ctx))
    zone = ctx.settings.zone
    if args.json:
        return render.as_json([r.__dict__ for r in rows], zone)
    lines = [f"{'id':<10} {'since':<17} name"]
    lines += [f"{r.shop_id:<10} {render.when(r.created_at, zone):<17} {r.name}" for r in rows]
    return "\n".join(lines)


async def staff_add(ctx: Context, args: argparse.Namespace) -> str:
    from app import staff as staff_accounts

    if args.role != "operator":
        await _shop(ctx, args.shop)
    token = await staff_accounts.add(ctx, args.name, args.role)
    return (
        f"added {args.name.strip()} ({args.role}); their API token, shown this once "
        "(only its hash is stored):\n"
        f"{token}"
    )


async def staff_list(ctx: Context, args: argparse.Namespace) -> str:
    await _shop(ctx, args.shop)
    from app import staff as staff_accounts

    rows = await staff_accounts.everyone(ctx)
    if args.json:
        return render.as_json([r.__dict__ for r in rows], (await ctx.shop_settings()).zone)
    if not rows:
        return 'no staff yet: `complaints staff add "NAME" --role owner` makes the first'
    zone = (await ctx.shop_settings()).zone
    lines = [f"{'name':<24} {'role':<8} since"]
    for r in rows:
        gone = f"  (revoked {render.when(r.revoked_at, zone)})" if r.revoked_at else ""
        lines.append(f"{r.name:<24} {r.role:<8} {render.when(r.created_at, zone)}{gone}")
    return "\n".join(lines)


async def staff_revoke(ctx: Context, args: argparse.Namespace) -> str:
    await _shop(ctx, args.shop)
    from app import staff as staff_accounts

    row = await staff_accounts.revoke(ctx, args.name)
    assert row.revoked_at is not None
    zone = (await ctx.shop_settings()).zone
    return (
        f"revoked {row.name} ({row.role}) on {render.when(row.revoked_at, zone)}: "
        "their token and name no longer work"
    )


async def staff_link(ctx: Context, args: argparse.Namespace) -> str:
    await _shop(ctx, args.shop)
    from app import sessions

    url = await sessions.sign_in_link(ctx, args.name)
    return (
        f"a sign-in link for {args.name.strip()}: it works once, within 15 minutes, on the "
        "device that opens it (only its hash is stored):\n"
        f"{url}"
    )


async def backup(ctx: Context, args: argparse.Namespace) -> str:
    from app import backup as backups

    done = await backups.backup(ctx, Path(args.folder))
    newest = done.newest_event
    last = f"; newest event {newest['recorded_at']} (case {newest['case_id']})" if newest else ""
    return (
        f"backed up {render.counted(done.cases, 'case')}, "
        f"{render.counted(done.events, 'event')} and {done.tables} tables into {done.folder}"
        f"{last}; payload keys {', '.join(done.key_ids)} sealed with the passphrase.\n"
        "Back up Temporal's database at the same time (docs/operations.md, Backup and restore)"
    )


async def restore(ctx: Context, args: argparse.Namespace) -> str:
    from app import backup as backups

    keys_out = Path(args.keys_out) if args.keys_out else None
    done = await backups.restore(ctx, Path(args.folder), keys_out=keys_out)
    events = done.rows.get("complaint_events", 0)
    return "\n".join(
        [
            f"restored {render.counted(done.cases, 'case')} and "
            f"{render.counted(events, 'event')} ({len(done.rows)} tables)",
            done.keys,
            "next: start the workers, then `complaints doctor` compares it with Temporal",
        ]
    )


async def doctor(ctx: Context, args: argparse.Namespace) -> str:
    from app import doctor as doctor_checks

    return doctor_checks.report(await doctor_checks.examine(ctx))


async def retention(ctx: Context, args: argparse.Namespace) -> str:
    from app import retention as retention_runs

    period, due = await retention_runs.run(ctx, await _actor(ctx), args.dry_run)
    if due is None:
        return "retention is off (COMPLAINTS_RETENTION=off): customer data stays until forget"
    when = render.when(due.cutoff, (await ctx.shop_settings()).zone)
    people = render.counted(due.people, "customer")
    cases = render.counted(due.cases, "case")
    if args.dry_run:
        head = f"retention {period}: {people} ({cases}) closed before {when} due; dry run"
        listed = [f"  {c}" for c in due.customers] + [f"  case {c}" for c in due.legacy_cases]
        return "\n".join([head, *listed])
    done = f"retention {period}: removed the name and phone of {people} ({cases}), before {when}"
    if due.records:
        held = render.counted(due.records, "minimal complaint record")
        done += f"; kept {held} under the legal hold"
    return done

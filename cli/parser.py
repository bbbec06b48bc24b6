"""The CLI's arguments: one subcommand each, naming its handler in cli/handlers.py.

Nothing of the service is imported here, and a command's arguments are added only when that
command is chosen: `complaints --help` answers before Python has read the rest of the CLI
(tests/unit/test_cli_start.py holds it to that). A new command is one `cmd(...)` line in
`parser()` with a function that adds its arguments; whatever that function needs (an enum
for `choices`) it imports itself.
"""

import argparse
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, NoReturn


class Parser(argparse.ArgumentParser):
    """Usage mistakes as one line, like every other refusal (subcommands inherit this)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


Arguments = Callable[[Parser], None]


class Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Subcommands whose arguments are added when one of them is chosen, not before: the
    top-level help lists names and one line each, and building forty parsers (and importing
    the enums their choices come from) is work no single command needs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arguments: dict[str, Arguments] = {}

    def command(
        self, name: str, help: str, handler: str | None, arguments: Arguments | None
    ) -> None:
        sub = self.add_parser(name, help=help)
        if handler is not None:
            sub.set_defaults(handler=handler)
        if arguments is not None:
            self._arguments[name] = arguments

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        assert isinstance(values, list)
        arguments = self._arguments.pop(values[0], None)
        if arguments is not None:
            arguments(self._name_parser_map[values[0]])
        super().__call__(parser, namespace, values, option_string)


def cmd(
    sub: Commands, name: str, help: str, handler: str | None, arguments: Arguments | None = None
) -> None:
    """Register `complaints NAME`: `handler` names its function in cli/handlers.py (imported
    when the command runs), `arguments` adds its arguments (run when it is chosen)."""
    sub.command(name, help, handler, arguments)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def _filters(p: Parser) -> None:
    from app.reads import STAGES
    from domain.model import CaseStatus, Motive

    p.add_argument("--status", choices=[s.value for s in CaseStatus])
    p.add_argument(
        "--step",
        choices=list(STAGES),
        type=lambda text: text.strip().replace(" ", "_"),  # "analyze cause" as list shows it
    )
    p.add_argument("--motive", choices=[m.value for m in Motive])
    p.add_argument("--overdue", action="store_true", help="staff owe something already due")
    p.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="opened on or after")


def parser() -> Parser:
    p = Parser(
        prog="complaints",
        description="Handle customer complaints. Acts as the staff member COMPLAINTS_STAFF names.",
    )
    sub = p.add_subparsers(dest="command", required=True, action=Commands)
    assert isinstance(sub, Commands)
    cmd(sub, "open", "open a complaint case", "open_case", _open)
    cmd(sub, "apologize", "apologize for the specific thing that went wrong", "apologize", _step)
    cmd(sub, "empathize", "record what the customer said, in their words", "empathize", _step)
    cmd(sub, "analyze", "state the cause and whose fault it was", "analyze", _analyze)
    cmd(sub, "offer", "offer the customer one or more concrete remedies", "offer", _offer)
    cmd(sub, "prevent", "state what changes so it does not happen again", "prevent", _step)
    cmd(sub, "withdraw", "end the case with a reason (managers and the owner)", "withdraw", _step)
    cmd(
        sub,
        "delay",
        "before the deadline: the step now due will be late (the customer is told at once, "
        "the due time moves, the policy's delay compensation follows)",
        "delay",
        _delay,
    )
    cmd(sub, "answer", "record the customer's answer to the offer", "answer", _answer)
    cmd(sub, "rate", "record the follow-up satisfaction score (1-5)", "rate", _rate)
    cmd(
        sub,
        "calendar",
        "the shop's calendar: the next days, due times, closures",
        "calendar_days",
        _calendar,
    )
    cmd(sub, "rules", "the shop's rulebook: show, set, changes", "rules_show", _rules)
    cmd(
        sub,
        "forget",
        "remove a customer's name and phone everywhere (cases stay, anonymous)",
        "forget",
        _phone,
    )
    cmd(sub, "visit", "record a customer's visit (it sets their tier)", "visit", _visit)
    cmd(
        sub,
        "consent",
        "record a customer's consent to advertising messages, or its withdrawal",
        "consent",
        _consent,
    )
    cmd(
        sub,
        "keep-in-touch",
        "send the keep-in-touch messages due now (the worker does it hourly)",
        "keep_in_touch",
        _keep_in_touch,
    )
    cmd(sub, "show", "show a case", "show", _show)
    cmd(sub, "rebuild", "rebuild complaint_cases from complaint_events", "rebuild")
    cmd(
        sub,
        "migrate",
        "apply pending database migrations (a worker start does too)",
        "migrate",
        _migrate,
    )
    cmd(
        sub,
        "notifications",
        "notices not delivered yet, oldest first",
        "notifications",
        _notifications,
    )
    cmd(
        sub,
        "templates",
        "the customer message templates, as a provider needs them for approval",
        "templates",
        _json,
    )
    cmd(
        sub,
        "qr",
        "the public complaint form's QR code (COMPLAINTS_PUBLIC_URL/c/new) to print",
        "qr",
        _qr,
    )
    cmd(
        sub,
        "setup",
        "register the search attributes on TEMPORAL_NAMESPACE (once per cluster)",
        "setup",
    )
    cmd(sub, "list", "list cases, newest first", "list_cases", _list)
    cmd(sub, "report", "the figures for a period (default: the last 30 days)", "report", _report)
    cmd(sub, "export", "the case rows as CSV (no customer names or phones)", "export", _export)
    cmd(
        sub,
        "staff",
        "staff accounts (needs the database connection only: it is the trust line)",
        None,  # each of its subcommands names its own
        _staff,
    )
    cmd(
        sub,
        "shop",
        "the shops on this deployment (an operator's: COMPLAINTS_STAFF names one)",
        None,
        _shops,
    )
    _operator(sub)
    return p


def _open(o: Parser) -> None:
    from domain.model import IntakeChannel, Motive

    o.add_argument("--name", required=True, help="customer's name")
    o.add_argument("--phone", required=True, help="customer's phone, e.g. 010-1234-5678")
    o.add_argument("--channel", required=True, choices=[c.value for c in IntakeChannel])
    o.add_argument("--motive", required=True, choices=[m.value for m in Motive])
    o.add_argument("--what", required=True, help="what happened")
    o.add_argument(
        "--rename",
        action="store_true",
        help="the phone is on file under another name: replace that name with --name",
    )
    o.add_argument(
        "--key",
        help="idempotency key: the same key always gives the same case, so a retried "
        "open never makes a second one (e.g. the booking or message id)",
    )


def _step(s: Parser) -> None:
    s.add_argument("case_id")
    s.add_argument("text")


def _analyze(s: Parser) -> None:
    from domain.model import Fault

    _step(s)
    s.add_argument("--fault", required=True, choices=[f.value for f in Fault])


def _offer(s: Parser) -> None:
    _step(s)
    s.add_argument(
        "--option",
        action="append",
        required=True,
        metavar="KIND[=TERMS]",
        help="a remedy the customer may choose; repeat for a choice",
    )
    s.add_argument(
        "--override",
        metavar="REASON",
        help="the owner's reason for offering outside the policy (owner only)",
    )


def _delay(d: Parser) -> None:
    d.add_argument("case_id")
    d.add_argument("text", metavar="REASON", help="why it will be late (the customer reads it)")
    d.add_argument(
        "--until",
        required=True,
        metavar="TIME",
        help="the new due time, the shop's local time unless it has an offset "
        "(e.g. 2026-12-08 15:00)",
    )


def _answer(a: Parser) -> None:
    a.add_argument("case_id")
    answer = a.add_mutually_exclusive_group(required=True)
    answer.add_argument("--choose", metavar="KIND", help="the remedy the customer chose")
    answer.add_argument("--decline", metavar="REASON", help="why the customer declined")


def _rate(r: Parser) -> None:
    r.add_argument("case_id")
    r.add_argument("score", type=int)
    r.add_argument("--comment")


def _calendar(cal: Parser) -> None:
    cal.add_argument("--days", type=int, default=14, help="how many days to show (14)")
    cal_sub = cal.add_subparsers(dest="calendar_command")
    due = cal_sub.add_parser("due", help="when a target started at a time falls due")
    due.set_defaults(handler="calendar_due")
    due.add_argument("--target", required=True, help="e.g. 24h, 8h, 4h30m")
    due.add_argument(
        "--from", dest="start", metavar="TIME", help="the shop's local time (default: now)"
    )
    due.add_argument("--mode", choices=["wall", "business"], help="default: the shop's")
    shut = cal_sub.add_parser("close", help="record a day the shop is closed")
    shut.set_defaults(handler="calendar_close")
    shut.add_argument("day", type=_date, metavar="YYYY-MM-DD")
    shut.add_argument("--reason", required=True)
    extra = cal_sub.add_parser("open", help="open a day once (a closed weekday, a holiday)")
    extra.set_defaults(handler="calendar_open")
    extra.add_argument("day", type=_date, metavar="YYYY-MM-DD")
    extra.add_argument("hours", help="e.g. 12:00-16:00 or 11:00-15:00,17:00-22:00; none removes")
    extra.add_argument("--reason", required=True)
    hrs = cal_sub.add_parser("hours", help="the opening hours of some weekdays (the owner)")
    hrs.set_defaults(handler="calendar_hours")
    hrs.add_argument("days", metavar="DAYS", help="e.g. mon-sun, mon-fri, sat,sun")
    hrs.add_argument(
        "periods",
        metavar="PERIODS",
        help="e.g. 10:00-19:00, 11:00-15:00,17:00-22:00 (a break), 18:00-02:00, or closed",
    )
    every = cal_sub.add_parser("closed-every", help="regular closing days (the owner)")
    every.set_defaults(handler="calendar_closed_every")
    every.add_argument("days", metavar="DAYS", help='e.g. mon, "2nd,4th mon", "last sun"; none')


def _rules(rl: Parser) -> None:
    rl.set_defaults(json=False)
    rl_sub = rl.add_subparsers(dest="rules_command")
    rshow = rl_sub.add_parser("show", help="every rule and its value")
    rshow.set_defaults(handler="rules_show")
    rshow.add_argument("--json", action="store_true")
    rset = rl_sub.add_parser("set", help="set rules: KEY VALUE... (VALUE - unsets; the owner)")
    rset.set_defaults(handler="rules_set")
    rset.add_argument("pairs", nargs="+", metavar="KEY VALUE")
    rch = rl_sub.add_parser("changes", help="every change: who, when, before, after")
    rch.set_defaults(handler="rules_changes")
    rch.add_argument("--limit", type=int, default=50)
    rch.add_argument("--json", action="store_true")


def _phone(p: Parser) -> None:
    p.add_argument("phone")


def _json(p: Parser) -> None:
    p.add_argument("--json", action="store_true")


def _visit(v: Parser) -> None:
    v.add_argument("phone")
    v.add_argument("--name")
    v.add_argument(
        "--referred-by",
        metavar="PHONE2",
        help="who referred this new customer: both get the referral reward",
    )
    v.add_argument(
        "--redeem",
        type=int,
        action="append",
        default=[],
        metavar="REWARD",
        help="use up a reward the customer holds (its number, as a visit lists it)",
    )
    v.add_argument("--json", action="store_true")


def _consent(cs: Parser) -> None:
    cs.add_argument("phone")
    cs.add_argument("answer", choices=["yes", "no"])
    cs.add_argument(
        "--night",
        action="store_true",
        help="the separate consent to messages between 21:00 and 08:00 (with no: only that)",
    )
    cs.add_argument("--json", action="store_true")


def _keep_in_touch(kt: Parser) -> None:
    kt.add_argument("--dry-run", action="store_true", help="list who would get one; send none")
    kt.add_argument("--json", action="store_true")


def _show(sh: Parser) -> None:
    sh.add_argument("case_id")
    sh.add_argument("--json", action="store_true")


def _migrate(mg: Parser) -> None:
    mg.add_argument(
        "--status", action="store_true", help="list applied and pending migrations; apply nothing"
    )


def _notifications(nt: Parser) -> None:
    nt.add_argument("--limit", type=int, default=50)
    nt.add_argument("--json", action="store_true")
    nt.add_argument(
        "--sent", action="store_true", help="customer messages done, with what became of each"
    )


def _qr(qr: Parser) -> None:
    qr.add_argument("--output", metavar="FILE", help="write FILE.svg or FILE.png (else text)")
    qr.add_argument("--scale", type=int, default=8, help="pixels per module (default 8)")


def _list(ls: Parser) -> None:
    _filters(ls)
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--page", type=int, default=1)
    ls.add_argument("--json", action="store_true")


def _report(rp: Parser) -> None:
    rp.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD")
    rp.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD", help="inclusive")
    rp.add_argument("--json", action="store_true")


def _export(ex: Parser) -> None:
    _filters(ex)
    ex.add_argument("--output", "-o", help="a file; standard output if left out")


def _staff(st: Parser) -> None:
    from app.identity import STAFF_ROLES

    st_sub = st.add_subparsers(dest="staff_command", required=True)
    add = st_sub.add_parser("add", help="add a staff member; prints their API token once")
    add.set_defaults(handler="staff_add")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in STAFF_ROLES])
    sl = st_sub.add_parser("list", help="staff members and their roles")
    sl.set_defaults(handler="staff_list")
    sl.add_argument("--json", action="store_true")
    rv = st_sub.add_parser("revoke", help="revoke a staff member: name and token stop working")
    rv.set_defaults(handler="staff_revoke")
    rv.add_argument("name")
    lk = st_sub.add_parser(
        "link", help="a one-time sign-in link to the pages (15 minutes, single use)"
    )
    lk.set_defaults(handler="staff_link")
    lk.add_argument("name")
    for each in (add, sl, rv, lk):
        each.add_argument(
            "--shop",
            help="the shop (default: COMPLAINTS_SHOP, else the only one); "
            "an operator belongs to none",
        )


def _shops(sh: Parser) -> None:
    sh_sub = sh.add_subparsers(dest="shop_command", required=True)
    add = sh_sub.add_parser("add", help="add a shop; prints its id on the last line")
    add.set_defaults(handler="shop_add")
    add.add_argument("name", help="the shop's name, as its staff and customers know it")
    sl = sh_sub.add_parser("list", help="the shops, oldest first")
    sl.set_defaults(handler="shop_list")
    sl.add_argument("--json", action="store_true")


def _operator(sub: Commands) -> None:
    """Backup, restore, doctor, retention: run by whoever holds the database's credentials."""
    cmd(
        sub,
        "backup",
        "the database (one snapshot) and the payload keys sealed with a passphrase "
        "(COMPLAINTS_BACKUP_PASSPHRASE, else asked) into a new folder",
        "backup",
        _folder,
    )
    cmd(
        sub,
        "restore",
        "a backup into an empty database (DATABASE_URL); refuses one with data",
        "restore",
        _restore,
    )
    cmd(
        sub,
        "doctor",
        "where Temporal and PostgreSQL disagree about cases (after a restore)",
        "doctor",
    )
    cmd(
        sub,
        "retention",
        "remove the name and phone of customers whose cases all closed longer ago than "
        "COMPLAINTS_RETENTION (3y); a daily schedule does it too",
        "retention",
        _retention,
    )


def _folder(p: Parser) -> None:
    p.add_argument("folder", metavar="DIR")


def _restore(rs: Parser) -> None:
    rs.add_argument("folder", metavar="DIR")
    rs.add_argument(
        "--keys-out",
        metavar="FILE",
        help="write the backup's payload keys here (mode 600) to configure them again",
    )


def _retention(rt: Parser) -> None:
    rt.add_argument("--dry-run", action="store_true", help="say what is due; change nothing")

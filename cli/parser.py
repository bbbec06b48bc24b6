"""The CLI's arguments: one subparser per command, each naming its handler."""

import argparse
from datetime import date
from typing import NoReturn

from app.identity import STAFF_ROLES
from app.reads import STAGES
from cli import handlers
from domain.model import CaseStatus, Fault, IntakeChannel, Motive


class Parser(argparse.ArgumentParser):
    """Usage mistakes as one line, like every other refusal (subcommands inherit this)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--status", choices=[s.value for s in CaseStatus])
    p.add_argument(
        "--step",
        choices=list(STAGES),
        type=lambda text: text.strip().replace(" ", "_"),  # "analyze cause" as list shows it
    )
    p.add_argument("--motive", choices=[m.value for m in Motive])
    p.add_argument("--overdue", action="store_true", help="staff owe something already due")
    p.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="opened on or after")


STEPS = {
    "apologize": (handlers.apologize, "apologize for the specific thing that went wrong"),
    "empathize": (handlers.empathize, "record what the customer said, in their words"),
    "analyze": (handlers.analyze, "state the cause and whose fault it was"),
    "offer": (handlers.offer, "offer the customer one or more concrete remedies"),
    "prevent": (handlers.prevent, "state what changes so it does not happen again"),
    "withdraw": (handlers.withdraw, "end the case with a reason (managers and the owner)"),
}


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="complaints",
        description="Handle customer complaints. Acts as the staff member COMPLAINTS_STAFF names.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    o = sub.add_parser("open", help="open a complaint case")
    o.set_defaults(handler=handlers.open_case)
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
    for name, (handler, help_text) in STEPS.items():
        s = sub.add_parser(name, help=help_text)
        s.set_defaults(handler=handler)
        s.add_argument("case_id")
        s.add_argument("text")
        if name == "analyze":
            s.add_argument("--fault", required=True, choices=[f.value for f in Fault])
        if name == "offer":
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
    a = sub.add_parser("answer", help="record the customer's answer to the offer")
    a.set_defaults(handler=handlers.answer)
    a.add_argument("case_id")
    answer = a.add_mutually_exclusive_group(required=True)
    answer.add_argument("--choose", metavar="KIND", help="the remedy the customer chose")
    answer.add_argument("--decline", metavar="REASON", help="why the customer declined")
    r = sub.add_parser("rate", help="record the follow-up satisfaction score (1-5)")
    r.set_defaults(handler=handlers.rate)
    r.add_argument("case_id")
    r.add_argument("score", type=int)
    r.add_argument("--comment")
    cal = sub.add_parser("calendar", help="the shop's calendar: the next days, due times, closures")
    cal.set_defaults(handler=handlers.calendar_days)
    cal.add_argument("--days", type=int, default=14, help="how many days to show (14)")
    cal_sub = cal.add_subparsers(dest="calendar_command")
    due = cal_sub.add_parser("due", help="when a target started at a time falls due")
    due.set_defaults(handler=handlers.calendar_due)
    due.add_argument("--target", required=True, help="e.g. 24h, 8h, 4h30m")
    due.add_argument(
        "--from", dest="start", metavar="TIME", help="the shop's local time (default: now)"
    )
    due.add_argument("--mode", choices=["wall", "business"], help="default: the shop's")
    shut = cal_sub.add_parser("close", help="record a day the shop is closed")
    shut.set_defaults(handler=handlers.calendar_close)
    shut.add_argument("day", type=_date, metavar="YYYY-MM-DD")
    shut.add_argument("--reason", required=True)
    extra = cal_sub.add_parser("open", help="open a day once (a closed weekday, a holiday)")
    extra.set_defaults(handler=handlers.calendar_open)
    extra.add_argument("day", type=_date, metavar="YYYY-MM-DD")
    extra.add_argument("hours", help="e.g. 12:00-16:00 or 11:00-15:00,17:00-22:00; none removes")
    extra.add_argument("--reason", required=True)
    hrs = cal_sub.add_parser("hours", help="the opening hours of some weekdays (the owner)")
    hrs.set_defaults(handler=handlers.calendar_hours)
    hrs.add_argument("days", metavar="DAYS", help="e.g. mon-sun, mon-fri, sat,sun")
    hrs.add_argument(
        "periods",
        metavar="PERIODS",
        help="e.g. 10:00-19:00, 11:00-15:00,17:00-22:00 (a break), 18:00-02:00, or closed",
    )
    every = cal_sub.add_parser("closed-every", help="regular closing days (the owner)")
    every.set_defaults(handler=handlers.calendar_closed_every)
    every.add_argument("days", metavar="DAYS", help='e.g. mon, "2nd,4th mon", "last sun"; none')
    rl = sub.add_parser("rules", help="the shop's rulebook: show, set, changes")
    rl.set_defaults(handler=handlers.rules_show, json=False)
    rl_sub = rl.add_subparsers(dest="rules_command")
    rshow = rl_sub.add_parser("show", help="every rule and its value")
    rshow.set_defaults(handler=handlers.rules_show)
    rshow.add_argument("--json", action="store_true")
    rset = rl_sub.add_parser("set", help="set rules: KEY VALUE... (VALUE - unsets; the owner)")
    rset.set_defaults(handler=handlers.rules_set)
    rset.add_argument("pairs", nargs="+", metavar="KEY VALUE")
    rch = rl_sub.add_parser("changes", help="every change: who, when, before, after")
    rch.set_defaults(handler=handlers.rules_changes)
    rch.add_argument("--limit", type=int, default=50)
    rch.add_argument("--json", action="store_true")
    fg = sub.add_parser(
        "forget", help="remove a customer's name and phone everywhere (cases stay, anonymous)"
    )
    fg.set_defaults(handler=handlers.forget)
    fg.add_argument("phone")
    v = sub.add_parser("visit", help="record a customer's visit (it sets their tier)")
    v.set_defaults(handler=handlers.visit)
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
    cs = sub.add_parser(
        "consent", help="record a customer's consent to advertising messages, or its withdrawal"
    )
    cs.set_defaults(handler=handlers.consent)
    cs.add_argument("phone")
    cs.add_argument("answer", choices=["yes", "no"])
    cs.add_argument(
        "--night",
        action="store_true",
        help="the separate consent to messages between 21:00 and 08:00 (with no: only that)",
    )
    cs.add_argument("--json", action="store_true")
    kt = sub.add_parser(
        "keep-in-touch",
        help="send the keep-in-touch messages due now (the worker does it hourly)",
    )
    kt.set_defaults(handler=handlers.keep_in_touch)
    kt.add_argument("--dry-run", action="store_true", help="list who would get one; send none")
    kt.add_argument("--json", action="store_true")
    sh = sub.add_parser("show", help="show a case")
    sh.set_defaults(handler=handlers.show)
    sh.add_argument("case_id")
    sh.add_argument("--json", action="store_true")
    rb = sub.add_parser("rebuild", help="rebuild complaint_cases from complaint_events")
    rb.set_defaults(handler=handlers.rebuild)
    mg = sub.add_parser(
        "migrate", help="apply pending database migrations (a worker start does too)"
    )
    mg.set_defaults(handler=handlers.migrate)
    mg.add_argument(
        "--status", action="store_true", help="list applied and pending migrations; apply nothing"
    )
    nt = sub.add_parser("notifications", help="notices not delivered yet, oldest first")
    nt.set_defaults(handler=handlers.notifications)
    nt.add_argument("--limit", type=int, default=50)
    nt.add_argument("--json", action="store_true")
    nt.add_argument(
        "--sent", action="store_true", help="customer messages done, with what became of each"
    )
    tp = sub.add_parser(
        "templates", help="the customer message templates, as a provider needs them for approval"
    )
    tp.set_defaults(handler=handlers.templates)
    tp.add_argument("--json", action="store_true")
    qr = sub.add_parser(
        "qr", help="the public complaint form's QR code (COMPLAINTS_PUBLIC_URL/c/new) to print"
    )
    qr.set_defaults(handler=handlers.qr)
    qr.add_argument("--output", metavar="FILE", help="write FILE.svg or FILE.png (else text)")
    qr.add_argument("--scale", type=int, default=8, help="pixels per module (default 8)")
    su = sub.add_parser(
        "setup", help="register the search attributes on TEMPORAL_NAMESPACE (once per cluster)"
    )
    su.set_defaults(handler=handlers.setup)
    ls = sub.add_parser("list", help="list cases, newest first")
    ls.set_defaults(handler=handlers.list_cases)
    _filters(ls)
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--page", type=int, default=1)
    ls.add_argument("--json", action="store_true")
    rp = sub.add_parser("report", help="the figures for a period (default: the last 30 days)")
    rp.set_defaults(handler=handlers.report)
    rp.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD")
    rp.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD", help="inclusive")
    rp.add_argument("--json", action="store_true")
    ex = sub.add_parser("export", help="the case rows as CSV (no customer names or phones)")
    ex.set_defaults(handler=handlers.export)
    _filters(ex)
    ex.add_argument("--output", "-o", help="a file; standard output if left out")
    st = sub.add_parser(
        "staff", help="staff accounts (needs the database connection only: it is the trust line)"
    )
    st_sub = st.add_subparsers(dest="staff_command", required=True)
    add = st_sub.add_parser("add", help="add a staff member; prints their API token once")
    add.set_defaults(handler=handlers.staff_add)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in STAFF_ROLES])
    sl = st_sub.add_parser("list", help="staff members and their roles")
    sl.set_defaults(handler=handlers.staff_list)
    sl.add_argument("--json", action="store_true")
    rv = st_sub.add_parser("revoke", help="revoke a staff member: name and token stop working")
    rv.set_defaults(handler=handlers.staff_revoke)
    rv.add_argument("name")
    lk = st_sub.add_parser(
        "link", help="a one-time sign-in link to the pages (15 minutes, single use)"
    )
    lk.set_defaults(handler=handlers.staff_link)
    lk.add_argument("name")
    _operator(sub)
    return p


def _operator(sub: "argparse._SubParsersAction[Parser]") -> None:
    """Backup, restore, doctor, retention: run by whoever holds the database's credentials."""
    bk = sub.add_parser(
        "backup",
        help="the database (one snapshot) and the payload keys sealed with a passphrase "
        "(COMPLAINTS_BACKUP_PASSPHRASE, else asked) into a new folder",
    )
    bk.set_defaults(handler=handlers.backup)
    bk.add_argument("folder", metavar="DIR")
    rs = sub.add_parser(
        "restore", help="a backup into an empty database (DATABASE_URL); refuses one with data"
    )
    rs.set_defaults(handler=handlers.restore)
    rs.add_argument("folder", metavar="DIR")
    rs.add_argument(
        "--keys-out",
        metavar="FILE",
        help="write the backup's payload keys here (mode 600) to configure them again",
    )
    dr = sub.add_parser(
        "doctor", help="where Temporal and PostgreSQL disagree about cases (after a restore)"
    )
    dr.set_defaults(handler=handlers.doctor)
    rt = sub.add_parser(
        "retention",
        help="remove the name and phone of customers whose cases all closed longer ago than "
        "COMPLAINTS_RETENTION (3y); a daily schedule does it too",
    )
    rt.set_defaults(handler=handlers.retention)
    rt.add_argument("--dry-run", action="store_true", help="say what is due; change nothing")

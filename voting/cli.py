"""``flask --app wsgi …`` commands: demo data, roll import, staff accounts, registry."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from voting.domain.canonical import format_area
from voting.extensions import db
from voting.models import Community, Role, User
from voting.models.base import MAX_INTEGER
from voting.services import locks
from voting.services.access import accounts
from voting.services.errors import ServiceError
from voting.services.registry import estates, roll_import
from voting.web import roll_problems

demo_cli = AppGroup("demo", help="Demo data.")
roll_cli = AppGroup("roll", help="The voter roll of a community.")
users_cli = AppGroup("users", help="Staff accounts.")
registry_cli = AppGroup("registry", help="Districts, street offices, communities, buildings.")
keys_cli = AppGroup("keys", help="The log signing keys (on disk, never in the database).")
meetings_cli = AppGroup("meetings", help="Owners' assembly meetings.")
sms_cli = AppGroup("sms", help="Text messages: the outbox and the gateway.")
tickets_cli = AppGroup("tickets", help="Repair, complaint, inquiry and suggestion tickets.")
# What a periodic command prints when another host (or process) is running it right now.
SKIPPED = "skipped: another process is running this command now"


def register_cli(app: Flask) -> None:
    groups = (demo_cli, roll_cli, users_cli, registry_cli, keys_cli, meetings_cli, sms_cli)
    for group in (*groups, tickets_cli, credit_cli):
        app.cli.add_command(group)
    app.cli.add_command(audit_command)


def _row_id(reference: str) -> int | None:
    """A number that can be a row's id; a larger one names no row (and would overflow)."""
    if reference.isascii() and reference.isdigit() and len(reference) <= 10:
        number = int(reference)
        return number if number <= MAX_INTEGER else None
    return None


def _community(reference: str) -> Community:
    """A community by id or by exact name."""
    number = _row_id(reference)
    condition = Community.name == reference if number is None else Community.id == number
    found = db.session.scalars(select(Community).where(condition)).all()
    if len(found) != 1:
        raise click.ClickException(f"no single community matches {reference!r}")
    return found[0]


def _meeting(reference: str):
    """A meeting by its public id (as in the bundle) or its number."""
    from voting.models import Meeting

    condition = Meeting.public_id == reference
    number = _row_id(reference)
    if number is not None:
        condition = condition | (Meeting.id == number)
    found = db.session.scalars(select(Meeting).where(condition)).all()
    if len(found) != 1:
        raise click.ClickException(f"no single meeting matches {reference!r}")
    return found[0]


@demo_cli.command("load")
@click.option(
    "--server",
    help="Where the demo will be served, for the commands it prints (default"
    " http://127.0.0.1:8000; scripts/demo passes its HOST and PORT).",
)
def demo_load(server: str | None) -> None:
    """Load the demo estates and accounts (idempotent)."""
    from voting.services.demo import estate

    for line in estate.load(server):
        click.echo(line)


@roll_cli.command("import")
@click.argument("community")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--allow-removals",
    is_flag=True,
    help="Remove the community's units the file does not list (refused without this).",
)
def roll_import_command(
    community: str, file: Path, dry_run: bool, as_json: bool, allow_removals: bool
) -> None:
    """Import a roll spreadsheet (CSV in UTF-8 or GBK, or XLSX) into COMMUNITY."""
    report = roll_import.import_roll(
        _community(community),
        file.name,
        file.read_bytes(),
        dry_run=dry_run,
        allowed_removals=None if allow_removals else 0,
    )
    if report.other_sheets:
        names = ", ".join(report.other_sheets)
        click.echo(f"note: only the first sheet was read; not read: {names}", err=True)
    if as_json:
        click.echo(json.dumps(roll_problems.summary(report), ensure_ascii=False))
    else:
        for error in report.errors:
            words = roll_problems.message(error)
            click.echo(f"第 {error.row} 行 [{error.column}]: {words}", err=True)
        if report.errors:
            for line in report.removed:  # the units an import was refused for removing
                click.echo(f"  would remove {line}", err=True)
            if any(error.code == "removals_refused" for error in report.errors):
                click.echo("  (--allow-removals removes them)", err=True)
        if not report.errors:
            state = "checked, nothing written (dry run)" if dry_run else "imported"
            click.echo(
                f"{state}: {report.units} units, {report.holders} holders, "
                f"area {format_area(report.area)} m², headcount {report.headcount}; "
                f"added {len(report.added)}, changed {len(report.changed)}, "
                f"removed {len(report.removed)}, holders retired {report.retired_holders}"
            )
            for kind, lines in (
                ("added", report.added),
                ("changed", report.changed),
                ("removed", report.removed),
            ):
                for line in lines:
                    click.echo(f"  {kind} {line}")
    if report.errors:
        sys.exit(1)


@users_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.password_option(envvar="ADMIN_PASSWORD")
def create_admin(username: str, name: str, password: str) -> None:
    """Create a housing-bureau administrator (the first account)."""
    try:
        user = accounts.create_user(username, name, password)
        accounts.grant_role(user, Role.bureau)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"created bureau admin {user.username}")


@users_cli.command("totp-reset")
@click.argument("username")
def totp_reset(username: str) -> None:
    """Forget USERNAME's authenticator secret and end their sessions; they enrol again."""
    from voting.models import User
    from voting.services.access import authenticators

    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    authenticators.reset(user)
    click.echo(f"{user.username}: authenticator reset; the next sign-in enrols a new one")


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Stop USERNAME signing in and end their sessions at once."""
    user = _user_named(username)
    accounts.set_active(user, False)
    click.echo(f"{user.username}: disabled; their sessions are ended")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Let a disabled USERNAME sign in again."""
    user = _user_named(username)
    accounts.set_active(user, True)
    click.echo(f"{user.username}: enabled")


def _user_named(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


@registry_cli.command("add-buildings")
@click.argument("community")
@click.argument("names", nargs=-1, required=True)
def add_buildings(community: str, names: tuple[str, ...]) -> None:
    """Declare buildings of COMMUNITY (the roll import accepts only declared ones)."""
    try:
        added = estates.add_buildings(_community(community), names)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"added {len(added)} buildings")


@registry_cli.command("list")
def list_registry() -> None:
    """Districts, street offices and communities with their ids and totals."""
    communities = list(db.session.scalars(select(Community).order_by(Community.id)))
    totals = estates.totals_by_community(c.id for c in communities)
    for community in communities:
        office = community.street_office
        total = totals.get(community.id, estates.Totals())
        click.echo(
            f"{community.id}\t{office.district.city}{office.district.name}\t{office.name}\t"
            f"{community.name}\tholders {total.holders}\tarea {format_area(total.area)}"
        )


@keys_cli.command("init")
def keys_init() -> None:
    """Make the log signing key if there is none (idempotent)."""
    from voting.services import keys

    name, made = keys.init()
    click.echo(f"{'created' if made else 'exists'}: log key {name}")
    click.echo(f"public key: {keys.public_text(name)}")


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Make a new log key for meetings opened from now on; open meetings keep theirs."""
    from voting.services import keys

    name = keys.rotate()
    click.echo(f"new current log key {name}")
    click.echo(f"public key: {keys.public_text(name)}")


@keys_cli.command("show")
def keys_show() -> None:
    """List the log keys with their public keys; * marks the current one."""
    from voting.services import keys

    current = keys.current_fingerprint()
    for name in keys.all_fingerprints():
        click.echo(f"{'*' if name == current else ' '} {name} {keys.public_text(name)}")


@meetings_cli.command("close-due")
def meetings_close_due() -> None:
    """Open and close the meetings whose time has come, and delete the casts that waited
    for a meeting's lock once answered long enough and the files kept for a refused form's
    next try that never came (run it from cron every minute, on every host: one runs it at
    a time, the others skip the round)."""
    from voting.services import uploads
    from voting.services.assembly import ballots, meetings

    with locks.only_one("meetings close-due") as mine:
        if not mine:
            click.echo(SKIPPED)
            return
        for meeting in meetings.due():
            before = meeting.state
            after = meetings.advance(meeting).state
            if after != before:
                click.echo(f"{meeting.public_id}: {before} -> {after}")
        pruned = ballots.prune_answered()
        if pruned:
            click.echo(f"pruned {pruned} answered waiting casts")
        unused = uploads.prune()
        if unused:
            click.echo(f"pruned {unused} unused files")


@sms_cli.command("outbox")
@click.option("--limit", default=20, show_default=True, help="How many of the newest to show.")
@click.option("--phone", default="", help="Only to this number (whole, or its last 4+ digits).")
@click.option("--kind", default="", help="Only this kind: code, notice, receipt or ticket.")
def sms_outbox(limit: int, phone: str, kind: str) -> None:
    """The newest messages kept in the outbox (SMS_GATEWAY=outbox), numbers masked; sign-in
    codes are shown only in the demo (DEMO=1), where they are read here by hand."""
    from zoneinfo import ZoneInfo

    from voting.domain.identifiers import mask_mobile
    from voting.services.messaging import sms

    settings = current_app.config["SETTINGS"]
    zone = ZoneInfo(settings.display_timezone)
    try:
        found = sms.recent(limit, status=sms.OUTBOX, number=phone, purpose=kind)
    except ServiceError as refusal:
        raise click.ClickException(refusal.message) from None
    for message in found:
        moment = message.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(
            f"#{message.id}\t{moment}\t{mask_mobile(message.phone)}\t{message.purpose}\t"
            f"{sms.readable_body(message, outbox_codes=settings.demo)}"
        )


@sms_cli.command("dispatch")
@click.option("--limit", type=int, default=None, help="Hand over at most this many.")
def sms_dispatch(limit: int | None) -> None:
    """Hand messages still pending (e.g. after a crash) to the configured gateway."""
    from voting.services.messaging import sms

    with locks.only_one("sms dispatch") as mine:
        if not mine:
            click.echo(SKIPPED)
            return
        taken = sms.dispatch_pending(limit)
        sms.drain()
    click.echo(f"handed {taken} pending messages to the gateway")


@meetings_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def meetings_list(as_json: bool) -> None:
    """Meetings with their ids, communities and states."""
    from voting.domain.canonical import format_time
    from voting.models import Meeting

    rows = [
        {
            "id": meeting.public_id,
            "number": meeting.id,
            "community": meeting.community.name,
            "title": meeting.title,
            "state": str(meeting.state),
            "opens_at": format_time(meeting.opens_at),
            "closes_at": format_time(meeting.closes_at),
        }
        for meeting in db.session.scalars(select(Meeting).order_by(Meeting.id))
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        click.echo(f"{row['id']}\t{row['state']}\t{row['community']}\t{row['title']}")


@meetings_cli.command("export")
@click.argument("meeting")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def meetings_export(meeting: str, out: Path) -> None:
    """Write MEETING's audit bundle (spec bundle-v1) to --out, streamed; only once voting
    has closed (the bundle carries every ballot's choices)."""
    from voting.services.assembly import export

    found = _meeting(meeting)
    temporary = out.with_name(out.name + ".part")
    try:
        with temporary.open("wb") as handle:
            export.release(found, handle)
    except ServiceError as error:
        temporary.unlink(missing_ok=True)
        raise click.ClickException(error.message) from error
    temporary.replace(out)
    click.echo(f"wrote {out} ({out.stat().st_size} bytes)")


@click.command("audit")
@click.argument("meeting")
def audit_command(meeting: str) -> None:
    """Re-check MEETING's live log in the database; name every row changed behind our back."""
    from voting.services.assembly import audit

    report = audit.audit(_meeting(meeting))
    if report.is_clean:
        click.echo(f"clean: {report.meeting.public_id}, head {report.head}")
        return
    for problem in report.problems:
        click.echo(problem)
    click.echo(f"NOT CLEAN: {len(report.problems)} problems", err=True)
    sys.exit(1)


@tickets_cli.command("sweep")
@click.option("--json", "as_json", is_flag=True, help="Print the steps taken as JSON.")
def tickets_sweep(as_json: bool) -> None:
    """Apply the tickets' deadlines (cron, every minute): remind, escalate, close unrated.

    Safe after a crash (each ticket is one transaction) and on every host (one runs it at a
    time, the others skip the round).
    """
    from voting.services.tickets import sweep

    with locks.only_one("tickets sweep") as mine:
        if not mine:
            click.echo(SKIPPED)
            return
        done = sweep.sweep()
    if as_json:
        click.echo(json.dumps(dict(sorted(done.items())), ensure_ascii=False))
        return
    for action, count in sorted(done.items()):
        click.echo(f"{action}: {count}")


credit_cli = AppGroup("credit", help="Property-firm credit: the register and penalties.")


@credit_cli.command("audit")
def credit_audit() -> None:
    """Re-check the credit register and the tables beside it; name every record, correction,
    objection, answer, scheme or penalty edited, deleted or inserted behind the app's back."""
    from voting.services.credit import register

    findings = register.audit()
    if not findings:
        from voting.models import CreditHead

        head = db.session.get(CreditHead, 1)
        click.echo(f"clean: credit register, {head.seq if head else 0} entries")
        return
    for finding in findings:
        click.echo(str(finding))
    click.echo(f"NOT CLEAN: {len(findings)} problems", err=True)
    sys.exit(1)


@credit_cli.command("overdue")
@click.option("--json", "as_json", is_flag=True, help="Print the penalties as JSON.")
def credit_overdue(as_json: bool) -> None:
    """Penalties not yet public near or past their deadline (decision + 7 working days), and
    those published late (cron: exits 1 while a draft is overdue)."""
    from voting.services.credit import penalties

    found = penalties.warnings()
    rows = [
        {
            "decision_number": w.penalty.decision_number,
            "party": w.penalty.party_name,
            "decided_on": w.penalty.decided_on.isoformat(),
            "deadline_on": w.penalty.deadline_on.isoformat() if w.penalty.deadline_on else None,
            "state": w.state,
            "days_left": w.days_left,
            "published_at": (
                w.penalty.published_at.isoformat() if w.penalty.published_at else None
            ),
        }
        for w in found
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            click.echo(
                f"{row['state']}\t{row['deadline_on']}\t{row['decision_number']}\t{row['party']}"
            )
        if not rows:
            click.echo("no penalty near or past its deadline")
    if any(w.state == "overdue" for w in found):
        sys.exit(1)


@credit_cli.command("monthly")
@click.option("--month", default=None, help="YYYY-MM; by default the last month that has ended.")
@click.option("--json", "as_json", is_flag=True, help="Print the records made as JSON.")
def credit_monthly(month: str | None, as_json: bool) -> None:
    """Turn each firm's ticket figures of a month into good or bad credit records by the
    scoring scheme's thresholds (cron, on the 1st of each month; safe to run again, and on
    every host: a month's records are made once per firm, one host runs it at a time)."""
    from voting.domain.ticket_figures import Month
    from voting.services.credit import monthly

    try:
        chosen = Month.parse(month) if month else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--month") from error
    with locks.only_one("credit monthly") as mine:
        if not mine:
            click.echo(SKIPPED)
            return
        try:
            made = monthly.run(chosen)
        except ServiceError as error:
            raise click.ClickException(error.message) from error
    rows = [
        {"firm": m.firm, "month": m.month, "class": m.record_class, "category": m.category}
        for m in made
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['month']}\t{row['class']}\t{row['category']}\t{row['firm']}")
    if not rows:
        click.echo("no new record: every firm's month is recorded, or earned none")

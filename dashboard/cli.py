"""The command line: `python -m dashboard COMMAND ...` (each command has --help)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from . import audit, cache
from .config import ConfigError, Settings
from .database import Database, SchemaNotReady, schema_is_current, upgrade_schema
from .geography import load_reference_data
from .models import Area, Organisation, User
from .passwords import PasswordPolicyError, check_policy, hash_password
from .reference import Role, Sector

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


class CommandError(Exception):
    """A problem the user can fix; the message says what and where."""


def _database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    cache.attach(db, settings)  # what a command changes retires the workers' cached figures too
    return db


def _ready_database(settings: Settings) -> Database:
    db = _database(settings)
    schema_is_current(db, raise_if_not=True)
    return db


def cmd_init_db(args, settings: Settings) -> int:
    db = _database(settings)
    upgrade_schema(db)
    with db.session() as session:
        counts = load_reference_data(session)
    print(
        f"Database ready at {db.engine.url.render_as_string(hide_password=True)}: "
        f"{counts['areas']} areas, {counts['categories']} categories, {counts['strands']} strands."
    )
    return 0


def cmd_create_org(args, settings: Settings) -> int:
    name = args.name.strip()
    if not name:
        raise CommandError("--name must not be empty.")
    db = _ready_database(settings)
    with db.session() as session:
        if session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower())):
            raise CommandError(f"An organisation called {name!r} already exists.")
        org = Organisation(name=name, sector=args.sector)
        org.covered_areas = _covered_areas(session, args.covers or [])
        session.add(org)
        session.flush()
        audit.record(
            session, "organisation created", actor="command line", record_type="organisation", record_id=org.id,
            detail={"covers": [a.code for a in org.covered_areas]},
        )
        covers = f"; covers {len(org.covered_areas)} district(s)" if org.covered_areas else ""
        print(f"Created organisation {org.id}: {org.name} ({org.sector}){covers}.")
    return 0


def _covered_areas(session, wanted: list[str]) -> list[Area]:
    """Districts named by GSS code or name ("all" for every district)."""
    areas = session.scalars(select(Area).order_by(Area.name)).all()
    if any(w.strip().lower() == "all" for w in wanted):
        return list(areas)
    found, unknown = {}, []
    for w in wanted:
        key = w.strip().lower()
        match = next((a for a in areas if key in (a.code.lower(), a.name.lower())), None)
        if match is None:
            unknown.append(w)
        else:
            found[match.code] = match
    if unknown:
        raise CommandError(f"--covers: no district with code or name {', '.join(map(repr, unknown))}.")
    return list(found.values())


def cmd_check_alerts(args, settings: Settings) -> int:
    from . import alerts

    db = _ready_database(settings)
    with db.session() as session:
        result = alerts.check_alerts(session, args.as_of or date.today(), settings)
    print("\n".join(result.lines()))
    return EXIT_FAILURE if result.email.error or result.email.failed else 0


def _read_password(email: str, name: str) -> str:
    password = os.environ.get("DASHBOARD_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError(
                "No password: set DASHBOARD_PASSWORD or run the command in a terminal to be asked."
            )
        password = getpass.getpass("Password for the new user: ")
        if getpass.getpass("Same password again: ") != password:
            raise CommandError("The two passwords did not match.")
    try:
        check_policy(password, email=email, name=name)
    except PasswordPolicyError as exc:
        raise CommandError(f"Password refused: {exc}") from None
    return password


def _organisation(session, name: str) -> Organisation:
    """The organisation called `name` (whatever its case), or an error listing the known ones."""
    org = session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.strip().lower()))
    if org is None:
        known = ", ".join(session.scalars(select(Organisation.name).order_by(Organisation.name))) or "none yet"
        raise CommandError(f"--org {name!r} is not an organisation (known: {known}).")
    return org


def _person_options(p: argparse.ArgumentParser, org_help: str) -> None:
    """The options that describe a new account: e-mail address, name, organisation and role."""
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True, help="the person's full name")
    p.add_argument("--org", required=True, help=org_help)
    p.add_argument("--role", required=True, choices=[r.value for r in Role])


def cmd_create_user(args, settings: Settings) -> int:
    email = args.email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 254:
        raise CommandError(f"--email {args.email!r} is not an e-mail address.")
    if not args.name.strip():
        raise CommandError("--name must not be empty.")
    db = _ready_database(settings)
    with db.session() as session:
        org = _organisation(session, args.org)
        if session.scalar(select(User).where(User.email == email)):
            raise CommandError(f"A user with e-mail {email} already exists.")
        password = _read_password(email, args.name)
        user = User(
            email=email,
            name=args.name.strip(),
            organisation_id=org.id,
            role=args.role,
            password_hash=hash_password(password),
        )
        session.add(user)
        session.flush()
        audit.record(
            session, "user created", actor="command line", record_type="user", record_id=user.id,
            detail={"role": user.role, "organisation": org.name},
        )
        print(f"Created {user.role} {user.email} in {org.name}.")
    return 0


def cmd_invite_user(args, settings: Settings) -> int:
    from . import invitations
    from .api_tokens import command_line_viewer

    db = _ready_database(settings)
    with db.session() as session:
        org = _organisation(session, args.org)
        try:
            sent = invitations.invite(session, command_line_viewer(), settings, args.name, args.email, org.id,
                                      args.role, base=settings.public_url or f"http://{settings.host}:{settings.port}")
        except invitations.InvitationError as exc:
            option = {"email": "--email", "name": "--name", "organisation": "--org", "role": "--role"}
            raise CommandError(" ".join(f"{option.get(field, field)}: {message}"
                                         for field, message in exc.errors.items())) from None
    emailed, why_not = invitations.send_email(sent, settings)
    print(f"Invited {sent.name} <{sent.email}> as {sent.role_label} of {sent.organisation}.")
    print(f"The activation link works once, until {sent.expires_at:%d %b %Y %H:%M} UTC. "
          + (f"It was e-mailed to {sent.email}." if emailed else f"It was not e-mailed: {why_not}"))
    print("The link is shown only now and cannot be shown again:")
    print(sent.link)
    return 0


def cmd_seed_demo(args, settings: Settings) -> int:
    from . import demo

    if args.incidents < 0 or args.incidents > 5_000_000:
        raise CommandError("--incidents must be between 0 and 5,000,000.")
    db = _database(settings)
    upgrade_schema(db)
    with db.session() as session:
        load_reference_data(session)
    started = time.perf_counter()
    try:
        # with --replace, clearing and reseeding are one transaction: a failure keeps the old data
        sign_ins = demo.seed_demo(
            db,
            incidents=args.incidents,
            seed=args.seed,
            today=args.today,
            progress=lambda message: print(f"  {message}", flush=True),
            replace=args.replace,
        )
    except demo.DemoDataError as exc:
        raise CommandError(str(exc)) from None
    elapsed = time.perf_counter() - started
    lines = [
        "Demo sign-ins (synthetic accounts; passwords are random and shown only now):",
        *(f"  {s.role:<7} {s.email:<48} {s.password}   ({s.organisation})" for s in sign_ins),
    ]
    print(f"Seeded {args.incidents:,} synthetic incidents in {elapsed:.1f} s.")
    print("\n".join(lines))
    if args.credentials_file:
        fd = os.open(args.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "").replace(",", "")) for part in text.split() if part)
    except ValueError:
        raise CommandError(f"--sizes must be numbers of incidents such as 10000 100000, not {text!r}.") from None
    for size in sizes:
        if size < 1_000 or size > 5_000_000:
            raise CommandError(f"Each size must be between 1,000 and 5,000,000 incidents, not {size:,}.")
    return sizes


def cmd_bench(args, settings: Settings) -> int:
    from . import bench, bench_sweep

    if args.repeat < 10:
        raise CommandError("--repeat must be at least 10.")
    if args.database_url:  # one database, measured in this process
        sizes = _sizes(args.incidents or "1000000")
        if len(sizes) != 1:
            raise CommandError("With --database-url, give one size (--incidents N).")
        report = bench.run(incidents=sizes[0], database_url=args.database_url, repeat=args.repeat, seed=args.seed)
    else:
        backends = tuple(b.strip() for b in args.databases.split(",") if b.strip())
        unknown = [b for b in backends if b not in bench_sweep.BACKENDS]
        if unknown or not backends:
            raise CommandError(f"--databases must be sqlite, postgresql or both, not {args.databases!r}.")
        sizes = _sizes(args.incidents or " ".join(str(n) for n in bench_sweep.SIZES))
        report = bench_sweep.sweep(sizes, backends, args.repeat, naive=not args.no_naive,
                                   postgres_server=args.postgres_server, seed=args.seed)
    if args.json:
        bench.write_json(report, args.json)
    return 0


def cmd_import_incidents(args, settings: Settings) -> int:
    from pathlib import Path

    from . import imports
    from .access import Viewer

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"No file at {args.file}.")
    email = args.as_email.strip().lower()
    db = _ready_database(settings)
    with db.session() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email))
        if user is None:
            raise CommandError(f"--as {args.as_email!r} is not a user.")
        viewer = Viewer.from_user(user)
        if not viewer.is_partner:
            raise CommandError(
                f"--as {email} cannot import incidents: only active members, chairs and admins of "
                "active member organisations can."
            )
        too_big = imports.size_refusal(path.stat().st_size)
        if too_big:
            report = imports.refused_report(session, viewer, path.name, too_big)
        else:
            report = imports.import_incidents(session, viewer, path.name, path.read_bytes())
    print(report.summary())
    for row, old, new in report.mapped_codes:
        print(f"Row {row}: old district code {old} changed to {new}.")
    for error in report.errors:
        print(error.line())
    hidden = report.error_count - len(report.errors)
    if hidden > 0:
        print(f"... and {hidden:,} more problems.")
    return 0 if report.ok else EXIT_FAILURE


def _token_days(value: str | None, default: int | None) -> int | None:
    """--days: 30, 90, 365, or none (0); not given: the API_TOKEN_DAYS setting."""
    if value is None:
        return default
    text = value.strip().lower()
    if text in {"0", "none"}:
        return None
    if text.isdigit() and int(text) in (30, 90, 365):
        return int(text)
    raise CommandError(f"--days must be 30, 90, 365 or none, not {value!r}.")


def cmd_issue_token(args, settings: Settings) -> int:
    from . import api_tokens

    email = args.email.strip().lower()
    days = _token_days(args.days, settings.api_token_days)
    db = _ready_database(settings)
    with db.session() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email))
        if user is None:
            raise CommandError(f"--email {args.email!r} is not a user.")
        try:
            token, text = api_tokens.issue(session, api_tokens.command_line_viewer(), user.id, args.name, days)
        except api_tokens.ApiTokenError as exc:
            option = {"user": "--email", "expiry": "--days", "name": "--name"}.get(exc.field, exc.field)
            raise CommandError(f"{option}: {exc}") from None
        expires = f"expires {token.expires_at:%d %b %Y %H:%M} UTC" if token.expires_at else "does not expire"
        print(f"Issued API token {token.id} \u201c{token.name}\u201d for {user.email}; it {expires}.")
        print("The token is shown only now and cannot be shown again. Copy it somewhere safe:")
        print(text)
    return 0


def cmd_revoke_token(args, settings: Settings) -> int:
    from . import api_tokens

    db = _ready_database(settings)
    with db.session() as session:
        try:
            view = api_tokens.revoke(session, api_tokens.command_line_viewer(), args.id)
        except api_tokens.ApiTokenError as exc:
            raise CommandError(f"--id {args.id}: {exc}") from None
        print(f"Revoked API token {view.id} {view.label}. It stops working at once.")
    return 0


def cmd_list_tokens(args, settings: Settings) -> int:
    from . import api_tokens

    db = _ready_database(settings)
    with db.session() as session:
        tokens = api_tokens.list_tokens(session, api_tokens.command_line_viewer())
    if not tokens:
        print("No API tokens have been issued.")
        return 0

    def when(moment) -> str:
        return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"

    print(f"{'ID':>4}  {'PREFIX':<13} {'USER':<32} {'NAME':<24} {'CREATED':<16}  {'LAST USED':<16}  "
          f"{'EXPIRES':<16}  STATUS")
    for t in tokens:
        print(f"{t.id:>4}  {t.prefix + '...':<13} {t.user_email[:32]:<32} {t.name[:24]:<24} {when(t.created_at):<16}  "
              f"{when(t.last_used_at):<16}  {when(t.expires_at) if t.expires_at else 'never':<16}  {t.status}")
    print("Times are UTC.")
    return 0


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (use YYYY-MM-DD)") from None


def cmd_backup(args, settings: Settings) -> int:
    from . import backup

    try:
        backup.backup(_database(settings), args.file, overwrite=args.overwrite)
    except backup.BackupError as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_restore(args, settings: Settings) -> int:
    from . import backup

    try:
        if args.check:
            header = backup.check(args.file)
            print(f"{args.file} is a complete backup of {header.rows:,} rows, made "
                  f"{header.created_at:%d %b %Y %H:%M} UTC from {header.backend} at schema {header.schema}.")
            return 0
        backup.restore(_database(settings), args.file, replace=args.replace)
    except backup.BackupError as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_verify_audit(args, settings: Settings) -> int:
    from . import audit

    with _ready_database(settings).session() as session:
        result = audit.verify(session)
    if result.ok:
        print(result.problem)
        return 0
    print(result.problem, file=sys.stderr)
    return EXIT_FAILURE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Midlands Partnership Dashboard: database and account administration. "
        "The database is DATABASE_URL (default: a SQLite file in the instance folder).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("init-db", help="create or upgrade the schema and load the 65 areas (safe to run again)")
    p.set_defaults(handler=cmd_init_db)

    p = commands.add_parser("create-org", help="add a member organisation")
    p.add_argument("--name", required=True, help="the organisation's full name")
    p.add_argument("--sector", default=Sector.STATUTORY.value, choices=[s.value for s in Sector], help="default: statutory")
    p.add_argument("--covers", nargs="+", metavar="DISTRICT",
                   help="the districts it works in (GSS codes or names, or 'all'): its members get their alerts")
    p.set_defaults(handler=cmd_create_org)

    p = commands.add_parser(
        "check-alerts",
        help="raise due alerts (surges, tension at level 4 or 5) and e-mail them; run from a timer",
        description="Look for sharp rises in incidents and districts whose latest tension level is 4 or 5, "
        "raise each alert once for the members of the organisations covering the district and the chair, "
        "and e-mail new alerts when SMTP_HOST is set. Safe to run as often as you like.",
    )
    p.add_argument("--as-of", type=_date, default=None, help="the date to check up to (default: today)")
    p.set_defaults(handler=cmd_check_alerts)

    p = commands.add_parser(
        "create-user",
        help="add a user (password from DASHBOARD_PASSWORD or a prompt)",
        description="Add a user. The password is read from the environment variable DASHBOARD_PASSWORD, "
        "or asked for at a prompt, and must meet the password policy (at least 12 characters, not a common password).",
    )
    _person_options(p, "the organisation's name, as created with create-org")
    p.set_defaults(handler=cmd_create_user)

    p = commands.add_parser(
        "invite-user",
        help="make an account and print its one-time activation link",
        description="Make an account that cannot sign in until the person chooses a password with the "
        "activation link printed here (and e-mailed when SMTP_HOST is set). The link works once, for "
        "INVITATION_DAYS days; only its hash is kept.",
    )
    _person_options(p, "the organisation's name (an active member)")
    p.set_defaults(handler=cmd_invite_user)

    p = commands.add_parser(
        "seed-demo",
        help="fill the database with synthetic demo data and print demo sign-ins",
        description="Fill the database with deterministic synthetic demo data (fictional people and groups, "
        "the real 65 districts). Demo accounts get random passwords, printed once.",
    )
    p.add_argument("--incidents", type=int, default=60_000, help="how many incidents (default 60,000)")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same data")
    p.add_argument("--today", type=_date, default=None, help="the date the data ends at (default: today)")
    p.add_argument("--replace", action="store_true", help="first delete every record except reference data")
    p.add_argument("--credentials-file", default=None, help="also write the demo sign-ins to this file (mode 600)")
    p.set_defaults(handler=cmd_seed_demo)

    p = commands.add_parser(
        "bench",
        help="time the map's, trends' and summaries' callbacks on SQLite and PostgreSQL at 10k, 100k and 1M incidents",
        description="For each database and size: seed a demo database once (then reuse it), sign in as a member "
        "and as the national policy team, and time the callbacks as the browser sends them (median and 95th "
        "percentile, answer sizes as sent and as JSON), with the plain SQL for the same questions, the memory "
        "of the worker, the figures cache's miss and hit, and the naive way (the whole table into pandas on "
        "every request) for comparison; then the targets each meets or misses. PostgreSQL databases are "
        "dashboard_bench_N on --postgres-server, created when missing.",
    )
    p.add_argument("--incidents", "--sizes", dest="incidents", default=None,
                   help="sizes to measure, e.g. '10000 100000' (default: 10000 100000 1000000)")
    p.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql or both (the default)")
    p.add_argument("--postgres-server", default="postgresql+psycopg://postgres@127.0.0.1:5432",
                   help="the PostgreSQL server for the dashboard_bench_N databases")
    p.add_argument("--database-url", default=None,
                   help="measure this one database instead (filled with demo data if it does not hold N incidents; "
                   "one that is not demo data is refused)")
    p.add_argument("--no-naive", action="store_true", help="leave out the naive way (slow at 1,000,000)")
    p.add_argument("--repeat", type=int, default=60, help="filter changes to time (default 60)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    p.set_defaults(handler=cmd_bench)

    p = commands.add_parser(
        "import-incidents",
        help="import incidents from a CSV or XLSX file (all or nothing) as a partner user",
        description="Check every row of a CSV (UTF-8) or Excel (.xlsx) file made from the import template and, "
        "only if all are right, add them all as incidents reported by the given user for their organisation. "
        "Prints a summary and each problem as \"Row N, column C: ...\". Exit status 0 when imported, 1 when "
        "the file was refused or had problems (nothing is added then).",
    )
    p.add_argument("file", metavar="FILE", help="the .csv or .xlsx file")
    p.add_argument("--as", dest="as_email", required=True, metavar="EMAIL",
                   help="the e-mail address of the partner importing them (the reporter)")
    p.set_defaults(handler=cmd_import_incidents)

    p = commands.add_parser(
        "issue-token",
        help="issue an API token to a user (printed once)",
        description="Issue a token for the read-only API (/api/v1/summary) to an active user of an active "
        "member organisation. The token is printed once and cannot be shown again: only its hash is kept. "
        "Audited as issued from the command line.",
    )
    p.add_argument("--email", required=True, help="the e-mail address of the user the token is for")
    p.add_argument("--name", required=True, help="what the token is for, e.g. \"Monthly summary pull\"")
    p.add_argument("--days", default=None, metavar="DAYS",
                   help="how long it lasts: 30, 90, 365 or none (default: API_TOKEN_DAYS, else 90)")
    p.set_defaults(handler=cmd_issue_token)

    p = commands.add_parser("revoke-token", help="revoke an API token at once (see list-tokens for ids)")
    p.add_argument("--id", required=True, type=int, help="the token's id, as list-tokens shows it")
    p.set_defaults(handler=cmd_revoke_token)

    p = commands.add_parser("list-tokens", help="list API tokens: user, name, prefix, last use, expiry, status")
    p.set_defaults(handler=cmd_list_tokens)

    p = commands.add_parser(
        "verify-audit",
        help="check the audit log's hash chain; exit status 1 naming the first broken entry",
        description="Recompute every audit entry's hash and check that each follows the one before, with no "
        "entry missing. Prints that the log is intact (with the newest entry's id and hash, worth keeping "
        "elsewhere: removing entries from the end can only be noticed against it), or names the first altered, "
        "missing or out-of-place entry and exits with status 1.",
    )
    p.set_defaults(handler=cmd_verify_audit)

    p = commands.add_parser(
        "backup",
        help="write every record to one file (gzip JSON lines; holds personal data)",
        description="Write every record of the database to FILE from one consistent snapshot: a gzip file of "
        "JSON lines that restores into SQLite or PostgreSQL. The file holds personal data and restricted records "
        "and is made readable by its owner only: keep it as safe as the database. Audited. Exit status 0 when "
        "written, 2 when refused (no file is written).",
    )
    p.add_argument("file", metavar="FILE", help="the file to write, e.g. dashboard-2026-11-24.jsonl.gz")
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it already exists")
    p.set_defaults(handler=cmd_backup)

    p = commands.add_parser(
        "restore",
        help="restore a backup into a new database (all or nothing)",
        description="Check FILE whole, then restore every record in one transaction: complete or not at all. "
        "The database must be new or hold only the reference data (init-db) unless --replace, and the backup "
        "must be at this version's schema. Sign-in sessions open in the backup are ended. Audited. Exit status "
        "0 when restored, 2 when refused (nothing is changed).",
    )
    p.add_argument("file", metavar="FILE", help="a file made by the backup command")
    p.add_argument("--replace", action="store_true",
                   help="first delete every record already in the database (in the same transaction)")
    p.add_argument("--check", action="store_true",
                   help="only check that FILE is a complete backup this version can restore; change nothing")
    p.set_defaults(handler=cmd_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.handler(args, settings)
    except (CommandError, ConfigError, SchemaNotReady) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SQLAlchemyError as exc:
        print(f"error: the database refused the change: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_FAILURE

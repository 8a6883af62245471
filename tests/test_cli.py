"""The command line an operator uses to set up the database, organisations and accounts."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from dashboard import cli
from dashboard.database import Database, schema_is_current
from dashboard.models import Area, AuditEvent, Organisation, User
from dashboard.passwords import verify_password
from tests.conftest import TEST_PASSWORD

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path, monkeypatch) -> str:
    """A fresh instance folder and SQLite file; no password in the environment."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DASHBOARD_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DASHBOARD_PASSWORD", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    return url


@pytest.fixture
def run(capsys):
    """Run the command line in-process: (exit code, stdout, stderr)."""

    def _run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def ready(env, run) -> str:
    """A database after init-db, with one organisation."""
    assert run("init-db")[0] == 0
    assert run("create-org", "--name", "Leicestershire Police")[0] == 0
    return env


@pytest.fixture
def with_password(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", TEST_PASSWORD)


def users(url: str) -> list[User]:
    db = Database(url)
    try:
        with db.session() as session:
            return list(session.scalars(select(User)))
    finally:
        db.dispose()


def create_user(run, email: str = "pat.morgan@leics.police.example", org: str = "Leicestershire Police",
                role: str = "member", name: str = "Pat Morgan"):
    return run("create-user", "--email", email, "--name", name, "--org", org, "--role", role)


def test_init_db_is_safe_to_run_twice_and_reports_the_65_areas(env, run):
    for _ in range(2):
        code, out, err = run("init-db")
        assert code == 0, err
        assert "65 areas" in out
        assert "12 categories" in out

    db = Database(env)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM areas").scalar() == 65
    db.dispose()


@pytest.mark.parametrize(
    "argv",
    [
        ["create-org", "--name", "Leicestershire Police"],
        ["create-user", "--email", "pat@police.example", "--name", "Pat", "--org", "X", "--role", "member"],
    ],
)
def test_commands_before_init_db_say_to_run_init_db(env, run, with_password, argv):
    code, out, err = run(*argv)

    assert code == cli.EXIT_BAD_INPUT
    assert "has no schema" in err
    assert "python -m dashboard init-db" in err
    assert "Traceback" not in err


def test_create_org_and_a_duplicate_is_refused_whatever_its_case(env, run):
    run("init-db")
    code, out, _ = run("create-org", "--name", "Coventry Refugee Centre", "--sector", "voluntary and community")
    assert code == 0
    assert "Coventry Refugee Centre (voluntary and community)" in out

    code, out, err = run("create-org", "--name", "coventry refugee centre")
    assert code == cli.EXIT_BAD_INPUT
    assert "already exists" in err

    db = Database(env)
    with db.session() as session:
        orgs = list(session.scalars(select(Organisation)))
        assert [(o.name, o.sector) for o in orgs] == [("Coventry Refugee Centre", "voluntary and community")]
        actions = list(session.scalars(select(AuditEvent.action)))
        assert actions == ["organisation created"], "creation is audited once, the refusal not at all"
    db.dispose()


def test_create_org_refuses_a_blank_name(ready, run):
    code, _, err = run("create-org", "--name", "   ")
    assert code == cli.EXIT_BAD_INPUT
    assert "--name must not be empty" in err


def test_an_unknown_sector_is_refused_by_the_argument_parser(env, run, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["create-org", "--name", "Some Org", "--sector", "private"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'private'" in err
    assert "statutory" in err and "trade union" in err


def test_create_user_takes_the_password_from_the_environment(ready, run, with_password):
    code, out, err = create_user(run, email="  Pat.Morgan@Leics.Police.Example ", role="chair")

    assert code == 0, err
    assert "Created chair pat.morgan@leics.police.example in Leicestershire Police." in out
    assert TEST_PASSWORD not in out + err
    [user] = users(ready)
    assert user.email == "pat.morgan@leics.police.example"
    assert (user.name, user.role, user.status) == ("Pat Morgan", "chair", "active")
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, TEST_PASSWORD)


def test_create_user_is_audited(ready, run, with_password):
    create_user(run)
    db = Database(ready)
    with db.session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user created"))
        assert event.actor == "command line"
        assert event.record_type == "user"
        assert event.detail == {"role": "member", "organisation": "Leicestershire Police"}
    db.dispose()


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short pass", "at least 12 characters"),
        ("password1234", "too common"),
        ("midlands2026!", "mostly the word 'midlands'"),
        ("pat.morgan is here", "e-mail address"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason_and_no_user_is_created(
    ready, run, monkeypatch, password, why
):
    monkeypatch.setenv("DASHBOARD_PASSWORD", password)

    code, out, err = create_user(run)

    assert code == cli.EXIT_BAD_INPUT
    assert "Password refused" in err
    assert why in err
    assert password not in err, "the refused password is not echoed"
    assert users(ready) == []


def test_an_unknown_organisation_is_named_and_the_known_ones_listed(ready, run, with_password):
    run("create-org", "--name", "Coventry City Council")

    code, _, err = create_user(run, org="Leicester Police")

    assert code == cli.EXIT_BAD_INPUT
    assert "'Leicester Police' is not an organisation" in err
    assert "known: Coventry City Council, Leicestershire Police" in err
    assert users(ready) == []


def test_the_organisation_is_matched_whatever_its_case(ready, run, with_password):
    code, _, err = create_user(run, org="leicestershire police")
    assert code == 0, err


def test_a_duplicate_email_is_refused_whatever_its_case(ready, run, with_password):
    assert create_user(run)[0] == 0

    code, _, err = create_user(run, email="PAT.MORGAN@leics.police.example", name="Another Pat")

    assert code == cli.EXIT_BAD_INPUT
    assert "already exists" in err
    assert [u.name for u in users(ready)] == ["Pat Morgan"]


@pytest.mark.parametrize("email", ["pat.morgan", "@leics.police.example", "pat.morgan@", ""])
def test_a_malformed_email_is_refused(ready, run, with_password, email):
    code, _, err = create_user(run, email=email)

    assert code == cli.EXIT_BAD_INPUT
    assert "is not an e-mail address" in err
    assert users(ready) == []


def test_without_a_password_or_a_terminal_the_error_says_what_to_do(ready, run, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    code, _, err = create_user(run)

    assert code == cli.EXIT_BAD_INPUT
    assert "DASHBOARD_PASSWORD" in err
    assert "terminal" in err
    assert users(ready) == []


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_at_a_terminal_the_password_is_asked_twice(ready, run, monkeypatch):
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    answers = iter([TEST_PASSWORD, TEST_PASSWORD + "x"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))

    code, _, err = create_user(run)
    assert code == cli.EXIT_BAD_INPUT
    assert "did not match" in err
    assert users(ready) == []

    answers = iter([TEST_PASSWORD, TEST_PASSWORD])
    assert create_user(run)[0] == 0
    [user] = users(ready)
    assert verify_password(user.password_hash, TEST_PASSWORD)


def test_a_malformed_setting_is_a_one_line_error(env, run, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")

    code, _, err = run("init-db")

    assert code == cli.EXIT_BAD_INPUT
    assert err.startswith("error: SECRET_KEY")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ("init-db", ["init-db"]),
        ("create-org", ["--name", "--sector", "statutory", "voluntary and community"]),
        ("create-user", ["--email", "--name", "--org", "--role", "DASHBOARD_PASSWORD", "12 characters"]),
    ],
)
def test_each_command_has_help(env, capsys, command, mentions):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for word in mentions:
        assert word in out


def test_the_top_level_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("init-db", "create-org", "create-user"):
        assert command in out


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_python_dash_m_dashboard_init_db_works_as_a_real_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'proc.db'}"
    environment = {
        **{k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "PORT", "DATABASE_URL"}},
        "DASHBOARD_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": url,
    }

    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "init-db"],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "65 areas" in done.stdout
    db = Database(url)
    assert schema_is_current(db)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Area)) == 65
    db.dispose()


def test_invite_user_prints_a_one_time_link_and_the_account_cannot_sign_in_until_it_is_used(ready, run):
    code, out, err = run("invite-user", "--email", "Nia.New@Leics.Police.Example", "--name", "Nia New",
                         "--org", "leicestershire police", "--role", "member")

    assert code == 0, err
    assert "Invited Nia New <nia.new@leics.police.example> as Member of Leicestershire Police." in out
    assert "It was not e-mailed: E-mail is not set up on this server." in out
    link = out.strip().splitlines()[-1]
    assert "/activate/" in link
    token = link.rsplit("/", 1)[1]
    [user] = users(ready)
    assert user.activated_at is None
    db = Database(ready)
    with db.session() as session:
        stored = " ".join(str(v) for row in session.execute(text("SELECT * FROM user_invitations")) for v in row)
    db.dispose()
    assert token not in stored  # only its hash is kept


def test_invite_user_names_every_wrong_option_and_makes_nothing(ready, run):
    code, _out, err = run("invite-user", "--email", "not-an-address", "--name", " ", "--org", "Leicestershire Police",
                          "--role", "member")

    assert code == 2
    assert "--email:" in err and "--name:" in err
    assert users(ready) == []

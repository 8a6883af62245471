"""The load test's member accounts: `python loadtest/accounts.py DATABASE_URL COUNT FILE`.

Only on a demo database (one filled by `seed-demo`): a database holding real records is refused.
Makes (or, on later runs, reuses) COUNT member accounts `load-NN@load-test.example`, spread over
the partnership's active organisations (never the national team: members only, since chairs and
admins need a second factor), gives each a new random password, and writes "email password"
lines to FILE (mode 600) for the locust scenario. Every account made or changed is audited.
"""

from __future__ import annotations

import os
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from dashboard import audit  # noqa: E402
from dashboard.database import Database  # noqa: E402
from dashboard.models import AppSetting, Organisation, User  # noqa: E402
from dashboard.passwords import hash_password  # noqa: E402
from dashboard.reference import MembershipStatus, Role, UserStatus  # noqa: E402

DOMAIN = "load-test.example"
ACTOR = "load test"


def email_of(n: int) -> str:
    return f"load-{n:02d}@{DOMAIN}"


def prepare(database_url: str, count: int) -> list[tuple[str, str]]:
    """The (email, password) of `count` active member accounts on the demo database."""
    if not 1 <= count <= 500:
        raise SystemExit("The number of load-test accounts must be between 1 and 500.")
    db = Database(database_url)
    try:
        with db.session() as session:
            demo = session.scalar(select(AppSetting.value).where(AppSetting.key == "demo_mode"))
        if demo != "true":
            raise SystemExit(f"{db.engine.url.render_as_string(hide_password=True)} is not a demo database: "
                             "the load test needs its own (made by seed-demo).")
        passwords = {email_of(n): secrets.token_urlsafe(18) for n in range(1, count + 1)}
        with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:  # argon2 releases the GIL
            hashes = dict(zip(passwords, pool.map(hash_password, passwords.values()), strict=True))
        with db.session() as session:
            orgs = session.scalars(
                select(Organisation).where(Organisation.membership_status == MembershipStatus.ACTIVE)
                .order_by(Organisation.id)
            ).all()
            orgs = [o for o in orgs if not session.scalar(
                select(User.id).where(User.organisation_id == o.id, User.role == Role.SCI).limit(1))]
            if not orgs:
                raise SystemExit("The demo database has no active member organisation.")
            existing = {u.email: u for u in session.scalars(select(User).where(User.email.like(f"%@{DOMAIN}")))}
            now = datetime.now(UTC)
            for n, email in enumerate(passwords, start=1):
                user = existing.get(email)
                if user is None:
                    org = orgs[(n - 1) % len(orgs)]
                    user = User(email=email, name=f"Load Test {n:02d}", organisation_id=org.id, role=Role.MEMBER,
                                status=UserStatus.ACTIVE, password_hash=hashes[email], password_changed_at=now)
                    session.add(user)
                    session.flush()
                    audit.record(session, "user created", user_id=user.id, actor=ACTOR, record_type="user",
                                 record_id=user.id, reason="load test account on a demo database",
                                 detail={"role": Role.MEMBER.value, "organisation": org.name})
                else:
                    user.password_hash, user.password_changed_at = hashes[email], now
                    user.role, user.status = Role.MEMBER, UserStatus.ACTIVE
                    user.activated_at = user.activated_at or now
                    audit.record(session, "password reset", user_id=user.id, actor=ACTOR, record_type="user",
                                 record_id=user.id, reason="new random password for a load test run")
        return list(passwords.items())
    finally:
        db.dispose()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[1].isdigit():
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    database_url, count, target = argv[0], int(argv[1]), argv[2]
    accounts = prepare(database_url, count)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{email} {password}\n" for email, password in accounts)
    print(f"{len(accounts)} member accounts ready (sign-ins in {target}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

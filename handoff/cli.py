"""`python -m handoff.cli migrate | seed-demo | create-user`."""

from __future__ import annotations

import argparse
import getpass
import sys

from handoff.config import Settings
from handoff.db import Database
from handoff.migrate import upgrade_database
from handoff.specialists.auth import ROLES, create_user

DEMO_STAFF = [
    ("dana", "dana-demo-pass", "Dana", "specialist"),
    ("pat", "pat-demo-pass", "Pat", "specialist"),
    ("sam", "sam-demo-pass", "Sam", "supervisor"),
    ("tess", "tess-demo-pass", "Tess", "trainer"),
]
# The queues each demo account works (handoff/queue/teams.py, issue 17); a supervisor sees every team's.
DEMO_TEAMS = {"dana": ("disputes", "general"), "pat": ("payments", "general")}


def seed_demo(*, database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.session() as session:
            for username, password, display_name, role in DEMO_STAFF:
                create_user(session, username=username, password=password, display_name=display_name,
                            role=role, teams=DEMO_TEAMS.get(username, ("general",)))
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff.cli",
                                     description="Handoff service administration")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    commands.add_parser("seed-demo", help="create the demo staff accounts dana, pat, sam and tess")
    user = commands.add_parser("create-user", help="create or update a staff account")
    user.add_argument("username")
    user.add_argument("--display-name", required=True)
    user.add_argument("--role", choices=ROLES, required=True)
    args = parser.parse_args(argv)
    settings = Settings()
    url = settings.resolved_database_url
    if args.command == "migrate":
        upgrade_database(database_url=url)
        print(f"migrated {url}")
    elif args.command == "seed-demo":
        if not settings.is_development:
            print("seed-demo creates accounts with published passwords; it only runs with "
                  "APP_ENV=development", file=sys.stderr)
            return 2
        seed_demo(database_url=url)
        print("demo staff: " + ", ".join(f"{u} ({r})" for u, _, _, r in DEMO_STAFF))
    elif args.command == "create-user":
        password = getpass.getpass("password: ")
        if len(password) < 12:
            print("use at least 12 characters", file=sys.stderr)
            return 2
        db = Database(url)
        try:
            with db.session() as session:
                create_user(session, username=args.username, password=password,
                            display_name=args.display_name, role=args.role)
        finally:
            db.dispose()
        print(f"saved {args.username}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

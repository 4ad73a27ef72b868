"""Operator commands: ``db upgrade|current|revision``, ``keys create|revoke|list``, ``purge``.

Registered on the main parser by :func:`register`. They touch only the database (no catalogue
or engine is loaded) and print what they did; bad input exits 1 with a message, never a
traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from insertion_match.service import db
from insertion_match.service.auth import InvalidGrant, Role, parse_grants
from insertion_match.service.settings import Settings


def _fail(message: str) -> int:
    import sys

    print(f"insertion-match: {message}", file=sys.stderr)
    return 1


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = db.make_engine(settings.sqlalchemy_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the migrated database, closed on exit."""
    with _engine(settings) as engine:
        yield db.init_db(engine)


def _where(settings: Settings) -> str:
    return settings.sqlalchemy_url.split("@")[-1]  # never print a password


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.service.db.migrate import upgrade

    with _engine(settings) as engine:
        reached = upgrade(engine, args.revision)
    print(f"database at revision {reached} ({_where(settings)})")
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.service.db.migrate import current_revision, head_revision

    with _engine(settings) as engine:
        current = current_revision(engine)
    print(f"current: {current or 'none (empty database)'}; code head: {head_revision()}")
    return 0


def cmd_db_revision(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.service.db.migrate import write_revision

    path = write_revision(args.message)
    print(f"wrote {path}: review it (types, indexes, batch mode for SQLite) before committing")
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    role = Role(args.role)
    try:
        grants = parse_grants(role, args.territory or [])
    except InvalidGrant as exc:
        return _fail(str(exc))
    with _sessions(settings) as sessions:
        new = db.create_api_key(sessions, args.name, role.value, [str(g) for g in grants])
    print(f"created key {new.key_id} ({role}, {', '.join(map(str, grants)) or 'all territories'})")
    print("the key is shown once, store it now (send it as the X-API-Key header):")
    print(new.key)
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    with _sessions(settings) as sessions:
        revoked = db.revoke_api_key(sessions, args.key_id)
    if not revoked:
        return _fail(f"no active key {args.key_id!r}")
    print(f"revoked key {args.key_id}")
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    with _sessions(settings) as sessions:
        rows = db.list_api_keys(sessions)
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        print(f"{row.key_id}  {row.role:<9}  {','.join(row.territories) or '*':<24}  "
              f"{state:<18}  {row.name}")
    print(f"{len(rows)} key(s)")
    return 0


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    if args.older_than_days < 1:
        return _fail("--older-than-days must be at least 1")
    audit_days = args.audit_older_than_days or args.older_than_days
    now = datetime.now(UTC)
    with _sessions(settings) as sessions:
        profiles = db.purge_beneficiaries(sessions, now - timedelta(days=args.older_than_days))
        recommendations, accesses = db.purge_audit(sessions, now - timedelta(days=audit_days))
    print(f"purged {profiles} stored profile(s) not updated for {args.older_than_days} days")
    print(f"purged {recommendations} recommendation audit row(s) and {accesses} access audit "
          f"row(s) older than {audit_days} days")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the operator commands to the main parser's sub-commands."""
    dbp = sub.add_parser("db", help="database schema migrations (Alembic)")
    db_sub = dbp.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="migrate the database (IM_DATABASE_URL) to the head")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    db_sub.add_parser("current", help="print the database's revision").set_defaults(
        func=cmd_db_current)
    rev = db_sub.add_parser("revision", help="write the next revision from the table modules")
    rev.add_argument("-m", "--message", required=True)
    rev.set_defaults(func=cmd_db_revision)

    keys = sub.add_parser("keys", help="API keys: create, revoke, list")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key (printed once)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--territory", action="append", metavar="GRANT",
                        help="61 (département), 61:Flers (commission) or * ; repeatable")
    create.add_argument("--name", required=True, help="who or what holds the key")
    create.set_defaults(func=cmd_keys_create)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_keys_revoke)
    keys_sub.add_parser("list", help="list keys (never the secrets)").set_defaults(
        func=cmd_keys_list)

    purge = sub.add_parser("purge", help="retention purge of stored profiles and audit rows")
    purge.add_argument("--older-than-days", type=int, required=True, metavar="N",
                       help="erase profiles not updated for N days (and audit rows older)")
    purge.add_argument("--audit-older-than-days", type=int, metavar="M",
                       help="keep audit rows for M days instead of N")
    purge.set_defaults(func=cmd_purge)

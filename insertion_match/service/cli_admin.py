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

    print(f"insertion-match : {message}", file=sys.stderr)
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
    print(f"base de données à la révision {reached} ({_where(settings)})")
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.service.db.migrate import current_revision, head_revision

    with _engine(settings) as engine:
        current = current_revision(engine)
    print(f"révision actuelle : {current or 'aucune (base vide)'} ; dernière révision du code : "
          f"{head_revision()}")
    return 0


def cmd_db_revision(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.service.db.migrate import write_revision

    path = write_revision(args.message)
    print(f"révision écrite : {path} ; relisez-la (types, index, mode batch de SQLite) avant "
          "le commit")
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    role = Role(args.role)
    try:
        grants = parse_grants(role, args.territory or [])
    except InvalidGrant as exc:
        return _fail(str(exc))
    with _sessions(settings) as sessions:
        new = db.create_api_key(sessions, args.name, role.value, [str(g) for g in grants])
    print(f"clé créée : {new.key_id} ({role}, "
          f"{', '.join(map(str, grants)) or 'tous les territoires'})")
    print("la clé n'est affichée qu'une fois, conservez-la maintenant (à envoyer dans l'en-tête "
          "X-API-Key) :")
    print(new.key)
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    with _sessions(settings) as sessions:
        revoked = db.revoke_api_key(sessions, args.key_id)
    if not revoked:
        return _fail(f"aucune clé active d'identifiant {args.key_id!r}")
    print(f"clé révoquée : {args.key_id}")
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    with _sessions(settings) as sessions:
        rows = db.list_api_keys(sessions)
    for row in rows:
        state = f"révoquée le {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        print(f"{row.key_id}  {row.role:<9}  {','.join(row.territories) or '*':<24}  "
              f"{state:<22}  {row.name}")
    print(f"{len(rows)} clé(s)")
    return 0


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    if args.older_than_days < 1:
        return _fail("--older-than-days doit valoir au moins 1")
    audit_days = args.audit_older_than_days or args.older_than_days
    now = datetime.now(UTC)
    with _sessions(settings) as sessions:
        profiles = db.purge_beneficiaries(sessions, now - timedelta(days=args.older_than_days))
        recommendations, accesses = db.purge_audit(sessions, now - timedelta(days=audit_days))
    print(f"profil(s) enregistré(s) purgé(s) : {profiles} (sans mise à jour depuis "
          f"{args.older_than_days} jours)")
    print(f"ligne(s) d'audit purgée(s) (de plus de {audit_days} jours) : {recommendations} de "
          f"recommandations, {accesses} d'accès")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the operator commands to the main parser's sub-commands."""
    dbp = sub.add_parser("db", help="migrations du schéma de la base de données (Alembic)")
    db_sub = dbp.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="migrer la base (IM_DATABASE_URL) jusqu'à la dernière "
                                           "révision")
    up.add_argument("revision", nargs="?", default="head", help="révision visée (défaut head)")
    up.set_defaults(func=cmd_db_upgrade)
    db_sub.add_parser("current", help="afficher la révision de la base").set_defaults(
        func=cmd_db_current)
    rev = db_sub.add_parser("revision", help="écrire la révision suivante d'après les modules de "
                                             "tables")
    rev.add_argument("-m", "--message", required=True, help="titre de la révision")
    rev.set_defaults(func=cmd_db_revision)

    keys = sub.add_parser("keys", help="clés d'API : create, revoke, list")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="créer une clé (affichée une seule fois)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role],
                        help="rôle de la clé")
    create.add_argument("--territory", action="append", metavar="GRANT",
                        help="61 (département), 61:Flers (commission) ou * ; répétable")
    create.add_argument("--name", required=True, help="qui ou quoi détient la clé")
    create.set_defaults(func=cmd_keys_create)
    revoke = keys_sub.add_parser("revoke", help="révoquer une clé par son identifiant")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_keys_revoke)
    keys_sub.add_parser("list", help="lister les clés (jamais les secrets)").set_defaults(
        func=cmd_keys_list)

    purge = sub.add_parser("purge", help="purge de conservation des profils enregistrés et des "
                                         "lignes d'audit")
    purge.add_argument("--older-than-days", type=int, required=True, metavar="N",
                       help="effacer les profils sans mise à jour depuis N jours (et les lignes "
                            "d'audit plus anciennes)")
    purge.add_argument("--audit-older-than-days", type=int, metavar="M",
                       help="garder les lignes d'audit M jours au lieu de N")
    purge.set_defaults(func=cmd_purge)

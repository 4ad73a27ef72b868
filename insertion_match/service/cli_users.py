"""Web accounts: ``users create|password|disable|list`` (messages in French: people read them).

``users create --email E --role coach --territory 61:Flers``: the password is asked twice on
the terminal, or read from standard input with ``--password-stdin`` (scripts, CI). Roles and
territories are those of API keys (``service/auth.py``), plus ``manager``.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from insertion_match.service import db
from insertion_match.service.auth import InvalidGrant, Role, parse_grants
from insertion_match.service.cli_admin import _sessions
from insertion_match.service.db.users import UserExists
from insertion_match.service.settings import Settings

MIN_PASSWORD = 12
WEB_ROLES = (Role.coach.value, Role.manager.value, Role.admin.value)


def _fail(message: str) -> int:
    print(f"insertion-match : {message}", file=sys.stderr)
    return 1


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Mot de passe (à nouveau) : ") != first:
        print("insertion-match : les deux mots de passe diffèrent", file=sys.stderr)
        return None
    return first


def _check_password(password: str | None) -> str | None:
    if password is None:
        return "mot de passe non saisi"
    if len(password) < MIN_PASSWORD:
        return f"mot de passe trop court : au moins {MIN_PASSWORD} caractères"
    return None


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    role = Role(args.role)
    try:
        grants = parse_grants(role, args.territory or [])
    except InvalidGrant as exc:
        return _fail(f"territoire invalide : {exc}")
    if "@" not in args.email or len(args.email) > 254:
        return _fail(f"adresse électronique invalide : {args.email!r}")
    password = _password(args)
    problem = _check_password(password)
    if problem:
        return _fail(problem)
    with _sessions(settings) as sessions:
        try:
            db.create_user(sessions, args.email, role.value, [str(g) for g in grants],
                           password or "")
        except UserExists:
            return _fail(f"un compte existe déjà pour {args.email}")
    where = ", ".join(map(str, grants)) or "tous les territoires"
    print(f"compte créé : {args.email.strip().lower()} ({role.value}, {where})")
    return 0


def cmd_users_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(args)
    problem = _check_password(password)
    if problem:
        return _fail(problem)
    with _sessions(settings) as sessions:
        if not db.set_password(sessions, args.email, password or ""):
            return _fail(f"aucun compte pour {args.email}")
    print(f"mot de passe changé pour {args.email}")
    return 0


def cmd_users_disable(args: argparse.Namespace, settings: Settings) -> int:
    with _sessions(settings) as sessions:
        if not db.disable_user(sessions, args.email):
            return _fail(f"aucun compte actif pour {args.email}")
    print(f"compte désactivé : {args.email}")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    with _sessions(settings) as sessions:
        rows = db.list_users(sessions)
    for row in rows:
        state = f"désactivé le {row.disabled_at:%Y-%m-%d}" if row.disabled_at else "actif"
        print(f"{row.email:<40}  {row.role:<8}  {','.join(row.territories) or '*':<24}  {state}")
    print(f"{len(rows)} compte(s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="comptes de l'application web : create, password, "
                           "disable, list")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="créer un compte (mot de passe demandé)")
    create.add_argument("--email", required=True, help="adresse électronique du compte")
    create.add_argument("--role", required=True, choices=WEB_ROLES)
    create.add_argument("--territory", action="append", metavar="TERRITOIRE",
                        help="61 (département), 61:Flers (commission) ; répétable")
    create.add_argument("--password-stdin", action="store_true",
                        help="lire le mot de passe sur l'entrée standard")
    create.set_defaults(func=cmd_users_create)
    password = users_sub.add_parser("password", help="changer le mot de passe d'un compte")
    password.add_argument("--email", required=True, help="adresse électronique du compte")
    password.add_argument("--password-stdin", action="store_true",
                          help="lire le mot de passe sur l'entrée standard")
    password.set_defaults(func=cmd_users_password)
    disable = users_sub.add_parser("disable", help="désactiver un compte")
    disable.add_argument("--email", required=True, help="adresse électronique du compte")
    disable.set_defaults(func=cmd_users_disable)
    users_sub.add_parser("list", help="lister les comptes").set_defaults(func=cmd_users_list)

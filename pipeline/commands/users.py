"""Review-app users from the command line: `users add NAME --role clerk|supervisor|admin`,
`users passwd NAME`, `users disable NAME` (and `enable`), `users role NAME ROLE`, `users list`.

Whoever runs these commands is trusted (they can read the home anyway); the web app is not, and
signs users in against what these commands keep (`pipeline.services.users`). A password is asked
twice on the terminal, or read from the first line of stdin with `--password-stdin` (scripts).
Changing a password, a role or disabling a user ends every session they have at once.
Each handler imports the use case it calls: mounting these commands (every `pipeline` run) loads none.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from pipeline.errors import EXIT_OK, AccountError
from pipeline.records import Role

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store.accounts import Accounts, User


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("users", help="review-app users: add, passwd, disable, enable, role, list")
    sub = group.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    roles = [str(r) for r in Role]

    add = sub.add_parser("add", help="add a user who signs in to `pipeline review serve`")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=roles,
                     help="clerk works the queue; supervisor also refiles, reopens, releases, reads the access "
                          "log; admin also manages users")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    how.add_argument("--no-password", action="store_true",
                     help="no password: only a trusted proxy (`review serve --trust-remote-user`) signs them in")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)

    passwd = sub.add_parser("passwd", help="set a user's password (their sessions end)")
    passwd.add_argument("name", metavar="NAME")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(handler=cmd_passwd)

    for action, helptext in (("disable", "disable a user (their sessions end; the access log keeps the name)"),
                             ("enable", "enable a disabled user again")):
        parser = sub.add_parser(action, help=helptext)
        parser.add_argument("name", metavar="NAME")
        parser.set_defaults(handler=cmd_enable if action == "enable" else cmd_disable)

    role = sub.add_parser("role", help="change a user's role (their sessions end)")
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", choices=roles)
    role.set_defaults(handler=cmd_role)

    listing = sub.add_parser("list", help="every user: name, role, enabled, password set")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)


def _accounts(settings: Settings) -> Accounts:
    from pipeline.services.home import open_database
    from pipeline.store.accounts import Accounts

    return Accounts(open_database(settings))


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise AccountError("no terminal to ask the password on", hint="pipe it in with --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise AccountError("the two passwords differ; nothing was changed")
    return first


def _json(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": str(user.role), "enabled": user.enabled, "password": user.has_password,
            "created_at": user.created_at.isoformat()}


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import users

    password = None if args.no_password else _password(args)
    user = users.add_user(_accounts(settings), args.name, Role(args.role), password)
    print(json.dumps(_json(user)) if args.json else f"added {user.name} ({user.role})")
    return EXIT_OK


def cmd_passwd(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import users

    user = users.change_password(_accounts(settings), args.name, _password(args))
    print(f"password of {user.name} changed; their sessions ended")
    return EXIT_OK


def cmd_disable(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import users

    user = users.set_enabled(_accounts(settings), args.name, False)
    print(f"{user.name} disabled; their sessions ended")
    return EXIT_OK


def cmd_enable(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import users

    user = users.set_enabled(_accounts(settings), args.name, True)
    print(f"{user.name} enabled")
    return EXIT_OK


def cmd_role(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import users

    user = users.set_role(_accounts(settings), args.name, Role(args.role))
    print(f"{user.name} is now {user.role}; their sessions ended")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import users

    for user in users.list_users(_accounts(settings)):
        if args.json:
            print(json.dumps(_json(user)))
        else:
            state = "enabled" if user.enabled else "disabled"
            print(f"{user.name:<24} {user.role:<11} {state:<9} {'password' if user.has_password else 'proxy only'}")
    return EXIT_OK

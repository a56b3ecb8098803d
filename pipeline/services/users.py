"""Who may use the review app, and as what: local users with argon2-hashed passwords and a role,
sign-in with a rate limit on failures, server-side sessions that end at sign-out, on a password
change, when the user is disabled, and after the idle timeout.

The roles and what each may do (`CAPABILITIES`) live here, once; the web app checks them with one
FastAPI dependency per capability (`pipeline/review/web.py`). The command line is trusted: its user
is the OS account running it (`--user` names someone else for the access log), as before.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from pipeline.errors import AccountError
from pipeline.records import Role
from pipeline.store.accounts import Accounts, User
from pipeline.store.passwords import dummy_hash, hash_password, needs_rehash, verify_password

log = logging.getLogger(__name__)

#: shortest password accepted (NIST SP 800-63B asks for at least 8; we ask a little more)
MIN_PASSWORD_LENGTH = 10
#: failed sign-ins counted over this window
FAILURE_WINDOW = timedelta(minutes=15)
#: failures for one user name within the window after which sign-in as that name is refused
MAX_FAILURES_PER_NAME = 5
#: failures from one client address within the window after which it may not sign in at all
MAX_FAILURES_PER_CLIENT = 20
#: a session's last-seen time is written at most this often (the idle timeout is this precise)
TOUCH_EVERY = timedelta(seconds=30)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class Capability(StrEnum):
    """One thing a user may do in the review app."""

    REVIEW = "review"  # the queue and its items, search and open filed documents
    REOPEN = "reopen"  # put an item closed without filing back in the queue
    REFILE = "refile"  # move a filed document to another patient
    RELEASE = "release"  # release of information to a requester
    ACCESS_LOG = "access_log"  # read the access log
    MANAGE_USERS = "manage_users"  # add, change and disable users
    DASHBOARD = "dashboard"  # the day's and week's figures: outcomes, queue age, throughput, per clerk


_CLERK = frozenset({Capability.REVIEW})
_SUPERVISOR = _CLERK | {Capability.REOPEN, Capability.REFILE, Capability.RELEASE, Capability.ACCESS_LOG,
                         Capability.DASHBOARD}
#: role -> what it may do
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.CLERK: _CLERK, Role.SUPERVISOR: _SUPERVISOR, Role.ADMIN: _SUPERVISOR | {Capability.MANAGE_USERS}}


def may(role: Role, capability: Capability) -> bool:
    return capability in CAPABILITIES[role]


def valid_name(value: str | None) -> str | None:
    """The user name if acceptable (letters, digits, . _ @ -; at most 64), else None."""
    value = (value or "").strip()
    return value if _NAME.match(value) else None


# ------------------------------------------------------------------------------ managing users


def add_user(accounts: Accounts, name: str, role: Role, password: str | None) -> User:
    """A new enabled user; without a password only a trusted proxy (`--trust-remote-user`) signs them in."""
    if valid_name(name) != name:
        raise AccountError(f"{name!r} is not a usable user name",
                           hint="use letters, digits and . _ @ - only, at most 64, starting with a letter or digit")
    user = accounts.add_user(name, role, None if password is None else _hashed(password))
    log.info("user %s added as %s", name, role)
    return user


def change_password(accounts: Accounts, name: str, password: str) -> User:
    """A new password; every session the user has ends."""
    user = accounts.change_user(name, password_hash=_hashed(password),
                                password_changed_at=accounts.clock())
    log.info("user %s: password changed, sessions ended", name)
    return user


def set_enabled(accounts: Accounts, name: str, enabled: bool) -> User:
    """Disable (every session ends at once) or enable a user. Users are never deleted: the access
    log names them."""
    user = accounts.change_user(name, enabled=enabled)
    log.info("user %s %s", name, "enabled" if enabled else "disabled, sessions ended")
    return user


def set_role(accounts: Accounts, name: str, role: Role) -> User:
    user = accounts.change_user(name, role=str(role))
    log.info("user %s is now %s, sessions ended", name, role)
    return user


def list_users(accounts: Accounts) -> list[User]:
    return accounts.users()


def _hashed(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password is too short (at least {MIN_PASSWORD_LENGTH} characters)",
                           hint="a passphrase of a few words is easy to type and hard to guess")
    return hash_password(password)


# -------------------------------------------------------------------------------- signing in


class SignInRefusal(StrEnum):
    WRONG = "wrong"  # unknown name, wrong password, disabled user or a user without a password
    RATE_LIMITED = "rate_limited"  # too many failures for this name or from this address lately


@dataclass(frozen=True, slots=True)
class SignIn:
    """A sign-in's outcome: the user and their new session id, or why not."""

    user: User | None = None
    session_id: str | None = None
    refused: SignInRefusal | None = None


def sign_in(accounts: Accounts, name: str, password: str, *, client: str) -> SignIn:
    """Check the password; on success a new server-side session. Failures are recorded and counted:
    past the limit, sign-in is refused without checking the password."""
    by_name, by_client = accounts.failures_since(accounts.clock() - FAILURE_WINDOW, name=name, client=client)
    if by_name >= MAX_FAILURES_PER_NAME or by_client >= MAX_FAILURES_PER_CLIENT:
        accounts.record_failure(name, client)
        log.warning("sign-in refused for %r from %s: too many failures in %d min", name, client,
                    FAILURE_WINDOW.total_seconds() // 60)
        return SignIn(refused=SignInRefusal.RATE_LIMITED)
    found = accounts.password_hash(name)
    user, stored = found if found else (None, None)
    good = verify_password(stored or dummy_hash(), password)  # as slow for an unknown name as for a known one
    if user is None or stored is None or not good or not user.enabled:
        accounts.record_failure(name, client)
        log.warning("sign-in failed for %r from %s", name, client)
        return SignIn(refused=SignInRefusal.WRONG)
    if needs_rehash(stored):
        accounts.change_user(name, password_hash=hash_password(password))
    accounts.end_stale_sessions(accounts.clock() - timedelta(days=1))
    session_id = secrets.token_urlsafe(32)
    accounts.open_session(session_id, user)
    log.info("%s signed in from %s", name, client)
    return SignIn(user=user, session_id=session_id)


def session_user(accounts: Accounts, session_id: str | None, *, idle: timedelta) -> User | None:
    """The user of a live session: it exists, the user is enabled, it was used within `idle`."""
    if not session_id:
        return None
    state = accounts.session_state(session_id)
    if state is None or not state.user.enabled:
        return None
    now = accounts.clock()
    if now - state.last_seen_at > idle:
        accounts.end_session(session_id)
        return None
    if now - state.last_seen_at > TOUCH_EVERY:
        accounts.touch_session(session_id)
    return state.user


def sign_out(accounts: Accounts, session_id: str | None) -> None:
    if session_id:
        accounts.end_session(session_id)


def proxy_user(accounts: Accounts, name: str | None) -> User | None:
    """The user a trusted proxy names, if it is a known, enabled user (their role comes from here)."""
    name = valid_name(name)
    user = accounts.user(name) if name else None
    return user if user is not None and user.enabled else None

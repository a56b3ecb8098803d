"""The review app's accounts in the manifest database: users, server-side sessions and failed
sign-ins (revision 0007). Only the SHA-256 of a session id is kept. The rules (who may sign in,
the rate limit, the idle timeout) are `pipeline.services.users`'; this module reads and writes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from pipeline.errors import AccountError
from pipeline.records import Role
from pipeline.store.tables import SessionRow, SignInFailureRow, UserRow
from pipeline.store.transactions import Transactions


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    enabled: bool
    has_password: bool
    created_at: datetime
    password_changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionState:
    """A stored session and its user, as the rules need them."""

    user: User
    password_hash: str | None
    created_at: datetime
    last_seen_at: datetime


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _user(row: UserRow) -> User:
    return User(row.id, row.name, Role(row.role), row.enabled, row.password_hash is not None,
                _utc(row.created_at), _utc(row.password_changed_at) if row.password_changed_at else None)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite hands times back naive


class Accounts(Transactions):
    """Users, sessions and failed sign-ins over the manifest's engine."""

    # --------------------------------------------------------------------------------- users

    def add_user(self, name: str, role: Role, password_hash: str | None) -> User:
        now = self.clock().astimezone(UTC)
        def work(session: Session) -> User:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise AccountError(f"user {name!r} exists already",
                                   hint="pick another name, or change theirs with `pipeline users passwd`")
            row = UserRow(name=name, role=str(role), password_hash=password_hash, enabled=True, created_at=now,
                          password_changed_at=now if password_hash else None)
            session.add(row)
            session.flush()
            return _user(row)
        return self._run("adding a user", work)

    def user(self, name: str) -> User | None:
        def work(session: Session) -> User | None:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return _user(row) if row else None
        return self._run("reading a user", work)

    def password_hash(self, name: str) -> tuple[User, str | None] | None:
        def work(session: Session) -> tuple[User, str | None] | None:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return (_user(row), row.password_hash) if row else None
        return self._run("reading a user", work)

    def users(self) -> list[User]:
        return self._run("listing users", lambda s: [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))])

    def change_user(self, name: str, **values: object) -> User:
        """Set columns of one user (password hash, role, enabled) and end every session they have."""
        def work(session: Session) -> User:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise AccountError(f"there is no user {name!r}", hint="`pipeline users list` shows them")
            for column, value in values.items():
                setattr(row, column, value)
            session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            session.flush()
            return _user(row)
        return self._run("changing a user", work)

    # ------------------------------------------------------------------------------ sessions

    def open_session(self, session_id: str, user: User) -> None:
        now = self.clock().astimezone(UTC)
        self._run("opening a session", lambda s: s.add(
            SessionRow(id_hash=session_key(session_id), user_id=user.id, created_at=now, last_seen_at=now)))

    def session_state(self, session_id: str) -> SessionState | None:
        def work(session: Session) -> SessionState | None:
            found = session.execute(select(SessionRow, UserRow).join(UserRow, UserRow.id == SessionRow.user_id)
                                    .where(SessionRow.id_hash == session_key(session_id))).first()
            if found is None:
                return None
            stored, user = found
            return SessionState(_user(user), user.password_hash, _utc(stored.created_at), _utc(stored.last_seen_at))
        return self._run("reading a session", work)

    def touch_session(self, session_id: str) -> None:
        now = self.clock().astimezone(UTC)
        self._run("keeping a session", lambda s: s.execute(
            update(SessionRow).where(SessionRow.id_hash == session_key(session_id)).values(last_seen_at=now)))

    def end_session(self, session_id: str) -> None:
        self._run("ending a session", lambda s: s.execute(
            delete(SessionRow).where(SessionRow.id_hash == session_key(session_id))))

    def end_stale_sessions(self, before: datetime) -> None:
        self._run("ending stale sessions", lambda s: s.execute(
            delete(SessionRow).where(SessionRow.last_seen_at < before.astimezone(UTC))))

    # ---------------------------------------------------------------------- failed sign-ins

    def record_failure(self, name: str, client: str) -> None:
        now = self.clock().astimezone(UTC)
        self._run("recording a failed sign-in", lambda s: s.add(
            SignInFailureRow(at=now, name=name[:64], client=client[:64])))

    def failures_since(self, since: datetime, *, name: str, client: str) -> tuple[int, int]:
        """(failures for this name, failures from this client) since `since`."""
        def work(session: Session) -> tuple[int, int]:
            recent = select(SignInFailureRow).where(SignInFailureRow.at >= since.astimezone(UTC)) \
                .where(or_(SignInFailureRow.name == name[:64], SignInFailureRow.client == client[:64])).subquery()
            by_name = session.scalar(select(func.count()).select_from(recent).where(recent.c.name == name[:64]))
            by_client = session.scalar(select(func.count()).select_from(recent).where(recent.c.client == client[:64]))
            return int(by_name or 0), int(by_client or 0)
        return self._run("counting failed sign-ins", work)

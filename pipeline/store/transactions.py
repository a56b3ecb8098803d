"""The manifest's database work: one session and one transaction per call; database failures
become `StorageError`. The base of every part of the `Manifest`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pipeline.clock import Clock, utc_now
from pipeline.errors import StorageError
from pipeline.store.database import make_session_factory
from pipeline.store.objects import ObjectStore


class Transactions:
    """Engine, object store and clock the manifest parts share; `_run` runs one transaction."""

    def __init__(self, engine: Engine, *, store: ObjectStore | None = None,
                 clock: Clock = utc_now) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self._sessions = make_session_factory(engine)
        self.dialect = engine.dialect.name

    def _session(self) -> Session:
        return self._sessions()

    def _run(self, what: str, work: Callable[[Session], Any]) -> Any:
        """Run `work` in one transaction; database failures become StorageError."""
        try:
            with self._session() as session, session.begin():
                return work(session)
        except SQLAlchemyError as exc:
            raise StorageError(f"manifest database: {what} failed ({type(exc).__name__})",
                               hint="check the database is reachable and migrated (`pipeline doctor`)") from exc

"""The manifest database: one SQLAlchemy metadata for every table (manifest and patient index).

`migrate(url)` brings a database to the newest Alembic revision. The migration scripts ship inside
the package (`pipeline/store/migrations/`), so no `alembic.ini` is needed at run time.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from pipeline.errors import StorageError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: an arbitrary constant: the PostgreSQL advisory lock that serialises concurrent `migrate` calls
_MIGRATION_LOCK_ID = 0x70697065
#: Alembic's `context` and `op` are process-wide: one migration at a time per process
_MIGRATING = threading.Lock()

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str, *, busy_timeout: float = 30.0) -> Engine:
    """An engine for SQLite (WAL, foreign keys on; a write waits up to `busy_timeout` seconds for
    another writer's lock) or PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(url: str) -> None:
    """Upgrade the database at `url` to the newest revision (`alembic upgrade head`); idempotent.

    Concurrent callers (several workers starting at once) take turns: threads through a process
    lock, processes through a PostgreSQL advisory lock or, on SQLite, a lock file beside the database.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = make_engine(url)
    try:
        with _MIGRATING, _sqlite_file_lock(engine), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            else:
                # a migration that copies a table (SQLite cannot alter a CHECK) must not trip the foreign
                # keys pointing at it; before the first write, when SQLite still accepts this pragma
                connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            if connection.dialect.name == "sqlite" and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise StorageError("the manifest database's foreign keys do not hold after migrating",
                                   hint="restore the database from a backup or rebuild it with `pipeline reindex`")
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot migrate the manifest database ({type(exc).__name__}: {exc.args[0]})",
                           hint="check PIPELINE_DATABASE_URL and that the database server is running") from exc
    finally:
        engine.dispose()
    log.debug("database at revision head")


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on `<database>.migrate-lock` while a SQLite file database is migrated."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def known_revision(revision: str) -> bool:
    """Whether this pipeline's migrations hold `revision` (an older schema) or not (a newer one)."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    if not revision:
        return False
    try:
        return ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(revision) is not None
    except CommandError:
        return False

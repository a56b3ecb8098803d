"""Alembic environment for the manifest database.

Run through `pipeline.store.database.migrate(url)`, which hands over an open connection in
`config.attributes["connection"]`. For developers, `alembic -x url=sqlite:///var/manifest.db
upgrade head` with `script_location` pointing here works too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pipeline.store.database import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Alembic revision 0002 creates exactly what `pipeline/patients/tables.py` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pipeline.patients.tables  # noqa: F401  (registers the tables on Base.metadata)
from pipeline.store.database import Base

MINE = {"patients", "identifiers", "names", "addresses", "phones", "encounters", "adt_messages"}


def test_migrated_schema_matches_the_models(engine) -> None:
    def only_mine(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is not None and table.name in MINE

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": only_mine, "compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        tables = set(conn.dialect.get_table_names(conn))
    assert MINE <= tables
    assert differences == []

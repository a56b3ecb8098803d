"""Alembic revision 0002 creates exactly what `pipeline/patients/tables.py` declares."""

from __future__ import annotations

import pytest
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


def test_a_bulk_load_rebuilds_the_indexes_it_dropped(engine, tmp_path, monkeypatch) -> None:
    from sqlalchemy import inspect

    from pipeline.patients import importer

    from .conftest import PATIENTS, write_csv

    before = {t: {i["name"] for i in inspect(engine).get_indexes(t)} for t in MINE}
    monkeypatch.setattr(importer, "BULK_INDEX_REBUILD_ROWS", 1)  # treat the tiny file as a big load
    report = importer.import_file(write_csv(tmp_path / "p.csv", PATIENTS), engine)
    assert report.imported == len(PATIENTS)
    after = {t: {i["name"] for i in inspect(engine).get_indexes(t)} for t in MINE}
    assert after == before and "ix_names_family_key_given_key" in after["names"]
    test_migrated_schema_matches_the_models(engine)


@pytest.mark.integration
def test_migrated_schema_matches_the_models_on_postgresql(postgres_url: str) -> None:
    from pipeline.store.database import make_engine, migrate

    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        test_migrated_schema_matches_the_models(engine)
    finally:
        engine.dispose()

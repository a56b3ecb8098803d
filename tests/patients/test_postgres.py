"""The patient index on PostgreSQL: migration, bulk import, matching, merge (real server)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.patients.adt import AdtProcessor
from pipeline.patients.importer import import_file
from pipeline.patients.index import resolve
from pipeline.patients.matcher import Matcher
from pipeline.records import DocumentIdentifiers, MatchOutcome
from pipeline.store.database import make_engine, migrate

from .conftest import PATIENTS, write_csv

pytestmark = pytest.mark.integration


def test_import_match_and_merge_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        report = import_file(write_csv(tmp_path / "p.csv", PATIENTS), engine)
        assert (report.imported, report.rejected) == (len(PATIENTS), 0)
        again = import_file(write_csv(tmp_path / "q.csv", PATIENTS[:1]), engine)
        assert again.updated == 1
        matcher = Matcher(engine)
        result = matcher.match(DocumentIdentifiers(family_name="NGUYEN", given_name="MARY",
                                                   birth_date=date(1990, 3, 8)))
        assert result.outcome is MatchOutcome.AUTO_FILE and result.patient.mrn == "10000005"
        merge = AdtProcessor(engine).apply(
            "MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301||ADT^A40|PG1|P|2.5\r"
            "PID|1||10000005^^^LOCAL^MR||NGUYEN^MARY||19900308|F\rMRG|10000004^^^LOCAL^MR")
        assert merge.code == "AA"
        with engine.connect() as conn:
            assert resolve(conn, "10000004") == resolve(conn, "10000005")
    finally:
        engine.dispose()

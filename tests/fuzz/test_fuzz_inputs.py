"""Fuzzing the other parsers of outside input: patient files (CSV, FHIR Bundle / NDJSON), identifier
extraction from OCR text and barcode payloads, and the settings file. Only errors from the project's
tree (`PipelineError`), never a crash or a hang."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pipeline.errors import ConfigurationError, PatientIndexError
from pipeline.patients.extract import extract_from_text, parse_barcode
from pipeline.patients.importer import CSV_COLUMNS, import_file
from pipeline.records import DocumentIdentifiers
from pipeline.settings import Settings, load_settings
from pipeline.store.database import make_engine, migrate

pytestmark = pytest.mark.timeout(120)

CELL = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=15)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz-import') / 'manifest.db'}"
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-files")


def _import(folder: Path, engine, data: bytes) -> None:
    path = folder / "patients.in"
    path.write_bytes(data)
    try:
        report = import_file(path, engine)
    except PatientIndexError as exc:
        assert str(exc)  # a message for the user
        return
    assert report.imported + report.updated + report.rejected >= 0
    assert len(report.errors) <= report.rejected


@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_patient_file(engine, folder, data: bytes) -> None:
    _import(folder, engine, data)


@given(rows=st.lists(st.lists(CELL, max_size=len(CSV_COLUMNS) + 2), max_size=6), header=st.booleans())
def test_csv_with_odd_cells(engine, folder, rows, header: bool) -> None:
    lines = ([",".join(CSV_COLUMNS)] if header else []) + [",".join(json.dumps(c) for c in row) for row in rows]
    _import(folder, engine, "\n".join(lines).encode("utf-8", errors="surrogatepass"))


@given(document=JSON, ndjson=st.booleans())
@example(document=None, ndjson=True)  # found: a JSON line that is not an object crashed the importer
@example(document=None, ndjson=False)  # found: the same as a Bundle entry
def test_fhir_shaped_json(engine, folder, document, ndjson: bool) -> None:
    patient = {"resourceType": "Patient", "identifier": [{"value": "F1"}], "name": [{"family": "X", "given": ["Y"]}]}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}, document,
                                                                         {"resource": document}]}
    text = "\n".join(json.dumps(d) for d in ({"resourceType": "Patient"}, document)) if ndjson else json.dumps(bundle)
    _import(folder, engine, ("{" + text[1:] if not text.startswith("{") else text).encode())


@given(patient=st.fixed_dictionaries({"resourceType": st.just("Patient")}, optional={
    "identifier": JSON, "name": JSON, "birthDate": JSON, "gender": JSON, "address": JSON, "telecom": JSON}))
def test_fhir_patients_with_odd_fields(engine, folder, patient) -> None:
    _import(folder, engine, json.dumps(patient).encode())


OCR_TEXT = st.lists(st.sampled_from(["Patient:", "Name:", "DOB:", "D.O.B.", "MRN", "MRN:", "Chart #", "Acct:",
                                     "Date of service:", "DOE, JANE", "Jane Doe", "01/02/1980", "1980-01-02",
                                     "13/45/2020", "Feb 30 1999", "12345678", "\n", " ", ":", "#", "-"])
                    | st.text(string.printable, max_size=12), max_size=30).map(" ".join)


@given(text=OCR_TEXT | st.text(max_size=300))
def test_identifier_extraction_from_any_ocr_text(text: str) -> None:
    assert isinstance(extract_from_text(text), DocumentIdentifiers)


@given(payload=st.lists(st.sampled_from(["MRN:", "DOB:", "TYPE:", "NAME:", "|", ";", ":", "1980-01-02"])
                        | st.text(max_size=10), max_size=12).map("".join) | st.text(max_size=60))
def test_barcode_payloads(payload: str) -> None:
    fields = parse_barcode(payload)
    assert set(fields) <= {"MRN", "DOB", "TYPE", "NAME", "SEX", "ACCT"}


SETTING_NAMES = st.sampled_from(sorted(Settings.model_fields)) | st.text(max_size=10)
TOML_VALUES = st.integers() | st.floats(allow_nan=False) | st.booleans() | st.text(max_size=10) \
    | st.lists(st.integers(), max_size=2)


@given(values=st.dictionaries(SETTING_NAMES, TOML_VALUES, max_size=4) | st.just(None), raw=st.text(max_size=200))
def test_settings_files(folder, values, raw: str) -> None:
    home = folder / "home"
    home.mkdir(exist_ok=True)
    if values is None:
        text = raw
    else:
        text = "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in values.items())
    (home / "pipeline.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        settings = load_settings(home)
    except ConfigurationError as exc:
        assert exc.problems and all(exc.problems)
        return
    assert settings.home == home

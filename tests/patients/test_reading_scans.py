"""Layout-free reading on rendered scans really OCR'd by Tesseract: held-out layouts (a grid on a
fax, an unlabelled header on a page scanned sideways, surname and given name in fields of their own
on dark paper) file to the right patient; a twin's sticker
goes to review. Few and small: each page costs seconds of OCR."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline.ingest.intake import intake
from pipeline.ocr.engine import OcrEngine
from pipeline.patients.matcher import Matcher
from pipeline.records import MatchOutcome
from pipeline.synth import headers
from pipeline.synth.render import FAX, Degradation, render_pages, save_scan

from .conftest import CSV_HEADER, PATIENTS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OKAFOR = dict(zip(CSV_HEADER, PATIENTS[5], strict=True))  # OKAFOR, WILLIAM 1948-09-23, 10000006
JOHN = dict(zip(CSV_HEADER, PATIENTS[1], strict=True))  # HARTLEY, JOHN: JOAN is his twin
SIDEWAYS = Degradation(rotation=90, skew_degrees=1.0, noise=0.05)
DARK = Degradation(skew_degrees=2.0, noise=0.12, blur=0.8, background=232, speckles=60, edge_shadow=True)


@pytest.fixture(scope="module")
def ocr_engine():
    with OcrEngine(workers=1) as engine:
        yield engine


def _read(ocr_engine: OcrEngine, tmp_path: Path, person: dict, family: str, look: Degradation, dpi: int,
          part: headers.Part = headers.HELD_OUT):
    printed = headers.PrintedHeader(person["family_name"], person["given_name"],
                                    date.fromisoformat(person["birth_date"]).strftime("%m/%d/%Y"), "")
    doc = headers.header_document(person, random.Random(4), part, printed=printed, family=family)
    images = render_pages(list(doc.pages)[:1], dpi=dpi, degrade=look, font=doc.font)
    scan = save_scan(images[:1], tmp_path / f"{family}.png", created=datetime(2026, 1, 1, tzinfo=UTC))
    return ocr_engine.recognize(intake(scan, datetime.now(UTC)), tmp_path)


@pytest.mark.parametrize(("family", "look", "dpi"), [("grid", FAX, 300), ("unlabeled", SIDEWAYS, 250),
                                                     ("split_name", DARK, 300)])
def test_held_out_layout_scan_files_to_the_right_patient(index, ocr_engine, tmp_path: Path,
                                                         family: str, look: Degradation, dpi: int) -> None:
    part = next(p for p in (headers.HELD_OUT, headers.UNSEEN) if family in p.families)
    ocr = _read(ocr_engine, tmp_path, OKAFOR, family, look, dpi, part)
    ids, match = Matcher(index).identify(ocr)
    assert match.outcome is MatchOutcome.AUTO_FILE, match.reasons
    assert match.patient.mrn == "10000006"
    name = next(e for e in ids.evidence if e.field == "family_name")
    assert name.page == 1 and name.box is not None  # highlighted where it is printed


def test_a_twins_sticker_scan_goes_to_review(index, ocr_engine, tmp_path: Path) -> None:
    ocr = _read(ocr_engine, tmp_path, JOHN, "sticker", Degradation(skew_degrees=0.8, noise=0.05), 300)
    _, match = Matcher(index).identify(ocr)
    assert match.outcome is MatchOutcome.REVIEW
    assert {c.mrn for c in match.candidates[:2]} == {"10000002", "10000003"}

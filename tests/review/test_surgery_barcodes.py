"""Page surgery carries the barcodes read from the pages to the new versions, pages renumbered: a
split part keeps its patient label (and is matched by it), a turned page keeps its barcode, a dropped
page takes its own away. A synthetic scan really processed: page 1 a consult note of a patient the
index does not know, page 2 a medication list with a patient label (Code 128 of an MRN)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.records import Barcode
from pipeline.services import surgery
from pipeline.services.home import open_home
from pipeline.settings import load_settings
from pipeline.synth.render import render_pages, save_scan

from .conftest import run_cli

pytestmark = [pytest.mark.integration]

LABEL_MRN = "63275971"  # Katherine Herrera in samples/patients.csv
PAGES = ("# Consultation note\n> Name: QUIXANO, ALDONZA\n> DOB: 03/12/1947\n\nSeen in clinic for knee pain. "
         "Plan: physiotherapy, review in six weeks.",
         f"# Medication list\n{{{{barcode Code128 {LABEL_MRN}}}}}\n\nLisinopril 10 mg once daily\n"
         "Metformin 500 mg twice daily\nAtorvastatin 20 mg at night")
SCAN = "consult_and_labelled_list.pdf"


@pytest.fixture(scope="module")
def labelled_template(template_home, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("labelled") / "home"
    shutil.copytree(template_home, home)
    scan = save_scan(render_pages(PAGES, dpi=200, seed=3), home.parent / SCAN)
    run_cli("--home", str(home), "process", "--json", str(scan))
    return home


@pytest.fixture
def labelled(labelled_template, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(labelled_template, home)
    settings = load_settings(home)
    manifest, store = open_home(settings)
    [item] = [i for i in manifest.open_review_items() if manifest.get(i.document_id).original_name == SCAN]
    return manifest, store, surgery.load_indexer(settings, manifest), item


def test_the_scan_keeps_the_label_it_was_read_with(labelled):
    manifest, _, _, item = labelled
    doc = manifest.get(item.document_id)
    assert doc.pages == 2 and [(b.page, b.format, b.text) for b in doc.barcodes] == [(2, "Code128", LABEL_MRN)]
    assert doc.barcodes[0].box is not None


def test_a_split_part_keeps_its_label_renumbered_and_is_matched_by_it(labelled):
    manifest, store, indexer, item = labelled
    result = surgery.split(manifest, store, indexer, item.id, at=2, actor="clerk1", reason="two documents")
    first, second = (manifest.get(v.document_id) for v in result.versions)
    assert first.barcodes == ()
    [label] = second.barcodes
    assert (label.page, label.text) == (1, LABEL_MRN) and label.box == manifest.get(item.document_id).barcodes[0].box
    [mrn] = [e for e in second.source_patient_info.evidence if e.field == "mrn"]
    assert (mrn.source, mrn.page, mrn.value) == ("barcode", 1, LABEL_MRN)
    # an MRN alone never files; the label makes its patient the candidate the clerk confirms
    queued = manifest.review_item(result.versions[1].review_item_id)
    assert [c.mrn for c in queued.candidates][:1] == [LABEL_MRN]
    # the journal carries the barcodes, so a reindex keeps them
    assert json.loads(json.dumps(second.to_json()))["barcodes"] == [
        {"page": 1, "format": "Code128", "text": LABEL_MRN, "box": list(label.box)}]


def test_a_turned_page_keeps_its_barcode_without_the_old_box(labelled):
    manifest, store, indexer, item = labelled
    result = surgery.rotate(manifest, store, indexer, item.id, page=2, degrees=180, actor="clerk1", reason="upside down")
    [version] = result.versions
    assert manifest.get(version.document_id).barcodes == (Barcode(2, "Code128", LABEL_MRN, None),)


@pytest.mark.parametrize(("dropped", "left"), [(2, ()), (1, ((1, LABEL_MRN),))])
def test_a_dropped_page_takes_its_own_barcode_away(labelled, dropped, left):
    manifest, store, indexer, item = labelled
    result = surgery.drop_page(manifest, store, indexer, item.id, page=dropped, actor="clerk1", reason="stray page")
    [version] = result.versions
    assert tuple((b.page, b.text) for b in manifest.get(version.document_id).barcodes) == left

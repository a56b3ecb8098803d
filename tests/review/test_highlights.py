"""Each identifier the pipeline read is highlighted where it is on the page image the clerk sees.

The highlight is checked against the picture itself: the region of the served PNG under the MRN's
highlight is read again by Tesseract and must show the MRN's digits (and not the next field's).
Besides the sample scans of the session home, scans made here from `samples/scans/lab_report_mrn_only.png`
go through the real pipeline:

| case (helper)              | how it is made (a QR code "ACCT:5550001" pasted at the top right first)   |
|----------------------------|---------------------------------------------------------------------------|
| `upside_down_tilted`       | the page turned 183° by Pillow, saved as an image-only PDF at 200 dpi     |
| `sideways_rotate_and_crop` | stored turned 90° left with /Rotate 90 (shown upright), and a crop box    |

The QR code gives an account number from a barcode, which has no place in the text layer: the page
says it was not located on the page image.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
import pytesseract
import pytest
from PIL import Image

from pipeline.records import Evidence
from pipeline.review.highlights import for_document
from pipeline.services.home import open_home
from pipeline.settings import load_settings
from pipeline.synth.render import barcode_image
from .conftest import SAMPLES, run_cli

pytestmark = [pytest.mark.integration]

MRN_ONLY = "lab_report_mrn_only.png"  # "MRN: 97490116" in a label box, and an accession number
UNKNOWN = "consult_note_unknown_patient.pdf"  # "DOB: 04/17/1946   MRN: 82145347" on one line
ACCOUNT = "5550001"
CROP_MARGIN_PX = 6


def region(html: str, field: str) -> tuple[int, tuple[int, int, int, int], tuple[int, int]]:
    """(number, (left, top, right, bottom), page image size) of the highlight the field's row points to."""
    row = re.search(rf'<tr id="id-{field}">.*?</tr>', html, re.S)
    assert row, f"no row for {field}"
    link = re.search(r'href="#hl-(\d+)"', row.group(0))
    assert link, f"{field} is not highlighted: {row.group(0)}"
    number = int(link.group(1))
    svg = re.search(rf'<svg class="highlights" viewBox="0 0 (\d+) (\d+)"(?:(?!</svg>).)*id="hl-{number}"', html, re.S)
    box = re.search(rf'id="hl-{number}">.*?<rect class="box" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"',
                    html, re.S)
    assert svg and box
    x, y, w, h = (int(v) for v in box.groups())
    return number, (x, y, x + w, y + h), (int(svg.group(1)), int(svg.group(2)))


def text_under(png: bytes, box: tuple[int, int, int, int]) -> str:
    """What Tesseract reads in the box (a little margin around it) of the page image."""
    image = Image.open(io.BytesIO(png)).convert("L")
    left, top, right, bottom = box
    crop = image.crop((max(left - CROP_MARGIN_PX, 0), max(top - CROP_MARGIN_PX, 0),
                       right + CROP_MARGIN_PX, bottom + CROP_MARGIN_PX))
    crop = crop.resize((crop.width * 3, crop.height * 3), Image.Resampling.LANCZOS)
    return pytesseract.image_to_string(crop, config="--psm 7")


def assert_mrn_highlighted(clerk, item_id: int, mrn: str, not_in_box: str = "") -> str:
    page = clerk.get(f"/items/{item_id}")
    assert page.status_code == 200
    _, box, size = region(page.text, "mrn")
    png = clerk.get(f"/items/{item_id}/pages/1.png").content
    assert Image.open(io.BytesIO(png)).size == size  # the overlay's frame is the page image's
    read = re.sub(r"\D", "", text_under(png, box))
    assert mrn in read, f"the MRN highlight {box} shows {read!r}"
    if not_in_box:
        assert not_in_box not in read, f"the MRN highlight {box} also covers {not_in_box}"
    return page.text


def test_the_mrn_is_highlighted_where_it_is_printed(clerk, items):
    assert_mrn_highlighted(clerk, items[MRN_ONLY], "97490116")
    html = assert_mrn_highlighted(clerk, items[UNKNOWN], "82145347", not_in_box="04171946")
    # family and given name come from one place: one highlight, both rows point to it
    assert region(html, "family_name")[0] == region(html, "given_name")[0]
    assert region(html, "birth_date")[0] != region(html, "mrn")[0]
    assert 'id="show-highlights" checked' in html


def test_a_value_printed_often_is_highlighted_after_its_label_else_not_at_all(home, manifest, items):
    store = open_home(load_settings(home)).store
    doc = manifest.get(manifest.review_item(items["letter_namesake.jpg"]).document_id)

    def box_after(label: str) -> tuple[int, int, int, int]:  # "Richard Sanchez" is in the header and the letter
        found = for_document(store, doc, [Evidence("family_name", "Richard Sanchez", "text", 1, label=label)])
        assert len(found.regions) == 1
        return found.regions[0].box

    header, re_line = box_after("Patient:"), box_after("RE:")
    assert re_line[1] > header[3]  # "RE: Richard Sanchez" is lower on the page than "Patient: Richard Sanchez"
    unlabelled = Evidence("family_name", "Richard Sanchez", "text", 1, label="Name:")  # which of five? none
    missing = Evidence("mrn", "00000000", "text", 1, label="MRN:")
    assert for_document(store, doc, [unlabelled, missing]).regions == ()


def test_highlights_need_no_script_and_no_inline_style(clerk, items):
    response = clerk.get(f"/items/{items[UNKNOWN]}")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # the one script is the keyboard shortcuts' file, never inline; highlights work without it
    assert re.findall(r"<script[^>]*>", response.text) == ['<script src="/static/review.js" defer>']
    assert "style=" not in response.text


def scan_with_account_barcode() -> Image.Image:
    page = Image.open(SAMPLES / "scans" / MRN_ONLY).convert("L")
    page.paste(barcode_image(f"ACCT:{ACCOUNT}", module_px=6), (1250, 80))
    return page


def upside_down_tilted(path: Path) -> Path:
    page = scan_with_account_barcode().rotate(183, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    page.save(path, resolution=200)
    return path


def sideways_rotate_and_crop(path: Path) -> Path:
    scan_with_account_barcode().rotate(90, expand=True).save(path, resolution=200)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        page.Rotate = 90  # stored turned left, shown upright by any viewer
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        page.CropBox = [x0 + 30, y0 + 20, x1 - 12, y1 - 40]
        pdf.save(path)
    return path


@pytest.mark.parametrize("make", [upside_down_tilted, sideways_rotate_and_crop])
def test_the_mrn_highlight_lands_on_a_turned_scan(home, clerk, manifest, tmp_path, make):
    scan = make(tmp_path / f"{make.__name__}.pdf")
    run_cli("--home", str(home), "process", "--json", str(scan))
    item_id = next(item.id for item in manifest.open_review_items()
                   if manifest.get(item.document_id).original_name == scan.name)

    html = assert_mrn_highlighted(clerk, item_id, "97490116")

    account = re.search(r'<tr id="id-account">.*?</tr>', html, re.S)
    assert account and ACCOUNT in account.group(0)
    assert "read from a barcode" in account.group(0) and "not located on the page image" in account.group(0)
    assert 'href="#hl-' not in account.group(0)

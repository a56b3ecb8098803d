"""Patient cover sheets: the barcode payload, reading it back, and printing the sheet.

    cover_payload(mrn, doc_type=None, date_of_service=None) -> "MRN:123456|TYPE:18842-5|DOS:2024-03-01"
    read_cover(text) -> CoverSheet | None
    render_cover_sheet(label) -> PIL image (US letter, 300 dpi, 1-bit);  save_pdf(images, path)

The payload is the format `pipeline.patients.extract` defines (keys MRN, TYPE, ...; `|`
separated) with one more key it does not need, DOS (date of service, ISO). It carries the MRN
only, never the birth date or name: the sheet is printed from the patient index, so a second
identifier on it would only repeat the index, and an MRN typed wrong would then look confirmed.
The name, birth date and MRN are printed in large type for the clerk to check against the chart;
the document's own pages must still give the matcher a second identifier.

A barcode is a cover sheet when its payload is in key:value form with an MRN (a bare MRN, as on a
patient label stuck to a page, is not: it does not start a document).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.patients.extract import parse_barcode
from pipeline.records import CoverSheet

DPI = 300
PAGE_IN = (8.5, 11.0)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_DOS = re.compile(r"(?:^|[|;])\s*DOS\s*:\s*(\d{4}-\d{2}-\d{2})\s*(?:$|[|;])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CoverLabel:
    """What a printed cover sheet shows."""

    mrn: str
    family_name: str
    given_name: str
    birth_date: date | None
    doc_type: str | None = None  # LOINC code
    type_display: str | None = None
    date_of_service: date | None = None


def cover_payload(mrn: str, doc_type: str | None = None, date_of_service: date | None = None) -> str:
    if not mrn or any(c in mrn for c in "|;:"):
        raise ValueError("an MRN must be non-empty and hold no '|', ';' or ':'")
    fields = [f"MRN:{mrn}"]
    if doc_type:
        fields.append(f"TYPE:{doc_type}")
    if date_of_service:
        fields.append(f"DOS:{date_of_service.isoformat()}")
    return "|".join(fields)


def read_cover(text: str) -> CoverSheet | None:
    """The cover sheet a barcode's text stands for, or None when it is not one."""
    if ":" not in text:
        return None
    fields = parse_barcode(text)
    mrn = fields.get("MRN")
    if not mrn:
        return None
    found = _DOS.search(text.strip())
    dos = None
    if found:
        try:
            dos = date.fromisoformat(found.group(1))
        except ValueError:
            dos = None
    return CoverSheet(mrn=mrn, doc_type=fields.get("TYPE"), date_of_service=dos)


# ------------------------------------------------------------------------------------ printing


def render_cover_sheet(label: CoverLabel) -> Image.Image:
    """The sheet: a heading, the QR code, then name, birth date and MRN in large type."""
    width, height = round(PAGE_IN[0] * DPI), round(PAGE_IN[1] * DPI)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    margin = DPI  # 1 in
    y = margin
    draw.text((margin, y), "PATIENT COVER SHEET", font=_font(True, 30), fill=0)
    y += round(0.7 * DPI)
    draw.text((margin, y), "Place on top of the document. Do not write in the barcode area.",
              font=_font(False, 13), fill=0)
    y += round(0.5 * DPI)
    code = _qr(cover_payload(label.mrn, label.doc_type, label.date_of_service))
    page.paste(code, (margin, y))
    y += code.height + round(0.4 * DPI)
    lines = [
        (f"{label.family_name.upper()}, {label.given_name}", True, 34),
        (f"Born {label.birth_date:%d %b %Y}" if label.birth_date else "Born: not in the index", False, 28),
        (f"MRN {label.mrn}", True, 34),
    ]
    if label.doc_type:
        lines.append((f"Document: {label.type_display or ''} ({label.doc_type})".replace(" ()", ""), False, 20))
    if label.date_of_service:
        lines.append((f"Date of service: {label.date_of_service:%d %b %Y}", False, 20))
    for text, bold, points in lines:
        draw.text((margin, y), text, font=_font(bold, points), fill=0)
        y += round(points / 72 * DPI * 1.5)
    image = page.point(lambda v: 255 if v > 127 else 0).convert("1")
    image.info["dpi"] = (DPI, DPI)
    return image


def save_pdf(images: Sequence[Image.Image], path: Path) -> Path:
    """Write the sheets as one PDF (one page each, at their resolution), atomically."""
    if not images:
        raise ValueError("no cover sheets to write")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    try:
        first, *rest = images
        first.save(partial, format="PDF", save_all=True, append_images=rest, resolution=DPI)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _qr(payload: str) -> Image.Image:
    import zxingcpp  # the writer half; pipeline/ocr/barcodes.py reads

    barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode)
    import numpy as np

    array = np.asarray(barcode.to_image(scale=12, add_quiet_zones=True))
    return Image.fromarray(np.ascontiguousarray(array), mode="L")


def _font(bold: bool, points: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    size = round(points / 72 * DPI)
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default(size)

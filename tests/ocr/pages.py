"""Tiny test inputs drawn at test time (no files in the repo).

| fixture / helper | how it is made |
|---|---|
| `draw_page(lines)` | white 8-bit canvas, DejaVu Sans 40 px (about 10 pt at 300 dpi), one line each |
| `save_pdf(images, path)` | Pillow's PDF writer: image-only pages, no text layer |
| `born_digital_pdf(path, lines)` | reportlab canvas with real text (a text layer) |
| `document(path)` | an IncomingDocument for a file, typed by its suffix |
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.records import IncomingDocument

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
MEDIA = {".pdf": "application/pdf", ".tif": "image/tiff", ".tiff": "image/tiff",
         ".png": "image/png", ".jpg": "image/jpeg"}

TEXT = ["Discharge summary for the patient", "Admitted with chest pain and shortness",
        "of breath. Follow up in cardiology clinic", "Medication: aspirin and metoprolol daily"]


def draw_page(lines: Sequence[str], width: int = 1400, font_size: int = 40) -> Image.Image:
    font = ImageFont.truetype(FONT, font_size)
    step = int(font_size * 1.6)
    image = Image.new("L", (width, step * len(lines) + 160), 255)
    canvas = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        canvas.text((80, 80 + i * step), line, font=font, fill=0)
    image.info["dpi"] = (300, 300)
    return image


def save_pdf(images: Sequence[Image.Image], path: Path) -> Path:
    images[0].save(path, save_all=True, append_images=list(images[1:]), resolution=300)
    return path


def born_digital_pdf(path: Path, pages: Sequence[Sequence[str]]) -> Path:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=letter)
    for lines in pages:
        pdf.setFont("Helvetica", 12)
        for i, line in enumerate(lines):
            pdf.drawString(72, 720 - 18 * i, line)
        pdf.showPage()
    pdf.save()
    return path


def document(path: Path, media_type: str | None = None) -> IncomingDocument:
    data = path.read_bytes()
    return IncomingDocument(source=path, original_name=path.name,
                            sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                            media_type=media_type or MEDIA[path.suffix],
                            received_at=datetime.now(UTC))


def words_of(text: str) -> set[str]:
    return {w.strip(".,:;").lower() for w in text.split() if w.strip(".,:;")}

"""Generated clinical pages for the OCR benchmarks (pipeline.synth.render), cached under /tmp.

Each page is two or three generated documents run together so that a page is as full as a real
clinical note; the ground truth of each sheet is its `image.info["text"]`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from pipeline.synth.documents import DOCUMENT_TYPES, generate_document
from pipeline.synth.render import CLEAN, OFFICE_SCAN, Degradation, render_pages, save_scan

CACHE = Path("/tmp/pipeline-ocr-bench")
OFFICE = OFFICE_SCAN
CLINICAL = [t for t in DOCUMENT_TYPES if t not in ("insurance_card", "other")]


def page_texts(count: int, seed: int = 2026) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        docs = [generate_document(rng.choice(CLINICAL), rng) for _ in range(rng.choice((2, 3)))]
        texts.append("\n\n".join(docs))
    return texts


def sheets(count: int, degrade: Degradation = CLEAN, seed: int = 2026, dpi: int = 300) -> list[Image.Image]:
    """Exactly `count` rendered sheets (a long page string may fill more than one)."""
    out: list[Image.Image] = []
    batch = page_texts(count + 4, seed)
    for i, text in enumerate(batch):
        out += render_pages([text], dpi=dpi, seed=seed + i, degrade=degrade)
        if len(out) >= count:
            break
    return out[:count]


def scan_file(name: str, count: int, degrade: Degradation = CLEAN, seed: int = 2026,
              dpi: int = 300) -> tuple[Path, list[str]]:
    """A cached multi-page scan (suffix picks the format) and each sheet's ground truth."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / name
    truth_file = path.with_name(path.name + ".truth.json")
    if path.exists() and truth_file.exists():
        return path, json.loads(truth_file.read_text())
    images = sheets(count, degrade, seed, dpi)
    save_scan(images, path)
    truth = [image.info["text"] for image in images]
    truth_file.write_text(json.dumps(truth))
    return path, truth


def incoming(path: Path):
    import hashlib
    from datetime import UTC, datetime

    from pipeline.records import IncomingDocument

    media = {".pdf": "application/pdf", ".tif": "image/tiff", ".png": "image/png",
             ".jpg": "image/jpeg"}[path.suffix]
    digest = hashlib.sha256()
    with path.open("rb") as handle:  # in blocks: reading a 200-page scan at once would count
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return IncomingDocument(source=path, original_name=path.name, sha256=digest.hexdigest(),
                            size=path.stat().st_size, media_type=media,
                            received_at=datetime.now(UTC))


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)

"""`pipeline ocr [--json] FILE`: OCR one file and print its text, page by page."""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import EmptyFileError, NotFoundError, UnsupportedFormatError
from pipeline.ocr.engine import OcrEngine
from pipeline.records import IncomingDocument, OcrResult
from pipeline.settings import Settings

#: leading bytes -> media type, for the inputs OCR reads
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ocr", help="OCR one file (PDF, TIFF, PNG, JPEG) and print its text")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true",
                        help='print {"pages":[{"number","text","confidence","rotation"}],"text"}')
    parser.set_defaults(handler=cmd_ocr)


def cmd_ocr(args: argparse.Namespace, settings: Settings) -> int:
    doc = incoming(args.file)
    with OcrEngine.from_settings(settings) as engine, \
            tempfile.TemporaryDirectory(prefix="pipeline-ocr-") as tmp:
        result = engine.recognize(doc, Path(tmp))
    if args.json:
        print(json.dumps(to_json(result)))
    else:
        for page in result.pages:
            print(f"--- page {page.number}  confidence {page.confidence:.0f}  "
                  f"rotation {page.rotation}  skew {page.skew:+.1f}  ({page.source})")
            print(page.text)
        for reason in result.reasons:
            print(f"note: {reason}")
    return 0


def to_json(result: OcrResult) -> dict:
    return {
        "pages": [
            {"number": p.number, "text": p.text, "confidence": round(p.confidence, 2),
             "rotation": p.rotation, "skew": p.skew, "source": p.source,
             "barcodes": [{"format": b.format, "text": b.text} for b in p.barcodes]}
            for p in result.pages
        ],
        "text": result.text,
        "confidence": round(result.confidence, 2),
        "engine": result.engine,
        "reasons": list(result.reasons),
    }


def incoming(path: Path) -> IncomingDocument:
    """An IncomingDocument for a file named on the command line, typed by its first bytes."""
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file; check the path")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        head = handle.read(16)
        digest.update(head)
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if not head:
        raise EmptyFileError(f"{path.name}: the file is empty; scan it again")
    media_type = next((media for magic, media in _MAGIC if head.startswith(magic)), None)
    if media_type is None:
        raise UnsupportedFormatError(
            f"{path.name}: not a PDF, TIFF, PNG or JPEG; convert it to one of those"
        )
    return IncomingDocument(source=path, original_name=path.name, sha256=digest.hexdigest(),
                            size=path.stat().st_size, media_type=media_type,
                            received_at=datetime.now(UTC))

"""`pipeline ocr [--json] FILE`: OCR one file and print its text, page by page (a thin adapter over
`pipeline.services.scan`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.records import OcrResult
    from pipeline.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ocr", help="OCR one file (PDF, TIFF, PNG, JPEG) and print its text")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true",
                        help='print {"pages":[{"number","text","confidence","rotation"}],"text"}')
    parser.set_defaults(handler=cmd_ocr)


def cmd_ocr(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services.scan import read_scan

    result = read_scan(args.file, settings, text_only=True)  # only the text is shown
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

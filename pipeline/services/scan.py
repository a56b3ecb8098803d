"""Read a scan a person names: intake's checks, then OCR, in a scratch folder that is removed after."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline.clock import Clock, utc_now
from pipeline.ingest.intake import intake_one
from pipeline.ocr.engine import OcrEngine
from pipeline.records import IncomingDocument, OcrResult
from pipeline.settings import Settings


def incoming(path: Path, clock: Clock = utc_now) -> IncomingDocument:
    """An IncomingDocument for a file named on the command line (intake's checks; errors raised)."""
    return intake_one(path, clock())


def recognize(engine: OcrEngine, path: Path, clock: Clock = utc_now) -> OcrResult:
    """OCR one file with an engine already started (for many files in a row)."""
    doc = incoming(path, clock)
    with tempfile.TemporaryDirectory(prefix="pipeline-scan-") as tmp:
        return engine.recognize(doc, Path(tmp))


def read_scan(path: Path, settings: Settings, clock: Clock = utc_now, *, text_only: bool = False) -> OcrResult:
    """OCR one file with an engine started for it and closed after (`text_only`: no searchable PDF)."""
    doc = incoming(path, clock)
    if text_only:
        settings = settings.model_copy(update={"ocr_searchable_pdf": False})
    with OcrEngine.from_settings(settings) as engine, tempfile.TemporaryDirectory(prefix="pipeline-scan-") as tmp:
        return engine.recognize(doc, Path(tmp))


class ScanReader:
    """path -> OCR text, for many scans in a row; starts the OCR engine when the first scan needs it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: OcrEngine | None = None

    def __call__(self, path: Path) -> str:
        if self.engine is None:
            self.engine = OcrEngine.from_settings(self.settings)
        return recognize(self.engine, path).text

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()

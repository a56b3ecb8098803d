"""Print patient cover sheets: the clerk's separator that also names the chart the pages belong to.

The patient must be in the index (a merged-away MRN prints the survivor's). The sheet's barcode
carries the MRN (and the type and date of service when given); the name and birth date are printed
from the index, for the clerk to check before the sheet goes on a chart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.classify.types import TypeList, load_types
from pipeline.errors import InputError
from pipeline.ingest.coversheet import CoverLabel, render_cover_sheet, save_pdf
from pipeline.patients.lookup import patient_id_for_mrn, summary
from pipeline.services.home import open_database
from pipeline.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SheetRequest:
    mrn: str
    doc_type: str | None = None  # type key or LOINC code
    date_of_service: date | None = None


def print_cover_sheets(settings: Settings, requests: Iterable[SheetRequest], out: Path) -> int:
    """Write one PDF with a sheet per request; returns how many. Unknown MRN: NotFoundError."""
    types = load_types(settings.types_path)
    engine = open_database(settings)
    try:
        labels = [_label(engine, request, types) for request in requests]
    finally:
        engine.dispose()
    save_pdf([render_cover_sheet(label) for label in labels], out)
    log.info("wrote %d cover sheet(s)", len(labels))
    return len(labels)


def _label(engine, request: SheetRequest, types: TypeList) -> CoverLabel:
    patient = summary(engine, patient_id_for_mrn(engine, request.mrn))
    loinc = _loinc(types, request.doc_type)
    display = next((t.display for t in types if t.loinc == loinc), None)
    return CoverLabel(patient.mrn or request.mrn, patient.family or "", (patient.given or "").title(),
                      patient.birth_date, loinc, display, request.date_of_service)


def _loinc(types: TypeList, doc_type: str | None) -> str | None:
    if not doc_type:
        return None
    for known in types:
        if doc_type in (known.key, known.loinc):
            return known.loinc
    raise InputError(f"unknown document type {doc_type!r}", hint="use a key or LOINC code that `pipeline types` lists")

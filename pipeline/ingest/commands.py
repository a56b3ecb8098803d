"""Sub-commands of the ingest stage: `pipeline coversheet`.

    pipeline coversheet --patient MRN [--type TYPE] [--date-of-service D] OUT.pdf
    pipeline coversheet --batch SHEETS.csv OUT.pdf      (columns: mrn, type, date_of_service)

The patient must be in the index (a merged-away MRN prints the surviving one). TYPE is a type key
(`pipeline types`) or its LOINC code. Handlers take `(args, settings)` and return an exit code.
"""

from __future__ import annotations

import argparse
import csv
import logging
from datetime import date
from pathlib import Path

from pipeline.errors import EXIT_OK, InputError, NotFoundError

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    sheet = subparsers.add_parser("coversheet", help="print patient cover sheets (barcode, name, birth date, MRN)")
    which = sheet.add_mutually_exclusive_group(required=True)
    which.add_argument("--patient", metavar="MRN", help="the patient's MRN")
    which.add_argument("--batch", type=Path, metavar="FILE.csv",
                       help="one sheet per row; columns mrn, type (optional), date_of_service (optional)")
    sheet.add_argument("--type", dest="doc_type", help="document type key or LOINC code")
    sheet.add_argument("--date-of-service", type=_iso_date, metavar="YYYY-MM-DD")
    sheet.add_argument("out", type=Path, metavar="OUT.pdf")
    sheet.set_defaults(handler=cmd_coversheet)


def cmd_coversheet(args: argparse.Namespace, settings) -> int:
    from pipeline.classify.types import load_types
    from pipeline.ingest.coversheet import render_cover_sheet, save_pdf
    from pipeline.store.database import make_engine, migrate

    wanted = _batch_rows(args.batch) if args.batch else [(args.patient, args.doc_type, args.date_of_service)]
    types = load_types(settings.types_path)
    settings.ensure_folders()
    migrate(settings.database)
    engine = make_engine(settings.database)
    try:
        with engine.connect() as conn:
            labels = [_label(conn, mrn, _loinc(types, doc_type), types, dos) for mrn, doc_type, dos in wanted]
    finally:
        engine.dispose()
    save_pdf([render_cover_sheet(label) for label in labels], args.out)
    log.info("wrote %d cover sheet(s) to %s", len(labels), args.out)
    print(f"{args.out}: {len(labels)} cover sheet(s)")
    return EXIT_OK


def _label(conn, mrn: str, loinc: str | None, types, dos: date | None):
    from sqlalchemy import select

    from pipeline.ingest.coversheet import CoverLabel
    from pipeline.patients.index import primary_mrn, resolve
    from pipeline.patients.tables import MRN_TYPE, NAME_OFFICIAL, Name, Patient

    pid = resolve(conn, mrn, MRN_TYPE)
    if pid is None:
        raise NotFoundError("no patient with the MRN given (--patient or the CSV) is in the index; check the number or import the patient first")
    names = conn.execute(select(Name.family, Name.given, Name.use).where(Name.patient_id == pid)).all()
    official = [n for n in names if n.use == NAME_OFFICIAL] or names
    family, given = (official[0].family, official[0].given) if official else ("", "")
    birth_date = conn.execute(select(Patient.birth_date).where(Patient.id == pid)).scalar()
    display = next((t.display for t in types if t.loinc == loinc), None)
    return CoverLabel(primary_mrn(conn, pid) or mrn, family, given.title(), birth_date, loinc, display, dos)


def _loinc(types, doc_type: str | None) -> str | None:
    if not doc_type:
        return None
    for known in types:
        if doc_type in (known.key, known.loinc):
            return known.loinc
    raise InputError(f"unknown document type {doc_type!r}",
                     hint="use a key or LOINC code that `pipeline types` lists")


def _batch_rows(path: Path) -> list[tuple[str, str | None, date | None]]:
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file; check the path")
    rows: list[tuple[str, str | None, date | None]] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            mrn = (row.get("mrn") or "").strip()
            if not mrn:
                raise InputError(f"{path.name}: line {number} has no mrn", hint="fill the mrn column on every row")
            when = (row.get("date_of_service") or "").strip()
            try:
                dos = date.fromisoformat(when) if when else None
            except ValueError:
                raise InputError(f"{path.name}: line {number}: date_of_service {when!r} is not YYYY-MM-DD",
                                 hint="write dates as 2024-03-01") from None
            rows.append((mrn, (row.get("type") or "").strip() or None, dos))
    if not rows:
        raise InputError(f"{path.name}: no rows", hint="give a header line mrn,type,date_of_service and one row per sheet")
    return rows


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None

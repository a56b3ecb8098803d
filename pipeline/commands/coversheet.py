"""`pipeline coversheet`: print patient cover sheets (the use case is `services.coversheets`).

    pipeline coversheet --patient MRN [--type TYPE] [--date-of-service D] OUT.pdf
    pipeline coversheet --batch SHEETS.csv OUT.pdf      (columns: mrn, type, date_of_service)

The patient must be in the index (a merged-away MRN prints the surviving one). TYPE is a type key
(`pipeline types`) or its LOINC code. Handlers take `(args, settings)` and return an exit code.
"""

from __future__ import annotations

import argparse
import csv
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import EXIT_OK, InputError, NotFoundError

if TYPE_CHECKING:
    from pipeline.services.coversheets import SheetRequest


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
    from pipeline.services.coversheets import SheetRequest, print_cover_sheets

    wanted = (_batch_rows(args.batch) if args.batch
              else [SheetRequest(args.patient, args.doc_type, args.date_of_service)])
    count = print_cover_sheets(settings, wanted, args.out)
    print(f"{args.out}: {count} cover sheet(s)")
    return EXIT_OK


def _batch_rows(path: Path) -> list[SheetRequest]:
    from pipeline.services.coversheets import SheetRequest

    if not path.is_file():
        raise NotFoundError(f"{path}: no such file; check the path")
    rows: list[SheetRequest] = []
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
            rows.append(SheetRequest(mrn, (row.get("type") or "").strip() or None, dos))
    if not rows:
        raise InputError(f"{path.name}: no rows", hint="give a header line mrn,type,date_of_service and one row per sheet")
    return rows


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None

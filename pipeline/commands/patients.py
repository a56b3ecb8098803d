"""Sub-commands of the patients stage: `patients import`, `match`, `adt listen`, `adt apply`.

Handlers take `(args, settings)` and return an exit code; `cli.py` calls `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from datetime import date
from pathlib import Path

from pipeline.errors import InputError, PatientIndexError
from pipeline.records import DocumentIdentifiers, OcrPage, OcrResult, PatientMatch

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    patients = subparsers.add_parser("patients", help="the patient index")
    patients_sub = patients.add_subparsers(dest="patients_command", required=True)
    imp = patients_sub.add_parser("import", help="load patients from CSV, FHIR (Bundle/NDJSON) or HL7 v2")
    imp.add_argument("file", type=Path)
    imp.add_argument("--json", action="store_true", help="print {imported, updated, rejected} as JSON")
    imp.set_defaults(handler=cmd_import)

    match = subparsers.add_parser("match", help="match identifiers (or a document) to the patient index")
    match.add_argument("--family", help="family name")
    match.add_argument("--given", help="given name")
    match.add_argument("--dob", help="birth date (YYYY-MM-DD or any US form)")
    match.add_argument("--mrn")
    match.add_argument("--sex", choices=["M", "F", "U", "m", "f", "u"])
    match.add_argument("--phone")
    match.add_argument("--address")
    match.add_argument("--postcode")
    match.add_argument("--document", type=Path,
                       help="read the identifiers from a scan (PDF, TIFF, PNG, JPEG: OCR'd), "
                            "`pipeline ocr --json` output, or plain text")
    match.add_argument("--json", action="store_true")
    match.set_defaults(handler=cmd_match)

    adt = subparsers.add_parser("adt", help="HL7 v2 ADT feed")
    adt_sub = adt.add_subparsers(dest="adt_command", required=True)
    listen = adt_sub.add_parser("listen", help="MLLP listener answering ACK/NAK (TLS, limits: PIPELINE_ADT_* settings)")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=2575)
    listen.set_defaults(handler=cmd_adt_listen)
    apply = adt_sub.add_parser("apply", help="apply the ADT messages of a file, in order")
    apply.add_argument("file", type=Path)
    apply.add_argument("--json", action="store_true")
    apply.set_defaults(handler=cmd_adt_apply)


def _engine(settings):
    from pipeline.services.home import open_database

    return open_database(settings)


def cmd_import(args: argparse.Namespace, settings) -> int:
    from pipeline.patients.importer import import_file

    report = import_file(args.file, _engine(settings))
    for error in report.errors:
        print(f"{args.file.name}: {error}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps(report.to_json()))
    else:
        print(f"imported {report.imported}, updated {report.updated}, rejected {report.rejected}")
    return 0


_SCAN_SIGNATURES = (b"%PDF", b"II*\x00", b"MM\x00*", b"\x89PNG", b"\xff\xd8\xff")


def _document(args: argparse.Namespace, settings) -> OcrResult:
    """--document FILE as an OCR result: a scan is OCR'd, `pipeline ocr --json` output read back,
    anything else taken as plain text (one page)."""
    try:
        head = args.document.read_bytes()[:8]
        text = "" if head.startswith(_SCAN_SIGNATURES) else args.document.read_text(encoding="utf-8",
                                                                                   errors="replace")
    except OSError as exc:
        raise InputError(f"{args.document}: cannot be read ({exc.strerror})", hint="check the path") from exc
    if head.startswith(_SCAN_SIGNATURES):
        return _ocr_from_scan(args.document, settings)
    if text.lstrip().startswith("{"):
        return _ocr_from_json(args.document, text)
    pages = tuple(OcrPage(number=i + 1, text=page, confidence=-1.0) for i, page in enumerate(text.split("\f")))
    return OcrResult(pages=pages, searchable_pdf=None, engine="text")


def _identifiers(args: argparse.Namespace) -> DocumentIdentifiers:
    from pipeline.patients import normalize

    birth = None
    if args.dob:
        parsed = normalize.parse_date(args.dob)
        if parsed is None:
            raise InputError(f"--dob {args.dob!r}: not a date", hint="give it as YYYY-MM-DD")
        birth = parsed[0]
    if not any([args.family, args.given, birth, args.mrn, args.phone]):
        raise InputError("match: no identifiers given", hint="pass --family/--given/--dob/--mrn or --document FILE")
    return DocumentIdentifiers(
        family_name=normalize.name(args.family) or None, given_name=normalize.name(args.given) or None,
        birth_date=birth, mrn=normalize.identifier(args.mrn) or None, sex=normalize.sex(args.sex),
        phone=normalize.phone(args.phone) or None, address=args.address, postcode=args.postcode,
    )


def _ocr_from_scan(path: Path, settings) -> OcrResult:
    """A scan (PDF, TIFF, PNG, JPEG): intake and OCR as `pipeline process` would."""
    from pipeline.services.scan import read_scan

    return read_scan(path, settings)


def _ocr_from_json(path: Path, text: str) -> OcrResult:
    """`pipeline ocr --json` output: {"pages": [{"number", "text", ...}], ...}; barcodes if listed."""
    from pipeline.records import Barcode

    try:
        data = json.loads(text)
        pages = tuple(
            OcrPage(number=int(p.get("number", i + 1)), text=str(p.get("text", "")),
                    confidence=float(p.get("confidence", -1.0)),
                    barcodes=tuple(Barcode(int(p.get("number", i + 1)), str(b.get("format", "")), str(b.get("text", "")))
                                   for b in p.get("barcodes", []) if isinstance(b, dict)))
            for i, p in enumerate(data["pages"])
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path}: not OCR JSON (expected the output of `pipeline ocr --json`)",
                         hint="or give a plain text file") from exc
    return OcrResult(pages=pages, searchable_pdf=None, engine="json")


def match_to_json(match: PatientMatch, *, show_names: bool = True) -> dict:
    return {
        "outcome": str(match.outcome),
        "patient_id": match.patient.patient_id if match.patient else None,
        "patient_mrn": match.patient.mrn if match.patient else None,
        "probability": round(match.patient.probability, 6) if match.patient else None,
        "reasons": list(match.reasons),
        "candidates": [
            {
                "patient_id": c.patient_id,
                "mrn": c.mrn,
                "probability": round(c.probability, 6),
                "match_weight": c.match_weight,
                "fields": {k: str(v) for k, v in c.fields.items()},
                **({"display_name": c.display_name} if show_names else {}),
            }
            for c in match.candidates
        ],
    }


def cmd_match(args: argparse.Namespace, settings) -> int:
    from pipeline.patients.matcher import Matcher

    matcher = Matcher.from_settings(settings, _engine(settings))
    if args.document:  # read as the pipeline reads it: labels and the header zones
        ids, result = matcher.identify(_document(args, settings))
    else:
        ids = _identifiers(args)
        result = matcher.match(ids)
    data = match_to_json(result)
    if getattr(args, "json", False):
        data["identifiers"] = {k: (v.isoformat() if isinstance(v, date) else v)
                               for k in ids.present() + ["postcode"] if (v := getattr(ids, k))}
        print(json.dumps(data))
    else:
        print(f"{data['outcome']}: " + "; ".join(data["reasons"]))
        for c in data["candidates"]:
            fields = ", ".join(f"{k} {v}" for k, v in c["fields"].items())
            print(f"  {c['mrn']:<12} p={c['probability']:.4f} w={c['match_weight']:.1f}  {fields}")
    return 0


def cmd_adt_apply(args: argparse.Namespace, settings) -> int:
    from pipeline.patients.adt import AdtProcessor
    from pipeline.patients.importer import split_hl7

    try:
        text = args.file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise PatientIndexError(f"{args.file}: cannot be read ({exc.strerror})", hint="check the path") from exc
    processor = AdtProcessor(_engine(settings))
    failed = 0
    for number, message in enumerate(split_hl7(text), start=1):
        outcome = processor.apply(message)
        failed += not outcome.accepted
        line = {"message": number, "control_id": outcome.control_id, "event": outcome.event,
                "ack": outcome.code, "reason": outcome.reason}
        if getattr(args, "json", False):
            print(json.dumps(line))
        else:
            print(f"message {number} {outcome.event} {outcome.control_id}: {outcome.code} {outcome.reason}")
    if failed:
        raise PatientIndexError(f"{args.file}: {failed} message(s) could not be applied",
                                hint="see the reasons above, fix and send them again")
    return 0


def cmd_adt_listen(args: argparse.Namespace, settings) -> int:
    from pipeline.patients.adt import AdtProcessor
    from pipeline.patients.mllp import ListenerConfig, serve

    config = ListenerConfig.from_settings(settings)  # bad TLS files stop it here, exit 2
    processor = AdtProcessor(_engine(settings))
    print(f"listening for MLLP{' over TLS' if config.tls else ''} on {args.host}:{args.port}", file=sys.stderr)

    async def listen() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):  # stop cleanly: open connections closed, none cut mid-message
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await serve(processor, args.host, args.port, config, stop=stop)

    asyncio.run(listen())
    log.info("MLLP listener stopped")
    return 0

"""Sub-commands over filed documents: search, get, refile, export, import, release, audit, reindex.

A thin adapter: each handler `(args, settings) -> int` parses, calls one use case of
`pipeline.services` and prints its result. The acting user is `--user`, else $USER; every view,
download, export, refile and release lands in the append-only access log with the reason given.
Each handler imports the use case it calls: mounting these commands (every `pipeline` run) loads none.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import EXIT_OK, AuditFailedError, NotFoundError

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store.rows import StoredDocument


def register(subparsers: Any) -> None:
    def add(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, help=help_text)
        parser.add_argument("--user", help="who is acting, for the access log (default: $USER)")
        parser.set_defaults(handler=handler)
        return parser

    search = add("search", "find filed documents by patient, type, date of service and text", cmd_search)
    search.add_argument("--patient", metavar="MRN")
    search.add_argument("--type", dest="doc_type", metavar="TYPE", help="document type, e.g. discharge_summary")
    search.add_argument("--from", dest="date_from", type=date.fromisoformat, metavar="YYYY-MM-DD")
    search.add_argument("--to", dest="date_to", type=date.fromisoformat, metavar="YYYY-MM-DD")
    search.add_argument("--text", help="words that must all appear in the OCR text")
    search.add_argument("--all", action="store_true", help="include entries marked entered-in-error")
    search.add_argument("--limit", type=int, help="at most this many (default: the search's own limit)")
    search.add_argument("--json", action="store_true")

    get = add("get", "show one document's manifest entry (and save its PDF with --out)", cmd_get)
    get.add_argument("document_id", metavar="ID")
    get.add_argument("--out", type=Path, metavar="FILE", help="write the document here (logged as a download)")
    get.add_argument("--original", action="store_true", help="with --out: the untouched original scan")
    get.add_argument("--reason", help="why you are looking (goes into the access log)")
    get.add_argument("--json", action="store_true")
    get.add_argument("--fhir", action="store_true", help="print the entry as a FHIR R4 DocumentReference")

    refile = add("refile", "move a misfiled document to the right patient (the old entry stays, "
                           "marked entered-in-error)", cmd_refile)
    refile.add_argument("document_id", metavar="ID")
    refile.add_argument("--patient", required=True, metavar="MRN")
    refile.add_argument("--reason", required=True)
    refile.add_argument("--json", action="store_true")

    export = add("export", "`export DIR`: full backup; `export fhir OUT.ndjson`: FHIR DocumentReferences",
                 cmd_export)
    export.add_argument("target", metavar="DIR|fhir")
    export.add_argument("out", nargs="?", type=Path, metavar="OUT.ndjson")
    export.add_argument("--json", action="store_true")

    restore = add("import", "restore a `pipeline export DIR` folder into an empty home: every file verified "
                            "first, all or nothing, audited after", cmd_import)
    restore.add_argument("source", type=Path, metavar="DIR")
    restore.add_argument("--json", action="store_true")

    rel = add("release", "release of information: bundle a patient's documents and log the disclosure",
              cmd_release)
    rel.add_argument("--patient", required=True, metavar="MRN")
    rel.add_argument("--to", dest="recipient", required=True, metavar="REQUESTER")
    rel.add_argument("--purpose", required=True)
    rel.add_argument("out", type=Path, metavar="OUT.zip")
    rel.add_argument("--json", action="store_true")

    audit = add("audit", "check every stored object against the manifest; report orphans and deficiencies",
                cmd_audit)
    audit.add_argument("--quick", action="store_true",
                       help="compare the checksums the store recorded instead of reading every object back")
    audit.add_argument("--journal", action="store_true",
                       help="also check the store's NDJSON journal holds every manifest row (what reindex needs)")
    audit.add_argument("--json", action="store_true")

    reindex = add("reindex", "rebuild the manifest from the NDJSON journal in the object store", cmd_reindex)
    reindex.add_argument("--snapshot", action="store_true",
                         help="instead: write the whole manifest into the journal, so later reindexes start there")
    reindex.add_argument("--json", action="store_true")


# ------------------------------------------------------------------------------------ handlers


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import documents
    from pipeline.services.home import acting_user, open_home

    limit = {} if args.limit is None else {"limit": args.limit}
    docs = documents.search(open_home(settings).manifest, actor=acting_user(args.user), patient_mrn=args.patient,
                            doc_type=args.doc_type, date_from=args.date_from, date_to=args.date_to, text=args.text,
                            include_entered_in_error=args.all, **limit)
    if args.json:
        for doc in docs:
            _print_json(_summary(doc))
        return EXIT_OK
    if not docs:
        print("no documents match", file=sys.stderr)
        return EXIT_OK
    print(f"{'DOCUMENT':<36}  {'MRN':<12} {'TYPE':<26} {'SERVICE':<10}  {'PAGES':>5}  STATUS")
    for doc in docs:
        print(f"{doc.document_id:<36}  {doc.patient_mrn or '(review)':<12} {doc.doc_type or '-':<26} "
              f"{doc.date_of_service.isoformat() if doc.date_of_service else '-':<10}  {doc.pages:>5}  {doc.status}"
              + ("" if doc.type_confirmed or doc.patient_mrn is None else ", type unconfirmed"))
    return EXIT_OK


def cmd_get(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import documents
    from pipeline.services.home import acting_user, open_home
    from pipeline.store.fhir import document_reference

    home = open_home(settings)
    shown = documents.view(home.manifest, home.store, args.document_id, actor=acting_user(args.user),
                           reason=args.reason, out=args.out, original=args.original)
    doc, history = shown.document, list(shown.history)
    if args.fhir:
        _print_json(document_reference(doc, home.store.url))
        return EXIT_OK
    if args.json:
        _print_json({**doc.to_json(), "history": history})
        return EXIT_OK
    for name, value in _summary(doc).items():
        print(f"{name:<17} {value if value is not None else '-'}")
    print(f"{'original':<17} {doc.original_key}")
    print(f"{'searchable':<17} {doc.searchable_key or '-'}")
    if len(history) > 1:
        print(f"{'history':<17} {' -> '.join(history)}")
    for reason in doc.reasons:
        print(f"{'reason':<17} {reason}")
    return EXIT_OK


def cmd_refile(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import documents
    from pipeline.services.home import acting_user, open_home

    new = documents.refile(open_home(settings).manifest, args.document_id, patient_mrn=args.patient,
                           reason=args.reason, actor=acting_user(args.user))
    if args.json:
        _print_json({"document_id": new.document_id, "replaces": args.document_id, "patient_mrn": new.patient_mrn})
    else:
        print(f"refiled {args.document_id} -> {new.document_id} (MRN {new.patient_mrn}); "
              f"the old entry is now entered-in-error")
    return EXIT_OK


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import backup
    from pipeline.services.home import acting_user, open_home

    if args.target == "fhir" and args.out is None:
        raise NotFoundError("`export fhir` needs the output file: `pipeline export fhir OUT.ndjson` "
                            "(for a backup into a folder named fhir, write ./fhir)")
    home = open_home(settings)
    if args.target == "fhir":
        count = backup.export_fhir(home.manifest, home.store, args.out, actor=acting_user(args.user))
        result: dict[str, Any] = {"exported": count, "out": str(args.out)}
    elif args.out is None:
        counts = backup.export_home(home.manifest, home.store, Path(args.target), actor=acting_user(args.user))
        result = {"out": args.target, **counts.to_json()}
    else:
        raise NotFoundError(f"unknown export {args.target!r}: use `export DIR` or `export fhir OUT.ndjson`")
    _report(args, result)
    return EXIT_OK


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import backup
    from pipeline.services.home import acting_user, open_home

    if not args.source.is_dir():
        raise NotFoundError(f"{args.source}: no such folder; give a folder written by `pipeline export DIR`")
    home = open_home(settings)
    counts = backup.import_home(home.manifest, home.store, args.source, actor=acting_user(args.user))
    _report(args, {"source": str(args.source), **counts.to_json(), "audit": "clean"})
    return EXIT_OK


def cmd_release(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services.home import acting_user, open_home
    from pipeline.services.release import release

    home = open_home(settings)
    result = release(home.manifest, home.store, patient_mrn=args.patient, recipient=args.recipient,
                     purpose=args.purpose, out=args.out, actor=acting_user(args.user))
    _report(args, result.to_json())
    return EXIT_OK


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services.audit import audit
    from pipeline.services.home import open_home
    from pipeline.store.audit import format_table

    home = open_home(settings)
    report = audit(home.manifest, home.store, quick=args.quick, journal_check=args.journal)
    if args.json:
        _print_json(report.to_json())
    else:
        print(format_table(report))
    if report.damaged:
        damage = [f for f in report.findings if f.severity == "damage"]
        raise AuditFailedError(f"audit found {len(damage)} damaged or missing objects",
                               hint="restore them from a backup (`pipeline export` / `import`)")
    return EXIT_OK


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import backup
    from pipeline.services.home import open_home

    home = open_home(settings)
    if args.snapshot:
        key, count = backup.write_snapshot(home.manifest, home.store)
        _report(args, {"snapshot": key, "documents": count})
    else:
        _report(args, backup.reindex(home.manifest, home.store).to_json())
    return EXIT_OK


# ------------------------------------------------------------------------------------- helpers


def _summary(doc: StoredDocument) -> dict[str, Any]:
    return {"document_id": doc.document_id, "status": str(doc.status), "outcome": str(doc.outcome),
            "patient_mrn": doc.patient_mrn, "doc_type": doc.doc_type, "loinc": doc.loinc,
            "date_of_service": doc.date_of_service.isoformat() if doc.date_of_service else None,
            "pages": doc.pages, "filed_at": doc.filed_at.isoformat(), "source": doc.original_name,
            "relates_to": doc.relates_to, "type_confirmed": doc.type_confirmed}


def _report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.json:
        _print_json(result)
    else:
        print(" ".join(f"{k}={json.dumps(v) if isinstance(v, dict | list) else v}" for k, v in result.items()))


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, sort_keys=True), flush=True)

"""The review queue from the command line: list, show, and resolve what the pipeline was unsure of.

A thin adapter over `pipeline.services.review`, which holds the rules the browser applies too.
`review resolve ID --patient MRN [--type TYPE] [--confirm-birth-date-mismatch]` files a queued
document to the patient a clerk chose, as the type they confirmed or corrected (default: the
predicted one; that teaches the classifier, `pipeline train --from-reviews`); when the patient's
birth date is not the document's it is refused (exit 11) unless the clerk confirms it. `review list --closed` lists the items closed without filing (cannot identify)
whose document is still unfiled; `review reopen ID --reason TEXT` puts one back in the queue. Every
decision goes into the access log with the clerk's id and reason.
A type-only item (a document filed to a certain patient whose type awaits confirmation) is settled
with `review confirm-type ID [--type TYPE]`: the predicted type, or the right one; it never changes
the patient (that is `pipeline refile`). `review list --kind patient|type` shows one kind only.
`review serve` runs the same queue as a web app (`pipeline/review/app.py`).
Each handler imports the use case it calls: mounting these commands (every `pipeline` run) loads none.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pipeline.errors import EXIT_OK, ConfigurationError
from pipeline.records import ReviewKind
from pipeline.review.identity import DEFAULT_SESSION_MINUTES, REMOTE_USER_HEADER

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store.rows import ReviewItem

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700


def register(subparsers: Any) -> None:
    review = subparsers.add_parser("review", help="the review queue: list, show and resolve queued documents")
    review_sub = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)

    listing = review_sub.add_parser("list", help="open items, oldest first")
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--closed", action="store_true", help="instead: items closed without filing (cannot "
                         "identify) whose document is still unfiled, oldest closing first")
    listing.add_argument("--kind", choices=[str(k) for k in ReviewKind], help="only items of this kind: "
                         "patient (choose the patient) or type (type-only: filed, the type awaits confirmation)")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--user", help="who lists them (with --closed, for the access log)")
    listing.set_defaults(handler=cmd_list)

    show = review_sub.add_parser("show", help="one item: reasons, candidates with per-field verdicts")
    show.add_argument("item_id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true")
    show.add_argument("--user")
    show.set_defaults(handler=cmd_show)

    resolve = review_sub.add_parser("resolve", help="file a queued document to a patient (and confirm its type)")
    resolve.add_argument("item_id", type=int, metavar="ID")
    resolve.add_argument("--patient", required=True, metavar="MRN")
    resolve.add_argument("--type", dest="doc_type", metavar="TYPE", help="the right document type, if the "
                         "pipeline's guess was wrong or missing (see `pipeline types`); default: its guess")
    resolve.add_argument("--confirm-birth-date-mismatch", action="store_true",
                         help="file it although the patient's birth date is not the document's (you checked; "
                              "it goes into the access log)")
    resolve.add_argument("--note")
    resolve.add_argument("--user")
    resolve.add_argument("--json", action="store_true")
    resolve.set_defaults(handler=cmd_resolve)

    confirm = review_sub.add_parser("confirm-type", help="settle a type-only item: confirm (or correct) the type "
                                    "of a document filed to a certain patient")
    confirm.add_argument("item_id", type=int, metavar="ID")
    confirm.add_argument("--type", dest="doc_type", metavar="TYPE", help="the right document type, if the "
                         "pipeline's guess was wrong (see `pipeline types`); default: confirm its guess")
    confirm.add_argument("--note")
    confirm.add_argument("--user")
    confirm.add_argument("--json", action="store_true")
    confirm.set_defaults(handler=cmd_confirm_type)

    reopen = review_sub.add_parser("reopen", help="put an item closed without filing back in the queue")
    reopen.add_argument("item_id", type=int, metavar="ID")
    reopen.add_argument("--reason", required=True, help="why (e.g. the patient is now registered); "
                        "it goes into the access log")
    reopen.add_argument("--user")
    reopen.add_argument("--json", action="store_true")
    reopen.set_defaults(handler=cmd_reopen)

    _register_surgery(review_sub)

    serve = review_sub.add_parser("serve", help="the review queue in the browser (see README: Review in the browser)")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument("--trust-remote-user", action="store_true",
                       help=f"take the user id from the {REMOTE_USER_HEADER} header a reverse proxy sets after "
                            "signing the user in; only when nothing but that proxy can reach the port")
    serve.add_argument("--session-minutes", type=int, default=DEFAULT_SESSION_MINUTES,
                       help="sign-in expires after this many minutes without a request")
    serve.add_argument("--https-only", action="store_true", help="send the session cookie over HTTPS only")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                       help="also answer requests for this Host header (the name a proxy forwards); the setting "
                            "review_allowed_hosts lists the rest")
    serve.set_defaults(handler=cmd_serve)


# ------------------------------------------------------------------- page surgery (services/surgery.py)


def _register_surgery(review_sub: Any) -> None:
    """split, merge, rotate, drop-page: each makes new versions; the old ones are kept (superseded)."""
    def action(name: str, help_text: str, *, other: bool = False) -> argparse.ArgumentParser:
        parser = review_sub.add_parser(name, help=help_text)
        parser.add_argument("item_id", type=int, metavar="ID")
        if other:
            parser.add_argument("other_id", type=int, metavar="OTHER_ID", help="the review item merged after ID")
        parser.add_argument("--reason", required=True, help="why; it goes into the access log")
        parser.add_argument("--user")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(handler=cmd_surgery, surgery=name)
        return parser

    action("split", "split a queued document into two at a page; each part is filed or queued on its own") \
        .add_argument("--at", type=int, required=True, metavar="PAGE", help="the first page of the second part")
    action("merge", "merge two queued documents into one (ID's pages, then OTHER_ID's)", other=True)
    rotate = action("rotate", "turn one page of a queued document (a new version; the original is kept)")
    rotate.add_argument("--page", type=int, required=True, metavar="N")
    rotate.add_argument("--degrees", type=int, required=True, choices=(90, 180, 270), help="clockwise")
    action("drop-page", "drop one page (a blank page) from a queued document") \
        .add_argument("--page", type=int, required=True, metavar="N")


def cmd_surgery(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import surgery
    from pipeline.services.home import acting_user, open_home

    home = open_home(settings)
    indexer = surgery.load_indexer(settings, home.manifest)
    common = {"actor": acting_user(args.user), "reason": args.reason}
    if args.surgery == "split":
        result = surgery.split(*home, indexer, args.item_id, at=args.at, **common)
    elif args.surgery == "merge":
        result = surgery.merge(*home, indexer, args.item_id, args.other_id, **common)
    elif args.surgery == "rotate":
        result = surgery.rotate(*home, indexer, args.item_id, page=args.page, degrees=args.degrees, **common)
    else:
        result = surgery.drop_page(*home, indexer, args.item_id, page=args.page, **common)
    if args.json:
        print(json.dumps(result.to_json()))
        return EXIT_OK
    print(f"{result.operation}: review item{'s' if len(result.superseded) > 1 else ''} "
          f"{', '.join(map(str, result.superseded))} superseded (the original is kept)")
    for version in result.versions:
        where = (f"filed to MRN {version.patient_mrn} as {version.doc_type}" if version.outcome == "filed"
                 else f"queued as review item {version.review_item_id}")
        print(f"  document {version.document_id} ({version.pages} page{'s' if version.pages != 1 else ''}): {where}")
    return EXIT_OK


def _item_json(item: ReviewItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "document_id": item.document_id,
        "kind": str(item.kind),
        "status": item.status,
        "created_at": item.created_at.isoformat(),
        "reasons": [*item.reasons, *item.match_reasons],
        "predicted_doc_type": item.predicted_doc_type,
        "candidates": [
            {"mrn": c.mrn, "probability": round(c.probability, 4),
             "fields": {name: str(verdict) for name, verdict in c.fields.items()}}
            for c in item.candidates
        ],
    }


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import review
    from pipeline.services.home import open_home

    if args.closed:
        if args.kind:
            raise ConfigurationError("--kind: the items closed without filing are all patient items; "
                                     "give --closed or --kind, not both")
        return _list_closed(args, settings)
    kind = ReviewKind(args.kind) if args.kind else None
    for item in review.list_open(open_home(settings).manifest, limit=args.limit, kind=kind):
        if args.json:
            print(json.dumps(_item_json(item)))
        else:
            best = item.candidates[0].mrn if item.candidates else "-"
            print(f"{item.id:>6}  {item.kind:<7}  {item.created_at:%Y-%m-%d %H:%M}  "
                  f"{item.predicted_doc_type or '-':<26} best MRN {best:<12} "
                  f"{'; '.join([*item.reasons, *item.match_reasons])[:100]}")
    return EXIT_OK


def _list_closed(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import review
    from pipeline.services.home import acting_user, open_home

    closed = review.list_closed(open_home(settings).manifest, actor=acting_user(args.user), limit=args.limit)
    for item, doc, reason in closed:
        if args.json:
            print(json.dumps({**_item_json(item), "closed_by": item.resolved_by,
                              "closed_at": item.resolved_at.isoformat() if item.resolved_at else None,
                              "reason": reason, "pages": doc.pages, "received_at": doc.received_at.isoformat()}))
        else:
            when = f"{item.resolved_at:%Y-%m-%d %H:%M}" if item.resolved_at else "-"
            print(f"{item.id:>6}  closed {when} by {item.resolved_by or '-':<12} document {item.document_id}  "
                  f"{(reason or '-')[:100]}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import review
    from pipeline.services.home import acting_user, open_home

    item = review.show(open_home(settings).manifest, args.item_id, actor=acting_user(args.user))
    data = _item_json(item)
    if args.json:
        print(json.dumps(data))
        return EXIT_OK
    print(f"review item {item.id}  document {item.document_id}  ({item.status})")
    if item.kind is ReviewKind.TYPE:
        print("type-only: the document is filed to its patient; confirm or correct its type "
              f"(`pipeline review confirm-type {item.id} [--type TYPE]`)")
    print(f"predicted type: {item.predicted_doc_type or '-'}")
    for reason in data["reasons"]:
        print(f"  - {reason}")
    for candidate in data["candidates"]:
        fields = ", ".join(f"{k} {v}" for k, v in candidate["fields"].items())
        print(f"  candidate MRN {candidate['mrn']}  p={candidate['probability']:.3f}  {fields}")
    return EXIT_OK


def cmd_resolve(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.classify.types import load_types
    from pipeline.services import review
    from pipeline.services.home import acting_user, open_home

    doc = review.resolve(open_home(settings).manifest, args.item_id, actor=acting_user(args.user),
                         patient_mrn=args.patient, doc_type=args.doc_type, types=load_types(settings.types_path),
                         note=args.note, confirm_birth_date_mismatch=args.confirm_birth_date_mismatch)
    if args.json:
        print(json.dumps({"id": args.item_id, "document_id": doc.document_id, "patient_mrn": doc.patient_mrn,
                          "doc_type": doc.doc_type, "loinc": doc.loinc}))
    else:
        print(f"filed {doc.document_id} to MRN {doc.patient_mrn} as {doc.doc_type}")
    return EXIT_OK


def cmd_confirm_type(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.classify.types import load_types
    from pipeline.services import review
    from pipeline.services.home import acting_user, open_home

    doc = review.confirm_type(open_home(settings).manifest, args.item_id, actor=acting_user(args.user),
                              doc_type=args.doc_type, types=load_types(settings.types_path), note=args.note)
    if args.json:
        print(json.dumps({"id": args.item_id, "document_id": doc.document_id, "patient_mrn": doc.patient_mrn,
                          "doc_type": doc.doc_type, "loinc": doc.loinc, "type_confirmed": doc.type_confirmed}))
    else:
        print(f"document {doc.document_id} (MRN {doc.patient_mrn}): type confirmed as {doc.doc_type}")
    return EXIT_OK


def cmd_reopen(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import review
    from pipeline.services.home import acting_user, open_home

    if not args.reason.strip():
        raise ConfigurationError("--reason: say why the item is reopened (e.g. the patient is now registered); "
                                 "it goes into the access log")
    item = review.reopen(open_home(settings).manifest, args.item_id, actor=acting_user(args.user),
                         reason=args.reason)
    if args.json:
        print(json.dumps(_item_json(item)))
    else:
        print(f"reopened review item {item.id} (document {item.document_id}): it is back in the queue")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from pipeline.review.app import create_app
    from pipeline.review.identity import ReviewConfig, load_secret

    if args.session_minutes < 1:
        raise ConfigurationError(f"--session-minutes {args.session_minutes}: give 1 or more")
    hosts = [*settings.review_allowed_hosts, *args.allowed_host]
    if args.host not in ("0.0.0.0", "::"):
        hosts.append(args.host)
    config = ReviewConfig(secret=load_secret(settings.home), trust_remote_user=args.trust_remote_user,
                          session_minutes=args.session_minutes, https_only=args.https_only,
                          allowed_hosts=tuple(dict.fromkeys(hosts)))
    app = create_app(settings, config)
    who = f"known user from {REMOTE_USER_HEADER}" if args.trust_remote_user else "sign-in with name and password"
    print(f"review queue on http://{args.host}:{args.port}/ ({who}); Ctrl-C stops", file=sys.stderr, flush=True)
    # uvicorn's access log would print every URL; they carry item ids only, but keep stderr to our own lines
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return EXIT_OK

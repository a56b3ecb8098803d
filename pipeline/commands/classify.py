"""Sub-commands of the classify stage: `classify`, `types`, `train`.

    pipeline classify [--json] FILE|-      plain text in -> {"doc_type","loinc","confidence",...}
    pipeline types [--json]                the document-type list with LOINC codes
    pipeline train [CORPUS] [--from-reviews] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from pipeline.classify.corpus import Corpus, csv_corpus, default_corpus, folder_corpus, review_corpus
from pipeline.classify.types import TypeList, load_types
from pipeline.errors import ConfigurationError, InputError, NotFoundError
from pipeline.records import Classification
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    classify = subparsers.add_parser("classify", help="the document type of a plain-text file (or - for stdin)")
    classify.add_argument("file", metavar="FILE|-", help="a UTF-8 text file, e.g. from `pipeline ocr`; - reads stdin")
    classify.add_argument("--json", action="store_true", help='print {"doc_type","loinc","confidence","needs_review","reasons"}')
    classify.set_defaults(handler=cmd_classify)

    types = subparsers.add_parser("types", help="the document-type list with LOINC codes")
    types.add_argument("--json", action="store_true", help="one JSON object per type per line")
    types.set_defaults(handler=cmd_types)

    train = subparsers.add_parser("train", help="train the document-type model")
    train.add_argument("corpus", nargs="?", type=Path, metavar="CORPUS",
                       help="a folder of sub-folders named by type (.txt, .pdf, images) or a CSV text,type; "
                            "default: the shipped corpus (MTSamples + generated documents)")
    train.add_argument("--from-reviews", action="store_true",
                       help="add every type a clerk confirmed or corrected in the review queue")
    train.add_argument("--out", type=Path, help="model file to write; default: model_path, else <home>/models/doctype.model")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--json", action="store_true", help="print the training report as JSON")
    train.set_defaults(handler=cmd_train)


# ------------------------------------------------------------------------------------ classify


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.classify.model import load_classifier

    text = _read_text(args.file)
    result = load_classifier(settings).classify(text)
    if args.json:
        print(json.dumps(classification_json(result)))
    else:
        flag = "  needs review" if result.needs_review else ""
        print(f"{result.doc_type}  {result.loinc}  {result.display}  confidence {result.confidence:.2f}{flag}")
        for reason in result.reasons:
            print(f"  - {reason}")
    return 0


def classification_json(result: Classification) -> dict[str, Any]:
    return {
        "doc_type": result.doc_type,
        "loinc": result.loinc,
        "display": result.display,
        "confidence": round(result.confidence, 4),
        "needs_review": result.needs_review,
        "reasons": list(result.reasons),
        "alternatives": [{"doc_type": k, "confidence": p} for k, p in result.alternatives],
        "model_version": result.model_version,
    }


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file; check the path")
    data = path.read_bytes()
    if data.startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")):
        raise InputError(f"{path.name}: `pipeline classify` reads plain text; run `pipeline ocr` on a scan first, "
                         "or `pipeline process` to do everything")
    return data.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------------------- types


def cmd_types(args: argparse.Namespace, settings: Settings) -> int:
    types = load_types(settings.types_path)
    thresholds = _thresholds_in_force(types, settings)
    for t in types:
        if args.json:
            print(json.dumps({"type": t.key, "loinc": t.loinc, "display": t.display,
                              "threshold": thresholds[t.key], "always_review": t.always_review}))
        else:
            note = "  (always reviewed)" if t.always_review else f"  (review below {thresholds[t.key]:.2f})"
            print(f"{t.key:<26} {t.loinc:<9} {t.display}{note}")
    if not args.json:
        print(f"({len(types)} types from {types.source})")
    return 0


def _thresholds_in_force(types: TypeList, settings: Settings) -> dict[str, float]:
    """Each type's review threshold with the current model (its tuned thresholds), or without one."""
    from pipeline.classify.model import model_path
    from pipeline.classify.modelfile import read_header
    from pipeline.classify.training import thresholds_for
    from pipeline.errors import ModelError

    try:
        tuned = read_header(model_path(settings)).thresholds
    except ModelError as exc:
        log.warning("%s; showing the default thresholds", exc)
        tuned = {}
    return thresholds_for(types, tuned, settings.classify_threshold)


# --------------------------------------------------------------------------------------- train


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.classify.model import site_model_path
    from pipeline.classify.modelfile import save_model
    from pipeline.classify.training import train_model

    types = load_types(settings.types_path)
    corpus = load_corpus(args.corpus, types, settings, seed=args.seed)
    if args.from_reviews:
        reviewed = review_corpus(reviewed_pairs(settings), types)
        log.info("adding %d reviewed documents from the review queue", len(reviewed))
        corpus = corpus + reviewed
    if len(corpus) < 2:
        raise ConfigurationError("fewer than two training documents; add documents to the corpus")
    out = args.out or settings.model_path or site_model_path(settings)
    log.info("training on %d documents (%d types)", len(corpus), len(set(corpus.labels)))
    try:
        model, header = train_model(corpus, types, default_threshold=settings.classify_threshold, random_state=args.seed)
    except ValueError as exc:
        raise ConfigurationError(f"cannot train on this corpus: {exc}") from exc
    header = save_model(out, header, model)
    report = {"model": str(out), "version": header.version, "documents": len(corpus),
              "types": header.training_counts, "metrics": _summary(header.metrics)}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"model written to {out} ({header.version}), trained on {header.metrics.get('training_documents')} documents "
              f"in {header.metrics.get('fit_seconds')} s")
        for part in ("heldout_clean", "heldout_ocr_noise"):
            m = header.metrics.get(part)
            if m:
                print(f"{part}: accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}  "
                      f"wrong type above threshold {m['wrong_type_above_threshold']:.3%}  review rate {m['review_rate']:.1%}")
        if not args.out and not settings.model_path:
            print("this model is used from now on for this home folder (delete the file to go back to the shipped one)")
    return 0


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    for part in ("heldout_clean", "heldout_ocr_noise"):
        if part in metrics:
            out[part] = {k: metrics[part][k] for k in ("accuracy", "macro_f1", "wrong_type_above_threshold", "review_rate")}
    return out


def load_corpus(path: Path | None, types: TypeList, settings: Settings, seed: int = 0) -> Corpus:
    """The corpus named on the command line, or the shipped one."""
    if path is None:
        return default_corpus(types, seed=seed)
    if not path.exists():
        raise NotFoundError(f"{path}: no such corpus folder or CSV file; check the path")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise ConfigurationError(f"{path}: a corpus is a folder of sub-folders named by type, or a CSV with a header text,type")
        return csv_corpus(path, types)
    from pipeline.services.scan import ScanReader

    reader = ScanReader(settings)
    try:
        return folder_corpus(path, types, read_scan=reader)
    finally:
        reader.close()


def reviewed_pairs(settings: Settings) -> list[tuple[str, str]]:
    """(text, doc_type) of every review item a clerk resolved with a document type."""
    from pipeline.services.home import read_manifest

    manifest = read_manifest(settings)
    try:
        return manifest.reviewed_types()
    finally:
        manifest.engine.dispose()

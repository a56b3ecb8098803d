"""Scanned documents through real Tesseract: extraction as read from pixels, then matching.

    .venv/bin/python benchmarks/match_scans.py [--documents 60] [--patients 20000] [--seed 31]

The same synthetic documents as match_documents.py (typos, nicknames, day/month slips, wrong
digits, 10% not in the index), but each header is rendered as a scanned page by
`pipeline.synth.render` (a clean scan, an office scan with skew/noise/blur, or a fax, in turn),
saved as PNG, taken in by `intake` and read by the OCR stage (`OcrEngine`, Tesseract), and the
identifiers come from `extract_identifiers` on that OCR result (words and boxes included). The
reference is the extraction from the document's source text: a field "read as printed" when OCR
gave the same value. Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import patients_synth  # noqa: E402

from pipeline.ingest.intake import intake  # noqa: E402
from pipeline.ocr.engine import OcrEngine  # noqa: E402
from pipeline.patients.extract import extract_from_text, extract_identifiers  # noqa: E402
from pipeline.patients.importer import import_file  # noqa: E402
from pipeline.patients.matcher import Matcher  # noqa: E402
from pipeline.records import MatchOutcome  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store.database import make_engine, migrate  # noqa: E402
from pipeline.synth.render import FAX, OFFICE_SCAN, render_pages, save_scan  # noqa: E402
from pipeline.synth.render import CLEAN as CLEAN_SCAN  # noqa: E402

FIELDS = ("family_name", "given_name", "birth_date", "mrn")
LOOKS = (("clean", CLEAN_SCAN), ("office scan", OFFICE_SCAN), ("fax", FAX))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=60)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--show-misses", action="store_true",
                        help="print each misread field and each legible document not auto-filed (synthetic data)")
    args = parser.parse_args()
    index = patients_synth.index_patients(args.patients, seed=args.seed)
    pool = patients_synth.index_patients(2_000, seed=args.seed + 1)
    docs = patients_synth.documents(index, args.documents, seed=args.seed + 2, outside_pool=pool)
    settings = Settings()
    read_same: Counter[str] = Counter()
    printed: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    wrong = 0
    ocr_seconds: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        patients_synth.write_csv(index, work / "patients.csv")
        url = f"sqlite:///{work / 'manifest.db'}"
        migrate(url)
        engine = make_engine(url)
        import_file(work / "patients.csv", engine)
        matcher = Matcher.from_settings(settings, engine)
        with OcrEngine.from_settings(settings) as ocr_engine:
            for number, doc in enumerate(docs):
                look_name, look = LOOKS[number % len(LOOKS)]
                images = render_pages([doc.text], seed=number, degrade=look)
                path = save_scan(images, work / f"doc_{number:04d}.png", created=datetime(2026, 1, 1, tzinfo=UTC))
                incoming = intake(path, datetime.now(UTC))
                started = time.perf_counter()
                ocr = ocr_engine.recognize(incoming, work)
                ocr_seconds.append(time.perf_counter() - started)
                from_pixels = extract_identifiers(ocr)
                from_text = extract_from_text(doc.text)
                for field in FIELDS:
                    truth = getattr(from_text, field)
                    if truth:
                        printed[field] += 1
                        read_same[field] += getattr(from_pixels, field) == truth
                        if args.show_misses and getattr(from_pixels, field) != truth:
                            print(f"doc {number} ({look_name}): {field} printed {truth!r}, read {getattr(from_pixels, field)!r}",
                                  file=sys.stderr)
                match = matcher.match(from_pixels)
                group = "outside" if doc.truth_mrn is None else ("legible" if doc.legible_pair else "other")
                outcomes[f"{group}:{match.outcome}"] += 1
                outcomes[group] += 1
                outcomes[f"{look_name}:{match.outcome}"] += 1
                outcomes[look_name] += 1
                if args.show_misses and group == "legible" and match.outcome is not MatchOutcome.AUTO_FILE:
                    print(f"doc {number} ({look_name}): {match.outcome} {list(match.reasons)} {list(doc.notes)}",
                          file=sys.stderr)
                if match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn != doc.truth_mrn:
                    wrong += 1
        engine.dispose()

    print(f"## Scanned documents through Tesseract ({len(docs)} documents, {args.patients:,}-patient index)\n")
    print("| measure | value |\n|---|---|")
    print(f"| wrong auto-files | {wrong} |")
    print(f"| auto-file rate, in-index documents with two legible identifiers | "
          f"{outcomes['legible:auto_file'] / max(outcomes['legible'], 1):.3f} "
          f"({outcomes['legible:auto_file']}/{outcomes['legible']}) |")
    print(f"| not-in-index documents auto-filed | {outcomes['outside:auto_file']} of {outcomes['outside']} |")
    for name, _ in LOOKS:
        print(f"| auto-filed, {name} | {outcomes[f'{name}:auto_file']} of {outcomes[name]} |")
    for field in FIELDS:
        print(f"| {field} read as printed | {read_same[field]}/{printed[field]} |")
    print(f"| OCR time per page, median | {statistics.median(ocr_seconds):.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

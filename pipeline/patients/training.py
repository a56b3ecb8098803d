"""Estimating the model's m and u probabilities with Splink (offline), and the saved model file.

Splink (5.x, DuckDB backend) links a table of index patients to a table of document identifiers,
using exactly the comparison levels of `comparisons.py`: u by random sampling, m by expectation
maximisation on two blocking passes (birth date; names). Only the estimated probabilities are kept:
`match_model.json` beside this module, which `Matcher` reads at runtime and scores with in Python
(no Splink or DuckDB at runtime). Regenerate it with `benchmarks/match_train.py`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.patients.comparisons import LEVELS

log = logging.getLogger(__name__)

MODEL_FORMAT = 1
MODEL_PATH = Path(__file__).with_name("match_model.json")
SPLINK_MAJOR = 5
_FLOOR = 1e-6  # no level may be impossible: keeps log2 finite
#: a fuzzy level never weighs more than the exact level minus this (log2). u of "one digit off"
#: depends on how densely the index fills its number space (a million 8-digit MRNs give most
#: MRNs a one-digit neighbour), which a training sample underestimates.
EXACT_GAP = 2.0
#: levels that may only ever count against a match, whatever the training data says: an MRN one
#: digit off is another number (often another patient's), not a weaker form of this one
NEVER_FOR = {"mrn": 2}
ONE_DIGIT_MRN_WEIGHT = -2.0


@dataclass(frozen=True, slots=True)
class MatchModel:
    """Per comparison, per level: the log2 Bayes factor log2(m/u) (level 0, null, is 0)."""

    weights: dict[str, tuple[float, ...]]
    m: dict[str, tuple[float, ...]]
    u: dict[str, tuple[float, ...]]
    meta: dict[str, object]

    def weight(self, comparison: str, level: int) -> float:
        return self.weights[comparison][level]


def model_from_probabilities(
    m: dict[str, list[float]], u: dict[str, list[float]], meta: dict[str, object]
) -> MatchModel:
    weights = {}
    for name, levels in LEVELS.items():
        if len(m[name]) != len(levels) or len(u[name]) != len(levels):
            raise ModelError(f"match model: comparison {name!r} has the wrong number of levels")
        raw = [0.0 if i == 0 else math.log2(max(m[name][i], _FLOOR) / max(u[name][i], _FLOOR))
               for i in range(len(levels))]
        exact = raw[1]
        capped = [w if i < 2 else min(w, exact - EXACT_GAP) for i, w in enumerate(raw)]
        if name in NEVER_FOR:  # one wrong digit of an MRN: evidence against, never for
            capped[NEVER_FOR[name]] = min(capped[NEVER_FOR[name]], ONE_DIGIT_MRN_WEIGHT)
        weights[name] = tuple(capped)
    return MatchModel(
        weights=weights,
        m={k: tuple(v) for k, v in m.items()},
        u={k: tuple(v) for k, v in u.items()},
        meta=meta,
    )


def load_model(path: Path | None = None) -> MatchModel:
    path = path or MODEL_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"{path}: match model missing", hint="run benchmarks/match_train.py to rebuild it"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: match model is not valid JSON", hint="rebuild it") from exc
    if data.get("format_version") != MODEL_FORMAT:
        raise ModelError(
            f"{path}: match model format {data.get('format_version')!r}, expected {MODEL_FORMAT}",
            hint="rebuild it with benchmarks/match_train.py",
        )
    comparisons = data["comparisons"]
    if set(comparisons) != set(LEVELS) or any(
        [lv["label"] for lv in comparisons[n]] != [lv.label for lv in LEVELS[n]] for n in LEVELS
    ):
        raise ModelError(
            f"{path}: match model levels do not match this version's comparisons",
            hint="rebuild it with benchmarks/match_train.py",
        )
    m = {n: [lv["m"] for lv in comparisons[n]] for n in LEVELS}
    u = {n: [lv["u"] for lv in comparisons[n]] for n in LEVELS}
    return model_from_probabilities(m, u, data.get("meta", {}))


def save_model(model: MatchModel, path: Path | None = None) -> None:
    """Write atomically (temp file + rename)."""
    path = path or MODEL_PATH
    data = {
        "format_version": MODEL_FORMAT,
        "meta": model.meta,
        "comparisons": {
            name: [
                {"label": level.label, "m": model.m[name][i], "u": model.u[name][i],
                 "log2_bayes_factor": round(model.weights[name][i], 4)}
                for i, level in enumerate(levels)
            ]
            for name, levels in LEVELS.items()
        },
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".match_model.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
        handle.write("\n")
    os.replace(tmp, path)


# ------------------------------------------------------------------------------ Splink EM run


def _rows(records: Iterable[dict], source: str) -> list[dict]:
    rows = []
    for i, rec in enumerate(records):
        row = {k: (v if v not in ("", None) else None) for k, v in rec.items() if k != "nicks"}
        row["nicks"] = list(rec.get("nicks") or [])
        row["unique_id"] = f"{source}{i}"
        rows.append(row)
    return rows


def estimate(index_features: list[dict], document_features: list[dict], *, seed: int = 1,
             u_pairs: float = 5e6) -> MatchModel:
    """Estimate m and u with Splink for the comparison levels of `comparisons.py`.

    `index_features`, `document_features`: feature records (`comparisons.features`)."""
    import pandas as pd
    import splink
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from pipeline.patients.comparisons import splink_comparisons

    if int(splink.__version__.split(".")[0]) != SPLINK_MAJOR:
        raise ModelError(f"splink {splink.__version__} installed; this model needs {SPLINK_MAJOR}.x")
    left = pd.DataFrame(_rows(index_features, "p"))
    right = pd.DataFrame(_rows(document_features, "d"))
    db_api = DuckDBAPI()
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=splink_comparisons(),
        blocking_rules_to_generate_predictions=[block_on("dob"), block_on("family_key", "given_key")],
        retain_intermediate_calculation_columns=False,
        probability_two_random_records_match=1 / max(len(left), 1),
    )
    linker = Linker(
        [db_api.register(left, dataset_display_name="index"), db_api.register(right, dataset_display_name="documents")],
        settings,
        log_level=logging.WARNING,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("family_key", "given_key"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("mrn"))
    saved = linker.misc.save_model_to_json()
    m: dict[str, list[float]] = {}
    u: dict[str, list[float]] = {}
    for comparison in saved["comparisons"]:
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        m[name] = [1.0 if lv.get("is_null_level") else _prob(lv.get("m_probability")) for lv in levels]
        u[name] = [1.0 if lv.get("is_null_level") else _prob(lv.get("u_probability")) for lv in levels]
    digest = hashlib.sha256(
        json.dumps([index_features, document_features], sort_keys=True, default=str).encode()
    ).hexdigest()
    meta = {
        "splink_version": splink.__version__,
        "index_records": len(left),
        "document_records": len(right),
        "training_data_sha256": digest,
        "seed": seed,
    }
    return model_from_probabilities(m, u, meta)


def _prob(value: object) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _FLOOR  # a level never seen in training: treated as very rare on both sides
    return float(value)  # type: ignore[arg-type]

"""The model card figures for the shipped document-type model, from its own file header.

    .venv/bin/python benchmarks/classify_card.py [MODEL] [--png models/confusion_matrix.png]

Reads the held-out metrics `pipeline train` stored in the model file (nothing is unpickled),
draws the confusion matrix of the clean held-out text as a PNG, and prints the Markdown tables
that `models/README.md` carries.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.classify.model import SHIPPED_MODEL  # noqa: E402
from pipeline.classify.modelfile import read_header  # noqa: E402


def confusion_png(confusion: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels, matrix = confusion["labels"], np.array(confusion["matrix"])
    rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
    share = matrix / rows
    fig, ax = plt.subplots(figsize=(11, 9.5), dpi=100)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted type")
    ax.set_ylabel("true type")
    ax.set_title(title, fontsize=10)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.6 else "black")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--png", type=Path, default=ROOT / "models" / "confusion_matrix.png")
    args = parser.parse_args(argv)
    header = read_header(args.model)
    metrics = header.metrics
    clean, noisy = metrics["heldout_clean"], metrics["heldout_ocr_noise"]
    confusion_png(clean["confusion"], args.png,
                  f"{header.version}: held-out documents ({clean['documents']}), clean text; counts, colour = share of the row")
    print(f"Model `{header.version}` (format {header.format_version}, scikit-learn {header.sklearn_version}, "
          f"trained {header.trained_at}, training-data SHA-256 `{header.training_data_sha256}`).\n")
    print("| held-out text | documents | accuracy | macro-F1 | wrong type at/above threshold | sent to review for the type |")
    print("|---|---|---|---|---|---|")
    for name, m in (("clean", clean), ("OCR-noise simulation (level 0.6)", noisy)):
        print(f"| {name} | {m['documents']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | "
              f"{m['wrong_type_above_threshold']:.2%} | {m['review_rate']:.1%} |")
    print("\n| type | training docs | held-out precision | held-out recall | F1 | held-out support | tuned threshold |")
    print("|---|---|---|---|---|---|---|")
    for label, m in clean["per_type"].items():
        print(f"| {label} | {header.training_counts.get(label, 0)} | {m['precision']:.3f} | {m['recall']:.3f} | "
              f"{m['f1']:.3f} | {m['support']} | {header.thresholds.get(label, float('nan')):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

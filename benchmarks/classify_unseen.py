"""The shipped model on hand-written documents that no generator made.

    .venv/bin/python benchmarks/classify_unseen.py [MODEL]

`tests/classify/data/unseen_documents.txt` (set 1) and `unseen_documents_2.txt` (set 2) were each
used to revise the generator after they were first measured, so they are NOT clean tests any more;
`unseen_documents_3.txt` (set 3) was written before the second revision and measured once after it
(and once before, as a baseline: 16 of 21 right, 5 typed without review, none wrong). Prints Markdown: per set, how many got the right type, how many would be typed without
review, and how many wrong types would pass their threshold.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.classify.model import SHIPPED_MODEL, Classifier, check_types  # noqa: E402
from pipeline.classify.modelfile import load_model  # noqa: E402
from pipeline.classify.types import load_types  # noqa: E402

DATA = ROOT / "tests" / "classify" / "data"
SETS = (("set 1 (used to revise the generator)", DATA / "unseen_documents.txt"),
        ("set 2 (used for the second revision)", DATA / "unseen_documents_2.txt"),
        ("set 3 (never used to change anything)", DATA / "unseen_documents_3.txt"))


def read_set(path: Path) -> list[tuple[str, str]]:
    """(type, text) pairs from a file of `=== <type>` blocks (lines starting with # are comments)."""
    docs: list[tuple[str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            docs.append((line[4:].strip(), []))
        elif docs:
            docs[-1][1].append(line)
    return [(label, "\n".join(lines).strip()) for label, lines in docs]


def main(argv: list[str] | None = None) -> int:
    path = Path(argv[0]) if argv else SHIPPED_MODEL
    types = load_types()
    header, model = load_model(path)
    check_types(header, types, path)
    classifier = Classifier(model, header, types, default_threshold=0.6)
    print(f"## Hand-written documents no generator made (model `{header.version}`)\n")
    print("| set | documents | right type | typed without review | wrong type typed without review |")
    print("|---|---|---|---|---|")
    details = []
    for name, file in SETS:
        docs = read_set(file)
        results = classifier.classify_many([text for _, text in docs])
        right = sum(r.doc_type == label for (label, _), r in zip(docs, results))
        passed = sum(not r.needs_review for r in results)
        wrong = sum(r.doc_type != label and not r.needs_review for (label, _), r in zip(docs, results))
        print(f"| {name} | {len(docs)} | {right} | {passed} | {wrong} |")
        details.extend((name.split(" (")[0], label, r) for (label, _), r in zip(docs, results))
    print("\n| set | true type | given type | confidence | review |")
    print("|---|---|---|---|---|")
    for name, label, r in details:
        print(f"| {name} | {label} | {r.doc_type} | {r.confidence:.2f} | {'yes' if r.needs_review else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

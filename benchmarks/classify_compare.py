"""Document-type classifier: ours vs the paperless-ngx design, on the fixed held-out split.

    .venv/bin/python benchmarks/classify_compare.py [--scans-per-type 8] [--cache DIR]

Both models are trained on the same training part of the shipped corpus (MTSamples mapped to our
types + generated documents; the held-out fifth is chosen by a hash of each document id) and
measured on the held-out part:

1. clean text: accuracy, macro-F1 over all types, macro-F1 over the MTSamples-derived documents only;
2. simulated OCR noise (`pipeline.classify.noise`, level 0.6) on every held-out document;
3. real scans: a stratified sample of held-out documents (up to N per type) rendered as scans
   (`pipeline.synth.render`, office-scan and fax degradations alternating, first two pages) and read
   back by the OCR engine (`pipeline.ocr.engine`, Tesseract); both models see the rendered text
   (clean) and the OCR'd text of the SAME documents;
4. time to classify 1,000 documents (best of 3, wall and CPU);
5. for ours: how often a wrong type is given with a confidence at or above its review threshold
   (it would be filed with the wrong type), and how many documents go to review for their type.

Prints Markdown (progress on stderr). OCR results are cached in --cache so a rerun is quick.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.classify.corpus import Corpus, default_corpus  # noqa: E402
from pipeline.classify.model import Classifier  # noqa: E402
from pipeline.classify.noise import ocr_noise  # noqa: E402
from pipeline.classify.training import evaluate, thresholds_for, train_model  # noqa: E402
from pipeline.classify.types import load_types  # noqa: E402


# ------------------------------------------------------------------------------ the baseline


def paperless_preprocess(text: str) -> str:
    """What paperless-ngx does to content before vectorizing: lower-case, punctuation and
    line breaks to spaces, runs of spaces collapsed."""
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def paperless_model(random_state: int = 0) -> Pipeline:
    """The paperless-ngx design: word 1-2-gram counts (min_df 0.01) into an MLP (tol 0.01)."""
    return Pipeline([
        ("counts", CountVectorizer(analyzer="word", ngram_range=(1, 2), min_df=0.01, preprocessor=paperless_preprocess)),
        ("mlp", MLPClassifier(tol=0.01, random_state=random_state)),
    ])


# ----------------------------------------------------------------------------------- scans


def scan_texts(corpus: Corpus, per_type: int, cache: Path) -> tuple[list[str], list[str], list[str]]:
    """(rendered text, OCR text, label) for a stratified sample of `corpus`, rendered and OCR'd."""
    from pipeline.services.scan import incoming
    from pipeline.ocr.engine import OcrEngine
    from pipeline.settings import load_settings
    from pipeline.synth.render import FAX, OFFICE_SCAN, render_pages, save_scan

    by_type: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(corpus.labels):
        by_type[label].append(i)
    chosen = []
    for label, rows in sorted(by_type.items()):
        rows = sorted(rows, key=lambda i: hashlib.sha1(corpus.sources[i].encode()).hexdigest())
        chosen.extend(rows[:per_type])
    cache.mkdir(parents=True, exist_ok=True)
    settings = load_settings(Path(tempfile.mkdtemp(prefix="bench-home-")), ocr_searchable_pdf=False)
    rendered, ocr_text, labels = [], [], []
    with OcrEngine.from_settings(settings) as engine:
        for n, i in enumerate(chosen):
            key = hashlib.sha1((corpus.sources[i] + "\0" + corpus.texts[i]).encode()).hexdigest()[:16]
            done = cache / f"{key}.json"
            if not done.is_file():
                text = _renderable(corpus.texts[i])
                images = render_pages([text], seed=n, degrade=FAX if n % 2 else OFFICE_SCAN)[:2]
                truth = "\n".join(img.info["text"] for img in images)
                with tempfile.TemporaryDirectory() as tmp:
                    path = save_scan(images, Path(tmp) / f"{key}.pdf")
                    result = engine.recognize(incoming(path), Path(tmp))
                done.write_text(json.dumps({"rendered": truth, "ocr": result.text, "label": corpus.labels[i]}))
                print(f"  scanned {n + 1}/{len(chosen)}", file=sys.stderr, flush=True)
            data = json.loads(done.read_text())
            rendered.append(data["rendered"])
            ocr_text.append(data["ocr"])
            labels.append(data["label"])
    return rendered, ocr_text, labels


def _renderable(text: str) -> str:
    """Plain text for the renderer: lines starting with its markup characters are escaped by a space."""
    return "\n".join(" " + line if line[:1] in "#>|{" else line for line in text.splitlines())


# --------------------------------------------------------------------------------- measuring


def scores(labels, predicted) -> tuple[float, float]:
    return accuracy_score(labels, predicted), f1_score(labels, predicted, labels=sorted(set(labels)), average="macro", zero_division=0)


def timing(predict, texts: list[str]) -> tuple[float, float]:
    """Best-of-3 wall and CPU seconds to classify `texts`."""
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        predict(texts)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans-per-type", type=int, default=8, help="held-out documents per type to render and OCR (0: skip)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "classify-bench-ocr")
    args = parser.parse_args(argv)

    types = load_types()
    corpus = default_corpus(types)
    train, heldout = corpus.split()
    out = print
    out("## Document-type classifier: ours vs the paperless-ngx design\n")
    out(f"Corpus: {len(corpus)} documents ({len(train)} training, {len(heldout)} held out by a hash of each "
        f"document id); MTSamples rows mapped to types + generated documents. Command: "
        f"`.venv/bin/python benchmarks/classify_compare.py --scans-per-type {args.scans_per_type}`.\n")

    started = time.perf_counter()
    ours_model, header = train_model(corpus, types)
    ours_fit = time.perf_counter() - started
    ours = Classifier(ours_model, header, types, default_threshold=0.6)
    in_force = thresholds_for(types, header.thresholds, 0.6)
    always = {t.key for t in types if t.always_review}

    started = time.perf_counter()
    base = paperless_model().fit(list(train.texts), list(train.labels))
    base_fit = time.perf_counter() - started

    def ours_predict(texts: list[str]) -> list[str]:
        return [c.doc_type for c in ours.classify_many(texts)]

    def base_predict(texts: list[str]) -> list[str]:
        return list(base.predict(texts))

    mts = [i for i, s in enumerate(heldout.sources) if s.startswith("mtsamples:")]
    noisy = [ocr_noise(t, random.Random(f"heldout:{i}"), 0.6) for i, t in enumerate(heldout.texts)]
    rows = []
    for name, predict in (("paperless-ngx design", base_predict), ("ours", ours_predict)):
        clean_pred = predict(list(heldout.texts))
        noisy_pred = predict(noisy)
        acc, f1 = scores(heldout.labels, clean_pred)
        _, f1_mts = scores([heldout.labels[i] for i in mts], [clean_pred[i] for i in mts])
        nacc, nf1 = scores(heldout.labels, noisy_pred)
        rows.append((name, acc, f1, f1_mts, nacc, nf1))
    out("### Held-out text (all types)\n")
    out("| model | accuracy | macro-F1 | macro-F1, MTSamples part | accuracy, OCR-noise sim. | macro-F1, OCR-noise sim. |")
    out("|---|---|---|---|---|---|")
    for name, acc, f1, f1_mts, nacc, nf1 in rows:
        out(f"| {name} | {acc:.3f} | {f1:.3f} | {f1_mts:.3f} | {nacc:.3f} | {nf1:.3f} |")
    out(f"\nHeld-out documents: {len(heldout)} ({len(mts)} from MTSamples, {len(heldout) - len(mts)} generated). "
        f"Fit time on {len(train)} documents: paperless design {base_fit:.1f} s, ours {ours_fit:.1f} s "
        "(ours includes OCR-noise augmentation, 2-fold calibration and threshold tuning).\n")

    clean_eval = evaluate(ours_model, heldout.texts, heldout.labels, in_force, always)
    noisy_eval = evaluate(ours_model, noisy, heldout.labels, in_force, always)
    out("### Review behaviour (ours)\n")
    out("| held-out text | wrong type at or above its threshold | sent to review for the type |")
    out("|---|---|---|")
    out(f"| clean | {clean_eval['wrong_type_above_threshold']:.2%} | {clean_eval['review_rate']:.1%} |")
    out(f"| OCR-noise simulation | {noisy_eval['wrong_type_above_threshold']:.2%} | {noisy_eval['review_rate']:.1%} |")
    out("\nThe paperless design has no review threshold: every wrong type it gives is filed "
        f"({1 - rows[0][1]:.1%} of clean held-out documents).\n")

    if args.scans_per_type > 0:
        rendered, ocr_text, labels = scan_texts(heldout, args.scans_per_type, args.cache)
        out(f"### Rendered as scans and OCR'd ({len(labels)} held-out documents, up to {args.scans_per_type} per type)\n")
        out("| model | accuracy, rendered text | macro-F1, rendered text | accuracy, OCR'd scan | macro-F1, OCR'd scan | macro-F1 drop |")
        out("|---|---|---|---|---|---|")
        for name, predict in (("paperless-ngx design", base_predict), ("ours", ours_predict)):
            a1, f1 = scores(labels, predict(rendered))
            a2, f2 = scores(labels, predict(ocr_text))
            out(f"| {name} | {a1:.3f} | {f1:.3f} | {a2:.3f} | {f2:.3f} | {f1 - f2:+.3f} |")
        scan_eval = evaluate(ours_model, ocr_text, labels, in_force, always)
        out(f"\nOurs on the OCR'd scans: wrong type at or above threshold {scan_eval['wrong_type_above_threshold']:.2%}, "
            f"sent to review for the type {scan_eval['review_rate']:.1%}. Scans: office-scan and fax degradations "
            "alternating, first two pages, Tesseract through `pipeline.ocr.engine`.\n")

    sample = [heldout.texts[i % len(heldout)] for i in range(1000)]
    out("### Time to classify 1,000 documents (best of 3)\n")
    out("| model | wall s | CPU s |")
    out("|---|---|---|")
    for name, predict in (("paperless-ngx design", base_predict), ("ours", ours_predict)):
        wall, cpu = timing(predict, sample)
        out(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    out(f"\nMean held-out document length {np.mean([len(t) for t in sample]):.0f} characters.")

    out("\n### Ours, per type (clean held-out text)\n")
    out("| type | precision | recall | F1 | support |")
    out("|---|---|---|---|---|")
    for label, m in clean_eval["per_type"].items():
        out(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

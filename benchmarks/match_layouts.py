"""Patient matching on header layouts from the grammar, rendered as scans and read by Tesseract.

    .venv/bin/python benchmarks/match_layouts.py --part held-out --cache /tmp/layouts-ocr
    .venv/bin/python benchmarks/match_layouts.py --part tuned --documents 150 --cache /tmp/layouts-ocr

Index: about 4,500 synthetic patients (`pipeline.synth.patients`, 3% twins, 4% namesakes). Documents
(`pipeline.synth.headers`): one in ten about a person absent from the index, 40% of those a
look-alike of an indexed patient (a namesake born another day, or a sibling born the same day at
the same address); the rest with registration noise (typos, nicknames, swapped names, day/month
swaps, a wrong digit, missing fields, an account number beside the MRN, another patient's MRN).
Each document is rendered (`pipeline.synth.render`: clean / office scan / fax, 200-300 dpi, skew,
pages upside down or sideways), taken in by `intake` and OCR'd by the OCR stage; the OCR result is
cached in `--cache` (keyed by part, seed and document number), so only the first run pays for OCR.
`--text` skips rendering and reads the source text (for quick loops on text; not for reporting).

Matching runs twice on the same OCR result: labelled fields only (`Matcher.match(extract_identifiers)`,
the reader before this benchmark existed) and the full reader (`Matcher.identify`). Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import patients_synth  # noqa: E402

from pipeline.patients.extract import extract_identifiers  # noqa: E402
from pipeline.patients.importer import import_file  # noqa: E402
from pipeline.patients.matcher import Matcher  # noqa: E402
from pipeline.records import Barcode, MatchOutcome, OcrPage, OcrResult, Word  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store.database import make_engine, migrate  # noqa: E402
from pipeline.synth import headers  # noqa: E402
from pipeline.synth.render import CLEAN, FAX, OFFICE_SCAN, Degradation, ground_truth  # noqa: E402

TODAY = date(2026, 6, 1)
LOOKS = {
    "tuned": (("clean 300 dpi", CLEAN, 300), ("office scan 300 dpi", OFFICE_SCAN, 300)),
    "held-out": (
        ("fax", FAX, 300),
        ("office scan 200 dpi", Degradation(skew_degrees=1.5, noise=0.1, blur=0.5, background=245, speckles=30), 200),
        ("upside down 300 dpi", Degradation(rotation=180, skew_degrees=0.6, noise=0.05), 300),
        ("sideways office scan 250 dpi", Degradation(rotation=90, skew_degrees=1.0, noise=0.08, blur=0.6), 250),
    ),
    "unseen": (
        ("clean 240 dpi", CLEAN, 240),
        ("fax with a header line", Degradation(skew_degrees=0.9, fax=True, noise=0.04, speckles=30,
                                               fax_header="DEC 01 2026 08:12 FROM 2175550143 P.{page}/{pages}"), 300),
        ("dark recycled paper 300 dpi", Degradation(skew_degrees=2.0, noise=0.12, blur=0.8, background=232,
                                                    speckles=60, edge_shadow=True), 300),
        ("upside down JPEG 200 dpi", Degradation(rotation=180, skew_degrees=0.7, noise=0.06, jpeg_quality=40), 200),
    ),
    "unseen-2": (
        ("faded toner 300 dpi", Degradation(skew_degrees=1.1, fade=0.4, noise=0.05, speckles=40), 300),
        ("colour scan through JPEG 75, 200 dpi", Degradation(skew_degrees=0.5, color=True, noise=0.04,
                                                             jpeg_quality=75), 200),
        ("sideways clean 300 dpi", Degradation(rotation=270, skew_degrees=0.4), 300),
        ("blurred 150 dpi", Degradation(skew_degrees=1.8, blur=0.9, noise=0.05, background=242), 150),
    ),
    "unseen-3": (
        ("photocopy of a copy, 300 dpi", Degradation(skew_degrees=1.4, noise=0.15, blur=0.7, fade=0.2,
                                                     background=238, speckles=120, edge_shadow=True), 300),
        ("fax, sideways", Degradation(rotation=90, skew_degrees=0.8, fax=True, noise=0.04, speckles=25), 300),
        ("clean 200 dpi stamped", Degradation(skew_degrees=0.3, stamp="RECEIVED DEC 01 2026"), 200),
        ("phone-camera JPEG 180 dpi", Degradation(skew_degrees=2.6, blur=0.8, noise=0.08, background=236,
                                                  color=True, jpeg_quality=60), 180),
    ),
    "unseen-4": (
        ("low-contrast grey 250 dpi", Degradation(skew_degrees=0.8, fade=0.55, background=226, noise=0.05), 250),
        ("skewed 4 degrees 300 dpi", Degradation(skew_degrees=-4.0, noise=0.05, speckles=20), 300),
        ("upside-down fax 200 dpi", Degradation(rotation=180, fax=True, skew_degrees=1.2, noise=0.05,
                                                speckles=40), 200),
        ("colour JPEG 50 sideways 220 dpi", Degradation(rotation=270, color=True, jpeg_quality=50,
                                                        skew_degrees=1.0, noise=0.05), 220),
    ),
    "unseen-5": (
        ("grey 175 dpi, blurred, tilted the other way", Degradation(skew_degrees=-2.2, blur=0.7, noise=0.06,
                                                                    background=240), 175),
        ("fax fed sideways, 200 dpi", Degradation(rotation=90, fax=True, skew_degrees=0.6, noise=0.04,
                                                  speckles=30), 200),
        ("JPEG 35, speckled, 300 dpi", Degradation(skew_degrees=0.9, jpeg_quality=35, speckles=150, noise=0.05), 300),
        ("faded and stamped, upside down, 250 dpi", Degradation(rotation=180, fade=0.35, skew_degrees=1.3,
                                                                stamp="COPY", noise=0.05), 250),
    ),
}


def build_documents(index: list[dict], pool: list[dict], part: headers.Part, n: int, seed: int):
    """[(HeaderDocument, truth MRN or None, kind)] reproducibly."""
    rng = random.Random(seed)
    out = []
    by_family: dict[str, list[dict]] = {}
    for p in index:
        by_family.setdefault(p["family_name"], []).append(p)
    for _ in range(n):
        if rng.random() < 0.10:
            person = dict(rng.choice(pool))
            kind = "absent"
            roll = rng.random()
            other = rng.choice(index)
            if roll < 0.2:  # a namesake of an indexed patient, born another day
                person.update(family_name=other["family_name"], given_name=other["given_name"], sex=other["sex"])
                kind = "absent namesake"
            elif roll < 0.4:  # a sibling of an indexed patient: same surname, birth date, home
                person.update(family_name=other["family_name"], birth_date=other["birth_date"],
                              address=other["address"], city=other["city"], state=other["state"],
                              postcode=other["postcode"], phone=other["phone"])
                if person["given_name"] == other["given_name"]:
                    person["given_name"] = "ZELDA" if other["given_name"] != "ZELDA" else "YOLANDA"
                kind = "absent sibling"
            person["mrn"] = f"9{rng.randrange(10**7):07d}"  # another hospital's number
            truth = None
        else:
            person = rng.choice(index)
            truth = person["mrn"]
            kind = person["kind"]
        doc = headers.header_document(person, rng, part, index)
        if truth is not None and "MRN of another patient" in doc.notes:
            kind = "MRN of another patient"
        out.append((doc, truth, kind))
    return out


# ------------------------------------------------------------------------------------- OCR cache


def _ocr_to_json(ocr: OcrResult) -> dict:
    return {"engine": ocr.engine, "reasons": list(ocr.reasons), "pages": [
        {"number": p.number, "text": p.text, "confidence": p.confidence, "rotation": p.rotation,
         "skew": p.skew, "width": p.width, "height": p.height,
         "words": [[w.text, w.confidence, list(w.box), w.line] for w in p.words],
         "barcodes": [[b.format, b.text, list(b.box) if b.box else None] for b in p.barcodes]}
        for p in ocr.pages]}


def _ocr_from_json(data: dict) -> OcrResult:
    pages = tuple(
        OcrPage(number=p["number"], text=p["text"], confidence=p["confidence"], rotation=p["rotation"],
                skew=p["skew"], width=p["width"], height=p["height"],
                words=tuple(Word(t, c, tuple(b), line) for t, c, b, line in p["words"]),
                barcodes=tuple(Barcode(p["number"], f, t, tuple(b) if b else None) for f, t, b in p["barcodes"]))
        for p in data["pages"])
    return OcrResult(pages=pages, searchable_pdf=None, engine=data["engine"], reasons=tuple(data["reasons"]))


def _text_ocr(doc: headers.HeaderDocument) -> OcrResult:
    pages = tuple(OcrPage(number=i + 1, text=ground_truth([page]), confidence=-1.0)
                  for i, page in enumerate(doc.pages))
    return OcrResult(pages=pages, searchable_pdf=None, engine="text")


def read_all(docs, part: str, seed: int, cache: Path | None, text_only: bool, shard: tuple[int, int],
             cached_only: bool = False) -> list:
    """The OCR result of every document (rendered and OCR'd once, then from the cache); None for
    one not OCR'd (another shard's, or not cached with `cached_only`)."""
    if text_only:
        return [_text_ocr(doc) for doc, _, _ in docs]
    if cached_only:
        paths = [cache / f"{part}-{seed}-{number:04d}.json" for number in range(len(docs))]
        return [_ocr_from_json(json.loads(p.read_text())) if p.exists() else None for p in paths]
    from pipeline.ingest.intake import intake
    from pipeline.ocr.engine import OcrEngine
    from pipeline.synth.render import render_pages, save_scan

    cache = cache or Path(tempfile.mkdtemp(prefix="layouts-ocr-"))
    cache.mkdir(parents=True, exist_ok=True)
    results: list[OcrResult | None] = []
    settings = Settings(ocr_searchable_pdf=False)
    engine = None
    try:
        for number, (doc, _, _) in enumerate(docs):
            path = cache / f"{part}-{seed}-{number:04d}.json"
            if path.exists():
                results.append(_ocr_from_json(json.loads(path.read_text())))
                continue
            if number % shard[1] != shard[0]:
                results.append(None)
                continue
            if engine is None:
                engine = OcrEngine.from_settings(settings).__enter__()
            _, look, dpi = LOOKS[part][number % len(LOOKS[part])]
            images = render_pages(list(doc.pages), dpi=dpi, seed=number, degrade=look, font=doc.font)
            with tempfile.TemporaryDirectory() as tmp:
                suffix = ".png" if len(images) == 1 else ".pdf"
                scan = save_scan(images, Path(tmp) / f"doc{suffix}", created=datetime(2026, 1, 1, tzinfo=UTC))
                ocr = engine.recognize(intake(scan, datetime.now(UTC)), Path(tmp))
            path.write_text(json.dumps(_ocr_to_json(ocr)))
            results.append(ocr)
    finally:
        if engine is not None:
            engine.close()
    return results


# ----------------------------------------------------------------------------------------- run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=sorted(headers.PARTS), default="held-out")
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--patients", type=int, default=4_500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--cache", type=Path, help="folder for OCR results (outside the repository)")
    parser.add_argument("--text", action="store_true", help="read the source text, no rendering (not for reporting)")
    parser.add_argument("--shard", default="0/1", help="i/n: OCR only documents number %% n == i (fill the cache in parallel)")
    parser.add_argument("--ocr-only", action="store_true", help="fill the cache and stop")
    parser.add_argument("--cached-only", action="store_true",
                        help="report on the documents already in the cache, skip the others (no OCR)")
    parser.add_argument("--show-misses", action="store_true", help="print each in-index document not auto-filed")
    args = parser.parse_args()
    part = headers.PARTS[args.part]
    index = patients_synth.index_patients(args.patients, seed=args.seed, twin_rate=0.03, namesake_rate=0.04)
    pool = patients_synth.index_patients(2_000, seed=args.seed + 1)
    # the two parts draw different documents: the held-out seed is never used while tuning
    doc_seed = args.seed + {headers.TUNED: 3, headers.HELD_OUT: 7, headers.UNSEEN: 11, headers.UNSEEN_2: 13, headers.UNSEEN_3: 17,
                            headers.UNSEEN_4: 19, headers.UNSEEN_5: 23}[part]
    docs = build_documents(index, pool, part, args.documents, doc_seed)
    shard = tuple(int(x) for x in args.shard.split("/"))
    started = time.perf_counter()
    ocrs = read_all(docs, args.part, doc_seed, args.cache, args.text, shard, args.cached_only)
    ocr_seconds = time.perf_counter() - started
    if args.cached_only:
        kept = [(d, o) for d, o in zip(docs, ocrs, strict=True) if o is not None]
        docs, ocrs = [d for d, _ in kept], [o for _, o in kept]
    elif args.ocr_only or any(o is None for o in ocrs):
        print(f"OCR cache filled for shard {args.shard} in {ocr_seconds:.0f} s")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        patients_synth.write_csv(index, Path(tmp) / "patients.csv")
        url = f"sqlite:///{Path(tmp) / 'index.db'}"
        migrate(url)
        engine = make_engine(url)
        import_file(Path(tmp) / "patients.csv", engine)
        matcher = Matcher.from_settings(Settings(), engine)
        rows = {"labelled only": Counter(), "full reader": Counter(), "must review": Counter()}
        timings: list[float] = []
        for (doc, truth, kind), ocr in zip(docs, ocrs, strict=True):
            t0 = time.perf_counter()
            _, full = matcher.identify(ocr, today=TODAY)
            timings.append(time.perf_counter() - t0)
            labelled = matcher.match(extract_identifiers(ocr, today=TODAY))
            legible = truth is not None and doc.printed.dob_right and doc.printed.mrn_right
            rows["must review"][("all", "n")] += 1
            rows["must review"][("all", "yes")] += _must_review(doc.printed, truth)
            if truth is not None:
                rows["must review"][("in index", "n")] += 1
                rows["must review"][("in index", "fileable")] += not _must_review(doc.printed, truth)
            for name, match in (("labelled only", labelled), ("full reader", full)):
                _count(rows[name], match, truth, kind, doc.family, legible)
            if args.show_misses and truth is not None and full.outcome is not MatchOutcome.AUTO_FILE:
                print(f"{doc.family}/{doc.vocabulary}/{doc.separator} {kind} {list(doc.notes)}: "
                      f"{full.outcome} {list(full.reasons)}", file=sys.stderr)
        engine.dispose()
    _report(args, rows, docs, timings)
    return 0


def _must_review(printed: headers.PrintedHeader, truth: str | None) -> bool:
    """Whether the auto-file rule sends the document to a clerk however well it is read: its
    person is absent from the index, it prints a wrong birth date or another patient's MRN, or it
    prints neither a birth date nor an MRN (the name alone never files). (An MRN one digit off is
    tolerated beside an exact name and birth date, so it is not counted here.)"""
    dob = printed.birth_date if _is_a_date(printed.birth_date) else ""  # 15/20/1994 reads as no date
    return (truth is None or (dob and not printed.dob_right) or "MRN of another patient" in printed.notes
            or not (dob or printed.mrn))


def _is_a_date(text: str) -> bool:
    parts = text.replace("-", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return bool(text)  # written-out forms are only ever printed right or left off
    month, day, year = (int(p) for p in (parts[1:] + parts[:1] if len(parts[0]) == 4 else parts))
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _count(c: Counter, match, truth: str | None, kind: str, family: str, legible: bool) -> None:
    outcome = match.outcome
    wrong = outcome is MatchOutcome.AUTO_FILE and match.patient.mrn != truth
    result = "wrong" if wrong else ("auto" if outcome is MatchOutcome.AUTO_FILE else
                                    "review" if outcome is MatchOutcome.REVIEW else "no match")
    group = "in index" if truth is not None else "absent"
    for key in (group, f"kind:{kind}", f"family:{family}", "all", *(["legible"] if legible else [])):
        c[(key, result)] += 1
        c[(key, "n")] += 1


def _rate(c: Counter, key: str, result: str) -> str:
    n = c[(key, "n")]
    return f"{c[(key, result)] / n:.3f} ({c[(key, result)]}/{n})" if n else "-"


def _report(args, rows: dict[str, Counter], docs, timings: list[float]) -> None:
    source = "source text (no OCR)" if args.text else "rendered scans OCR'd by Tesseract"
    subset = " (those in the OCR cache)" if args.cached_only else ""
    print(f"## Header layouts, {args.part} part: {len(docs)} documents{subset}, {args.patients:,}-patient index, "
          f"{source}\n")
    print("| measure | labelled fields only | full reader (labels + index-verified) |\n|---|---|---|")
    lab, full = rows["labelled only"], rows["full reader"]
    print(f"| wrong auto-files | {lab[('all', 'wrong')]} | **{full[('all', 'wrong')]}** |")
    print(f"| auto-filed, in-index documents | {_rate(lab, 'in index', 'auto')} | **{_rate(full, 'in index', 'auto')}** |")
    print(f"| ceiling: in-index documents the rule lets file (no wrong birth date, not another patient's MRN) | "
          f"{_rate(rows['must review'], 'in index', 'fileable')} | |")
    print(f"| auto-filed, in-index documents printing the right birth date and no wrong MRN | "
          f"{_rate(lab, 'legible', 'auto')} | {_rate(full, 'legible', 'auto')} |")
    review = lambda c: f"{(c[('all', 'review')] + c[('all', 'no match')]) / c[('all', 'n')]:.3f}"  # noqa: E731
    print(f"| review (incl. no match), all documents | {review(lab)} | **{review(full)}** |")
    must = rows["must review"]
    print(f"| floor: documents the rule sends to a clerk however well they are read (absent; a wrong "
          f"birth date or another patient's MRN printed; neither printed) | {_rate(must, 'all', 'yes')} | |")
    print(f"| of which review / no match | {_rate(lab, 'all', 'review')} / {_rate(lab, 'all', 'no match')} | "
          f"{_rate(full, 'all', 'review')} / {_rate(full, 'all', 'no match')} |")
    print(f"| absent people auto-filed | {lab[('absent', 'wrong')]} of {lab[('absent', 'n')]} | "
          f"{full[('absent', 'wrong')]} of {full[('absent', 'n')]} |")
    timings.sort()
    print(f"| identify time p50 / p95 (reader + match) | | {timings[len(timings) // 2] * 1000:.1f} / "
          f"{timings[int(len(timings) * 0.95)] * 1000:.1f} ms |")
    print("\nFull reader, by layout family and by kind (auto-filed / review / no match / wrong):\n")
    print("| group | documents | auto | review | no match | wrong |\n|---|---|---|---|---|---|")
    keys = sorted({k for k, _ in full if k.startswith(("family:", "kind:"))})
    for key in keys:
        print(f"| {key.split(':', 1)[1]} ({key.split(':')[0]}) | {full[(key, 'n')]} | {full[(key, 'auto')]} | "
              f"{full[(key, 'review')]} | {full[(key, 'no match')]} | {full[(key, 'wrong')]} |")


if __name__ == "__main__":
    sys.exit(main())

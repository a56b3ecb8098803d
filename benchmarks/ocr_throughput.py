"""OCR throughput side by side on one 24-page image-only 300-dpi PDF of generated clinical pages.

    (a) the limit: pages rasterized once (pdftoppm, untimed), then plain `tesseract page out`
        with OMP_THREAD_LIMIT=1, nproc at a time
    (b) OCRmyPDF -j nproc --output-type pdf (the engine inside paperless-ngx)
    (c) the pipeline's OcrEngine (fresh engine: worker start-up included), searchable PDF on
    (d) optional, --process: `pipeline process --json` on the same file (OCR + classify + match + file)

Also measures the two rasterizers for one page at a time (pdf2image first_page/last_page vs
pypdfium2), single process. Prints a Markdown section.

    .venv/bin/python benchmarks/ocr_throughput.py [--pages 24] [--rounds 1] [--process]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_corpus import OFFICE, incoming, scan_file, table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NPROC = os.cpu_count() or 1


def limit(pdf: Path, work: Path) -> float:
    pages = work / "pages"
    pages.mkdir()
    subprocess.run(["pdftoppm", "-r", "300", "-gray", str(pdf), str(pages / "p")], check=True)
    files = sorted(pages.glob("*.pgm"))
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(page: Path) -> None:
        subprocess.run(["tesseract", str(page), str(page.with_suffix("")), "-l", "eng"], env=env,
                       check=True, capture_output=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(NPROC) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - started


def ocrmypdf(pdf: Path, work: Path) -> float:
    program = shutil.which("ocrmypdf") or str(Path(sys.executable).with_name("ocrmypdf"))
    started = time.perf_counter()
    subprocess.run([program, "-j", str(NPROC), "--output-type", "pdf", "-q", str(pdf),
                    str(work / "out.pdf")], check=True)
    return time.perf_counter() - started


def engine(pdf: Path, work: Path) -> float:
    from pipeline.ocr.engine import OcrEngine

    started = time.perf_counter()
    with OcrEngine(workers=NPROC) as ocr:
        result = ocr.recognize(incoming(pdf), work)
    elapsed = time.perf_counter() - started
    assert len(result.pages) > 0 and result.searchable_pdf is not None
    return elapsed


def process(pdf: Path, work: Path) -> float:
    home = work / "home"
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("pipeline")), "--home", str(home),
                    "process", "--json", str(pdf)], check=True, capture_output=True)
    return time.perf_counter() - started


def rasterizers(pdf: Path, pages: int) -> tuple[float, float]:
    import pypdfium2 as pdfium
    from pdf2image import convert_from_path

    started = time.perf_counter()
    for number in range(1, pages + 1):
        convert_from_path(str(pdf), dpi=300, first_page=number, last_page=number, grayscale=True)
    poppler = (time.perf_counter() - started) / pages
    started = time.perf_counter()
    for index in range(pages):
        document = pdfium.PdfDocument(str(pdf))  # reopened per page, as a worker meets it cold
        page = document[index]
        page.render(scale=300 / 72, grayscale=True).to_pil()
        page.close()
        document.close()
    pdfium_time = (time.perf_counter() - started) / pages
    return poppler, pdfium_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--process", action="store_true", help="also time `pipeline process`")
    args = parser.parse_args()

    pdf, _ = scan_file(f"throughput-{args.pages}.pdf", args.pages, OFFICE)
    methods = {"(a) limit: tesseract per page, OMP_THREAD_LIMIT=1": limit,
               "(b) OCRmyPDF -j nproc --output-type pdf": ocrmypdf,
               "(c) pipeline OcrEngine": engine}
    if args.process:
        methods["(d) pipeline process --json"] = process
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name, method in methods.items():  # interleaved, so drift hits all alike
            with tempfile.TemporaryDirectory(prefix="ocr-bench-") as work:
                times[name].append(method(pdf, Path(work)))

    median = {name: statistics.median(t) for name, t in times.items()}
    limit_time = median[next(iter(methods))]
    ocrmypdf_time = median["(b) OCRmyPDF -j nproc --output-type pdf"]
    rows = [(name, f"{median[name]:.1f}", f"{args.pages / median[name]:.2f}",
             f"{limit_time / median[name]:.2f}", f"{ocrmypdf_time / median[name]:.2f}")
            for name in methods]
    poppler, pdfium_time = rasterizers(pdf, min(args.pages, 8))

    print(f"## OCR throughput ({args.pages} pages, 300 dpi image-only PDF, {NPROC} cores, "
          f"median of {args.rounds} round(s))\n")
    print(table(["method", "seconds", "pages/s", "x limit", "x OCRmyPDF"], rows))
    print("\nSpeed relative to (a) and (b): higher is faster. Rasterizing one page at a time, "
          "300 dpi grey, one process:\n")
    print(table(["rasterizer", "s/page"], [("pdf2image (pdftoppm) first_page/last_page",
                                            f"{poppler:.3f}"),
                                           ("pypdfium2 (document reopened each page)",
                                            f"{pdfium_time:.3f}")]))


if __name__ == "__main__":
    main()

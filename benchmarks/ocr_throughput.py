"""OCR throughput side by side on one 24-page image-only 300-dpi PDF of generated clinical pages.

    (a) the limit: pages rasterized once (pdftoppm, untimed), then plain `tesseract page out`
        with OMP_THREAD_LIMIT=1, nproc at a time
    (b) OCRmyPDF -j nproc --output-type pdf (the engine inside paperless-ngx); skipped when it
        is not installed (`make bench`), and the "x OCRmyPDF" columns then repeat "x limit"
    (c) the pipeline's OcrEngine, cold (fresh engine: worker start-up included) and warm (pool
        already started, as in `pipeline watch`), searchable PDF on
    (d) optional, --process: `pipeline process --json` on the same file (OCR + classify + match + file)

Wall-clock and CPU seconds (user+sys of the process and its children) are both reported: other
work on a shared machine slows wall-clock, while CPU seconds count only the work each method does.
Also measures the rasterizers for one page at a time (pdf2image first_page/last_page, pypdfium2
render, the pipeline's direct decode of a scanner page), single process. Prints Markdown.

    .venv/bin/python benchmarks/ocr_throughput.py [--pages 24] [--rounds 1] [--process]
"""

from __future__ import annotations

import argparse
import os
import resource
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


_warm = None


def start_warm_engine(work: Path) -> None:
    """Start the pool and let it see one page, before any clock starts."""
    from pipeline.ocr.engine import OcrEngine
    from pipeline.synth.render import render_pages

    global _warm
    _warm = OcrEngine(workers=NPROC)
    warmup = work / "warmup.png"
    render_pages(["Warm-up page"])[0].save(warmup)
    _warm.recognize(incoming(warmup), work)


def warm_engine(pdf: Path, work: Path) -> float:
    started = time.perf_counter()
    result = _warm.recognize(incoming(pdf), work)
    assert len(result.pages) > 0 and result.searchable_pdf is not None
    return time.perf_counter() - started


def process(pdf: Path, work: Path) -> float:
    home = work / "home"
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("pipeline")), "--home", str(home),
                    "process", "--json", str(pdf)], check=True, capture_output=True)
    return time.perf_counter() - started


def rasterizers(pdf: Path, pages: int) -> tuple[float, float, float]:
    import pypdfium2 as pdfium
    from pdf2image import convert_from_path

    from pipeline.ocr import raster

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
    started = time.perf_counter()
    for index in range(pages):
        raster.render_page(pdf, pdf.name, raster.PDF, index, 300, 10**9)
    direct = (time.perf_counter() - started) / pages
    raster.close_cached()
    return poppler, pdfium_time, direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--process", action="store_true", help="also time `pipeline process`")
    args = parser.parse_args()

    pdf, _ = scan_file(f"throughput-{args.pages}.pdf", args.pages, OFFICE)
    methods = {"(a) limit: tesseract per page, OMP_THREAD_LIMIT=1": limit,
               "(b) OCRmyPDF -j nproc --output-type pdf": ocrmypdf,
               "(c) pipeline OcrEngine, cold": engine,
               "(c) pipeline OcrEngine, warm": warm_engine}
    if args.process:
        methods["(d) pipeline process --json"] = process
    if not (shutil.which("ocrmypdf") or Path(sys.executable).with_name("ocrmypdf").exists()):
        print("OCRmyPDF is not installed (`make bench`): (b) skipped", file=sys.stderr)
        del methods["(b) OCRmyPDF -j nproc --output-type pdf"]
    times: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as work:
        start_warm_engine(Path(work))
    for _ in range(args.rounds):
        for name, method in methods.items():  # interleaved, so drift hits all alike
            with tempfile.TemporaryDirectory(prefix="ocr-bench-") as work:
                before = _cpu()
                times[name].append(method(pdf, Path(work)))
                cpu[name].append(_cpu() - before)
    _warm.close()

    median = {name: statistics.median(t) for name, t in times.items()}
    median_cpu = {name: statistics.median(t) for name, t in cpu.items()}
    first, second = list(methods)[0], "(b) OCRmyPDF -j nproc --output-type pdf"
    if second not in methods:
        second = first
    rows = [(name, f"{median[name]:.1f}", f"{args.pages / median[name]:.2f}",
             f"{median[first] / median[name]:.2f}", f"{median[second] / median[name]:.2f}",
             f"{median_cpu[name]:.1f}", f"{median_cpu[first] / median_cpu[name]:.2f}",
             f"{median_cpu[second] / median_cpu[name]:.2f}")
            for name in methods]
    poppler, pdfium_time, direct = rasterizers(pdf, min(args.pages, 8))

    print(f"## OCR throughput ({args.pages} pages, 300 dpi image-only PDF, {NPROC} cores, "
          f"median of {args.rounds} round(s))\n")
    print(table(["method", "wall s", "pages/s", "x limit", "x OCRmyPDF", "CPU s",
                 "x limit (CPU)", "x OCRmyPDF (CPU)"], rows))
    print("\nSpeed relative to (a) and (b): higher is faster. Rasterizing one page at a time, "
          "300 dpi grey, one process:\n")
    print(table(["rasterizer", "s/page"], [("pdf2image (pdftoppm) first_page/last_page",
                                            f"{poppler:.3f}"),
                                           ("pypdfium2 render (document reopened each page)",
                                            f"{pdfium_time:.3f}"),
                                           ("pipeline: scanner page decoded directly (pikepdf + "
                                            "Pillow)", f"{direct:.3f}")]))


def _cpu() -> float:
    """CPU seconds of this process, its reaped children, and the warm pool's live workers."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    pool = getattr(_warm, "_pool", None)
    for pid in list(getattr(pool, "_processes", None) or {}):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: the worker and the tesseracts it has waited for
        total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


if __name__ == "__main__":
    main()

"""Peak memory of the OCR engine for a 10-page and a 200-page document.

To keep the 200-page run affordable the pages are full US-letter sheets at 300 dpi (2550 x 3300,
the same image size as a real scan, so rasterizing costs the same memory) carrying only the first
eight lines of a generated document each; 10 distinct sheets repeat to make up the document.
Each case runs in a fresh process; a sampler thread adds up the resident memory of that process
and its OCR workers (and their tesseract children) every 20 ms.

    .venv/bin/python benchmarks/ocr_memory.py [--pages 10 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_corpus import CACHE, OFFICE, incoming, page_texts, table  # noqa: E402

NPROC = os.cpu_count() or 1
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def sparse_pdf(pages: int) -> Path:
    from pipeline.synth.render import render_pages, save_scan

    path = CACHE / f"memory-{pages}.pdf"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    texts = ["\n".join(text.splitlines()[:8]) for text in page_texts(10, seed=77)]
    sheets = [render_pages([t], seed=i, degrade=OFFICE)[0] for i, t in enumerate(texts)]
    save_scan([sheets[i % len(sheets)] for i in range(pages)], path)
    return path


def tree_rss(root: int) -> tuple[int, int, int]:
    """(sum of RSS over root and descendants, largest child, largest grandchild) in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * PAGE_SIZE
    total, largest = 0, [0, 0, 0]
    stack = [(root, 0)]
    while stack:
        pid, depth = stack.pop()
        total += rss.get(pid, 0)
        if 1 <= depth <= 2:
            largest[depth] = max(largest[depth], rss.get(pid, 0))
        stack += [(child, depth + 1) for child in children.get(pid, [])]
    return total, largest[1], largest[2]


def child(pdf: Path) -> None:
    from pipeline.ocr.engine import OcrEngine

    peak = {"tree": 0, "worker": 0, "tool": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total, worker, tool = tree_rss(os.getpid())
            peak["tree"] = max(peak["tree"], total)
            peak["worker"] = max(peak["worker"], worker)
            peak["tool"] = max(peak["tool"], tool)
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ocr-mem-") as work, OcrEngine(workers=NPROC) as ocr:
        result = ocr.recognize(incoming(pdf), Path(work))
        output = result.searchable_pdf.stat().st_size
        pages = len(result.pages)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    with open("/proc/self/status") as handle:
        hwm = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmHWM"))
    print(json.dumps({"pages": pages, "seconds": elapsed, "parent_peak": hwm,
                      "tree_peak": peak["tree"], "worker_peak": peak["worker"],
                      "tool_peak": peak["tool"],
                      "output": output, "input": pdf.stat().st_size}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[10, 200])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    rows = []
    for pages in args.pages:
        pdf = sparse_pdf(pages)
        out = subprocess.run([sys.executable, __file__, "--child", str(pdf)], check=True,
                             capture_output=True, text=True).stdout
        found = json.loads(out.strip().splitlines()[-1])
        mib = 1024 * 1024
        rows.append((found["pages"], f"{found['input'] / mib:.1f}", f"{found['output'] / mib:.1f}",
                     f"{found['parent_peak'] / mib:.0f}", f"{found['worker_peak'] / mib:.0f}",
                     f"{found['tool_peak'] / mib:.0f}",
                     f"{found['tree_peak'] / mib:.0f}", f"{found['seconds']:.0f}"))
    print(f"## OCR memory ({NPROC} workers; sparse full-size 300-dpi pages, see the script)\n")
    print(table(["pages", "input MiB", "searchable PDF MiB", "engine process peak MiB",
                 "largest worker MiB", "largest tesseract/pdfunite MiB", "whole tree peak MiB",
                 "seconds"], rows))


if __name__ == "__main__":
    main()

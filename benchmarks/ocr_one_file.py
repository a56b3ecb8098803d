"""One file, one page: `pipeline ocr --json FILE` against `tesseract FILE stdout`, wall and CPU time.

Each round runs both commands on each file, one after the other (interleaved, so that load from
other jobs on the machine falls on both alike), each a fresh process as a user would start it.
Reports the median wall-clock seconds of each and their ratio to `tesseract`'s, and the median CPU
seconds (user + system of the process and its children) and their ratio, from the same runs. Files:
a generated 300-dpi office scan (PNG, resolution in its header), a generated 100-dpi page saved
without one, and the first held-out real form scan of FUNSD (ocr_funsd.py; skipped when absent).

With `--before TREE` (another checkout, e.g. the main branch) its `pipeline ocr` runs too.

    .venv/bin/python benchmarks/ocr_one_file.py [--rounds 5] [--funsd PATH] [--before TREE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ocr_funsd  # noqa: E402
from ocr_corpus import CACHE, sheets, table  # noqa: E402

from pipeline.synth.render import OFFICE_SCAN  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], env: dict[str, str] | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and every child it waited for)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def inputs(funsd: Path) -> list[tuple[str, Path]]:
    folder = CACHE / "one-file"
    folder.mkdir(parents=True, exist_ok=True)
    office = folder / "office-300dpi.png"
    if not office.exists():
        page = sheets(1, OFFICE_SCAN, seed=11)[0]
        page.save(office, dpi=page.info["dpi"])
    low = folder / "office-100dpi-no-header.png"
    if not low.exists():
        sheets(1, OFFICE_SCAN, seed=11, dpi=100)[0].save(low)
    files = [("generated office scan, 300 dpi PNG", office),
             ("generated page, 100 dpi, no resolution in the header", low)]
    forms = [p for p in ocr_funsd.pages(funsd) if p.half == "held-out"]
    if forms:
        files.append((f"real form scan (FUNSD {forms[0].path.name}, ~90 dpi, none in the header)",
                      forms[0].path))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    ocr_funsd.add_argument(parser)
    parser.add_argument("--before", type=Path, help="another checkout whose `pipeline ocr` runs too")
    parser.add_argument("--single-thread", action="store_true",
                        help="OMP_THREAD_LIMIT=1 for every command: on a busy machine Tesseract's OpenMP "
                             "threads spin for CPU they do not use, which swamps the CPU seconds")
    args = parser.parse_args()

    files = inputs(args.funsd)
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.single_thread:
        base["OMP_THREAD_LIMIT"] = "1"
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ocr-one-file-") as home:
        def pipeline(tree: Path):  # noqa: ANN202
            # bytecode as an installed package has it (pip compiles on install), kept outside the
            # trees: with PYTHONDONTWRITEBYTECODE set, every run would compile ~90 modules again
            env = dict(base, PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX=str(CACHE / "pycache"))
            # -P: `-c` would put the current folder first on sys.path, ahead of PYTHONPATH's tree
            return lambda f: ([sys.executable, "-P", "-c", "from pipeline.cli import main; main()",
                               "--home", home, "ocr", "--json", str(f)], env)

        commands = {"tesseract FILE stdout": lambda f: (["tesseract", str(f), "stdout"], base),
                    "pipeline ocr --json FILE": pipeline(ROOT)}
        if args.before:
            commands[f"pipeline ocr --json FILE ({args.before})"] = pipeline(args.before)
        for name, command in commands.items():  # untimed: writes the bytecode, warms the disk cache
            run(*command(files[0][1]))
        for _ in range(args.rounds):
            for label, path in files:
                for name, command in commands.items():
                    times.setdefault((label, name), []).append(run(*command(path)))

    rows = []
    for label, _ in files:
        plain_wall = statistics.median(w for w, _ in times[(label, "tesseract FILE stdout")])
        plain_cpu = statistics.median(c for _, c in times[(label, "tesseract FILE stdout")])
        for name in commands:
            wall = statistics.median(w for w, _ in times[(label, name)])
            cpu = statistics.median(c for _, c in times[(label, name)])
            rows.append([label, name, f"{wall:.2f}", f"{wall / plain_wall:.2f}", f"{cpu:.2f}",
                         f"{cpu / plain_cpu:.2f}"])
    threads = "OMP_THREAD_LIMIT=1" if args.single_thread else "Tesseract's own OpenMP threads"
    print(f"## One file, one page (median of {args.rounds} interleaved rounds; {threads}; load average "
          f"{os.getloadavg()[0]:.1f} at the end)\n")
    print(table(["file", "command", "wall s", "x tesseract (wall)", "CPU s", "x tesseract (CPU)"], rows))


if __name__ == "__main__":
    main()

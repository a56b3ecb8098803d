"""Load: N generated scans dropped into a watched inbox at once, the review app answering meanwhile.

    .venv/bin/python benchmarks/load_inbox.py [--documents 1000] [--dpi 120] [--home DIR]

What runs, all real processes: `pipeline watch --json` on `<home>/inbox`, and `pipeline review serve
--trust-remote-user`, whose queue page (`GET /queue`) is polled twice a second while the inbox drains.
The inputs come from `pipeline/synth`: patients from `generate_patients` (imported into the index),
each document a short progress note rendered by `render_pages` at `--dpi` and cut to its top third
(a small page, so Tesseract takes about a second for it on 2 cores: the load is the point, not OCR).
The mix: most name a patient in the index (filed, or queued when OCR misreads them), some name a
patient the index does not hold (queued), some are not scans at all (rejected), some are the same
bytes as an earlier one under another name (duplicates). They are written to a staging folder and
renamed into the inbox together.

At the end it asserts, and fails loudly otherwise: the inbox is empty; every input is accounted for
exactly once (filed + queued + rejected + duplicate = N, from the manifest); every distinct input
SHA-256 has exactly one manifest row (never two, never none) or one rejection; every duplicate
points at the row holding its bytes. It reports the drain time, the queue page's latency (p50, p95,
max) and the largest resident memory of the watcher process (with its children) sampled meanwhile.
Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from pipeline.synth.patients import generate_patients, write_patient_csv
from pipeline.synth.render import OFFICE_SCAN, render_pages, save_scan

SHARE_UNKNOWN, SHARE_BAD, SHARE_DUPLICATE = 0.08, 0.04, 0.02
SMALL_PAGE = 0.34  # the top third of a letter page: header and a line of text


def make_inputs(n: int, patients, outsiders, dpi: int, staging: Path, seed: int) -> dict[str, str]:
    """Write N inputs into `staging`; returns name -> expected kind (document / bad / duplicate)."""
    rng = random.Random(seed)
    kinds: dict[str, str] = {}
    written: list[Path] = []
    for i in range(n):
        name = f"scan_{i:05d}.pdf"
        roll = {3: 0.0, 5: SHARE_BAD}.get(i, rng.random())  # at least one not-a-scan and one copy, at fixed places
        if roll < SHARE_BAD:
            (staging / name).write_bytes(rng.randbytes(rng.randint(10, 4000)))
            kinds[name] = "bad"
            continue
        if roll < SHARE_BAD + SHARE_DUPLICATE and written:
            shutil.copyfile(rng.choice(written), staging / name)
            kinds[name] = "duplicate"
            continue
        who = rng.choice(outsiders) if roll < SHARE_BAD + SHARE_DUPLICATE + SHARE_UNKNOWN else rng.choice(patients)
        page = "\n".join(["# Progress Note", f"> Patient: {who.family_name.upper()}, {who.given_name.upper()}",
                          f"> DOB: {who.birth_date:%m/%d/%Y}    MRN: {who.mrn}", "",
                          f"Seen in clinic today, visit {i}. Stable; continue the current plan."])
        sheet = render_pages([page], dpi=dpi, seed=seed + i, degrade=OFFICE_SCAN)[0]
        small = sheet.crop((0, 0, sheet.width, int(sheet.height * SMALL_PAGE)))
        small.info.update(sheet.info)
        written.append(save_scan([small], staging / name, jpeg_quality=60))
        kinds[name] = "document"
    return kinds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_of_tree(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def get_queue(port: int) -> tuple[int, float]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/queue", headers={"X-Remote-User": "load-bench"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - start
    finally:
        conn.close()


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)  # polling a condition with a deadline


def run(args: argparse.Namespace, home: Path) -> LoadResult:
    cli = [sys.executable, "-m", "pipeline.cli", "--home", str(home)]
    env = {**os.environ, "PIPELINE_WATCH_SETTLE_SECONDS": "0.5", "PIPELINE_WATCH_POLL_SECONDS": "0.2"}
    everyone = generate_patients(args.patients + 100, args.seed)
    patients, outsiders = everyone[:args.patients], everyone[args.patients:]
    write_patient_csv(patients, home / "patients.csv")
    subprocess.run([*cli, "patients", "import", str(home / "patients.csv")], check=True, capture_output=True, env=env)
    staging, inbox = home / "staging", home / "inbox"
    staging.mkdir()
    inbox.mkdir(exist_ok=True)  # `patients import` may have made it
    started = time.perf_counter()
    kinds = make_inputs(args.documents, patients, outsiders, args.dpi, staging, args.seed)
    generate_s = time.perf_counter() - started
    shas = {name: hashlib.sha256((staging / name).read_bytes()).hexdigest() for name in kinds}

    # the proxy-authenticated user the queue is polled as: a known user with no password (`--no-password`)
    subprocess.run([*cli, "users", "add", "load-bench", "--role", "clerk", "--no-password"], check=True,
                   capture_output=True, env=env)
    port = free_port()
    logs = home / "logs"
    logs.mkdir()
    server = subprocess.Popen([*cli, "review", "serve", "--trust-remote-user", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(logs / "serve.err", "w"))
    watcher = subprocess.Popen([*cli, "watch", "--json"], env=env, stdout=open(logs / "watch.out", "w"),
                               stderr=open(logs / "watch.err", "w"))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    peak = {"watch": 0, "serve": 0}
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                status, seconds = get_queue(port)
                statuses[status] += 1
                latencies.append(seconds)
            except OSError:
                statuses[0] += 1
            peak["watch"] = max(peak["watch"], rss_of_tree(watcher.pid))
            peak["serve"] = max(peak["serve"], rss_of_tree(server.pid))
            done.wait(0.5)

    try:
        wait_for(lambda: _answers(port), 60, "the review app to start")
        poller = threading.Thread(target=poll)
        poller.start()
        dropped = time.perf_counter()
        for name in sorted(kinds):  # renamed in: each file appears whole, all within a moment
            os.rename(staging / name, inbox / name)
        wait_for(lambda: not any(inbox.iterdir()), args.timeout, "the inbox to drain")
        wait_for(lambda: _lines(logs / "watch.out") >= args.documents, 60, "the watcher's last result")
        drain_s = time.perf_counter() - dropped
    finally:
        done.set()
        for process in (watcher, server):
            process.send_signal(signal.SIGTERM)
        for process in (watcher, server):
            process.wait(timeout=60)
    poller.join()
    return LoadResult(kinds=Counter(kinds.values()), outcomes=check(home, kinds, shas, inbox), generate_s=generate_s,
                      drain_s=drain_s, statuses=statuses, latencies=latencies, peak_watch=peak["watch"],
                      peak_serve=peak["serve"])


@dataclass
class LoadResult:
    kinds: Counter[str]  # what was sent: document / bad / duplicate
    outcomes: Counter[str]  # what the manifest holds: filed / needs_review / rejected / duplicate
    generate_s: float
    drain_s: float
    statuses: Counter[int]  # queue page answers by HTTP status (0: no answer)
    latencies: list[float]
    peak_watch: int
    peak_serve: int

    def p95_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[94] * 1000 if len(self.latencies) >= 2 else 0.0

    def markdown(self, args: argparse.Namespace) -> list[str]:
        n, k, o = sum(self.kinds.values()), self.kinds, self.outcomes
        p50 = statistics.median(self.latencies) * 1000
        return [
            f"`.venv/bin/python benchmarks/load_inbox.py --documents {args.documents} --dpi {args.dpi} "
            f"--patients {args.patients} --seed {args.seed}` ({os.cpu_count()} cores, shared)",
            "",
            "| inputs | made of | generate (s) | drain (s) | docs/min | filed | queued | rejected | duplicate | "
            "lost or doubled |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {n} | {k['document']} scans, {k['bad']} not scans, {k['duplicate']} copies | {self.generate_s:.0f} | "
            f"{self.drain_s:.0f} | {n / self.drain_s * 60:.0f} | {o['filed']} | {o['needs_review']} | {o['rejected']} | "
            f"{o['duplicate']} | none (checked by SHA-256) |",
            "",
            "| queue page polls while draining | answered 200 | p50 (ms) | p95 (ms) | max (ms) | watcher peak RSS "
            "(MiB, with children) | review app peak RSS (MiB) |",
            "|---|---|---|---|---|---|---|",
            f"| {sum(self.statuses.values())} | {self.statuses[200]} | {p50:.0f} | {self.p95_ms():.0f} | "
            f"{max(self.latencies) * 1000:.0f} | {self.peak_watch / 2**20:.0f} | {self.peak_serve / 2**20:.0f} |",
        ]


def _answers(port: int) -> bool:
    try:
        return get_queue(port)[0] == 200
    except OSError:
        return False


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.startswith("{"))


def check(home: Path, kinds: dict[str, str], shas: dict[str, str], inbox: Path) -> Counter[str]:
    """Every input accounted for exactly once, from the manifest; raises SystemExit otherwise."""
    problems = []
    if any(inbox.iterdir()):
        problems.append(f"inbox not empty: {sorted(p.name for p in inbox.iterdir())[:5]}")
    engine = create_engine(f"sqlite:///{home / 'manifest.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sha256, outcome, document_id FROM documents WHERE relates_to IS NULL")).all()
        events = conn.execute(text("SELECT kind, sha256, document_id, source_name FROM intake_events")).all()
    engine.dispose()
    by_sha = Counter(sha for sha, _, _ in rows)
    doubled = [sha for sha, n in by_sha.items() if n > 1]
    if doubled:
        problems.append(f"{len(doubled)} inputs have two manifest rows (first {doubled[0][:12]})")
    rows_of = {sha: document_id for sha, _, document_id in rows}
    duplicates = Counter(sha for kind, sha, _, _ in events if kind == "duplicate")
    rejected = {Path(source).name for kind, _, _, source in events if kind == "rejected"}
    for kind, sha, document_id, _ in events:
        if kind == "duplicate" and rows_of.get(sha) != document_id:
            problems.append(f"a duplicate of {sha[:12]} does not point at the row holding its bytes")
    for name, kind in kinds.items():
        if kind == "bad" and name not in rejected:
            problems.append(f"{name} (not a scan) was not rejected")
        if kind != "bad" and shas[name] not in rows_of:
            problems.append(f"{name} is lost: no manifest row holds its bytes")
    expected_duplicates = Counter(shas[name] for name, kind in kinds.items() if kind == "duplicate")
    if duplicates != expected_duplicates:
        problems.append(f"{sum(duplicates.values())} duplicates recorded, {sum(expected_duplicates.values())} sent")
    if len(rows) + len(events) != len(kinds):
        problems.append(f"{len(kinds)} inputs, {len(rows) + len(events)} accounted for "
                        f"({len(rows)} rows, {len(events)} duplicates and rejections)")
    if problems:
        raise SystemExit("LOAD CHECK FAILED:\n  " + "\n  ".join(problems[:20]))
    counts: Counter[str] = Counter(outcome for _, outcome, _ in rows)
    counts.update(kind for kind, _, _, _ in events)
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds the inbox may take to drain")
    parser.add_argument("--home", type=Path, help="keep the home here (default: a temporary folder)")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.home:
        args.home.mkdir(parents=True, exist_ok=False)
        result = run(args, args.home)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args, Path(tmp))
    print(f"## Load: {args.documents} scans dropped into the watched inbox at once\n")
    print("\n".join(result.markdown(args)))


if __name__ == "__main__":
    main()

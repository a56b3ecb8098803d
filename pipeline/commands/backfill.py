"""`pipeline backfill`: scan a whole archive as one resumable run (the use case is `services.backfill`).

    pipeline backfill [--workers N] [--report DIR] [--json] DIR...     a new run
    pipeline backfill --resume RUN [--workers N]                        carry on (RUN or "last")
    pipeline backfill --dry-run DIR...                                  count files and pages, estimate the time

A progress bar on a terminal (files, pages, pages/s, time left, filed / review / rejected so far);
a plain line every `--every` seconds on stderr otherwise. The first Ctrl-C finishes the documents in
flight and stops (exit 130, resumable); a second one stops at once. At the end: the report (CSV and
JSON) and a one-screen summary (`--json`: one object on stdout). The use case is imported by the
handler, so mounting the command (every `pipeline` run) does not load it.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import EXIT_INTERRUPTED, EXIT_OK, PassingFaultError
from pipeline.records import Outcome, RunStatus
from pipeline.settings import Settings, WorkerMode

if TYPE_CHECKING:
    from pipeline.services import backfill

log = logging.getLogger("pipeline")


def register(subparsers) -> None:
    cmd = subparsers.add_parser("backfill", help="scan an archive as one resumable run, with progress and a report")
    cmd.add_argument("paths", nargs="*", type=Path, metavar="DIR", help="folders and/or files")
    cmd.add_argument("--resume", metavar="RUN", help="carry on a run that was stopped or killed (its id, or 'last')")
    cmd.add_argument("--workers", type=int, default=None, help="documents at a time (default: PIPELINE_WORKERS)")
    cmd.add_argument("--dry-run", action="store_true", help="count files and pages and estimate the time; process nothing")
    cmd.add_argument("--report", type=Path, metavar="DIR", help="where the report goes (default <home>/reports)")
    cmd.add_argument("--every", type=float, default=10.0, metavar="SECONDS",
                     help="progress line interval when stderr is not a terminal")
    cmd.add_argument("--json", action="store_true", help="the summary as one JSON object on stdout")
    cmd.set_defaults(handler=cmd_backfill)


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.services import backfill
    from pipeline.services.home import open_home

    if bool(args.paths) == bool(args.resume):
        raise SystemExit("pipeline backfill: give folders to scan, or --resume RUN (not both)")
    if args.workers is not None:
        settings = settings.model_copy(update={"workers": max(1, args.workers)})
    workers = settings.worker_count
    if args.dry_run:
        return _dry_run(backfill.plan_inputs(args.paths), workers, args.json)
    manifest, _ = open_home(settings)
    if args.resume:
        run_id = backfill.find_run(manifest, args.resume)
    else:
        inputs = backfill.plan_inputs(args.paths)
        run_id = backfill.start_run(manifest, args.paths, inputs, workers)
    print(f"backfill run {run_id} (resume with: pipeline backfill --resume {run_id})", file=sys.stderr, flush=True)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, _on_interrupt(stop))
    try:
        with _progress_view(args.every) as show:
            if settings.worker_mode is WorkerMode.CELERY:
                summary = backfill.run_items(manifest, run_id, backfill.remote_processor(settings),
                                             workers=workers, stop=stop, on_progress=show)
            else:
                from pipeline.orchestrator import Pipeline

                with Pipeline.open(settings) as pipeline:
                    pipeline.ready()  # a broken model stops the run before it starts
                    summary = backfill.run_items(manifest, run_id, pipeline.process_batch, workers=workers,
                                                 stop=stop, on_progress=show)
    finally:
        signal.signal(signal.SIGINT, previous)
    paths = backfill.write_report(manifest, run_id, args.report or settings.home / "reports")
    _print_summary(summary, paths, args.json)
    if stop.is_set() and summary.status is not RunStatus.FINISHED:
        return EXIT_INTERRUPTED
    if summary.undone:
        raise PassingFaultError(
            f"{len(summary.undone)} of {summary.progress.files_total} files left undone where they were "
            "(a passing fault outlasted the retries; the report names them, with the fault)",
            hint=f"once the fault is cleared: pipeline backfill --resume {summary.run_id}")
    return EXIT_OK


def _on_interrupt(stop: threading.Event) -> Callable[..., None]:
    def handler(*_: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after the documents in flight (Ctrl-C again to stop at once)", file=sys.stderr, flush=True)
    return handler


def _dry_run(inputs, workers: int, as_json: bool) -> int:
    from pipeline.services import backfill

    dry = backfill.estimate(inputs, workers)
    if as_json:
        print(json.dumps({"files": dry.files, "pages": dry.pages, "estimated_seconds": round(dry.seconds)}))
    else:
        print(f"{dry.files} files, {dry.pages} pages; about {_duration(dry.seconds)} with {workers} workers "
              f"(at {backfill.SECONDS_PER_PAGE:.1f} s of OCR per page per core)")
    return EXIT_OK


# ------------------------------------------------------------------------------------ progress


class _progress_view:
    """A rich progress bar on a terminal, else a plain line on stderr every `every` seconds."""

    def __init__(self, every: float) -> None:
        self.every, self.last, self.bar, self.task = every, 0.0, None, None

    def __enter__(self) -> Callable[[backfill.Progress], None]:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            self.bar = Progress(BarColumn(), TextColumn("{task.description}"), console=Console(stderr=True),
                                transient=False)
            self.bar.start()
            self.task = self.bar.add_task("starting", total=None)
        return self.show

    def show(self, progress: backfill.Progress) -> None:
        if self.bar is not None:
            self.bar.update(self.task, total=max(progress.pages_total, 1), completed=progress.pages_done,
                            description=_line(progress))
            return
        now = time.monotonic()
        if now - self.last >= self.every or progress.files_done + progress.undone == progress.files_total:
            self.last = now
            print(f"backfill: {_line(progress)}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _line(p: backfill.Progress) -> str:
    eta = p.eta_seconds
    return (f"{p.files_done}/{p.files_total} files, {p.pages_done}/{p.pages_total} pages, "
            f"{p.pages_per_second:.2f} pages/s, ETA {_duration(eta) if eta is not None else '?'}; "
            f"filed {p.outcomes[Outcome.FILED]}, review {p.outcomes[Outcome.NEEDS_REVIEW]}, "
            f"rejected {p.outcomes[Outcome.REJECTED]}, duplicate {p.outcomes[Outcome.DUPLICATE]}"
            + (f", undone {p.undone}" if p.undone else ""))


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _print_summary(summary: backfill.RunSummary, report: tuple[Path, Path], as_json: bool) -> None:
    p = summary.progress
    if as_json:
        print(json.dumps({"run": summary.run_id, "status": str(summary.status), "files": p.files_total,
                          "files_done": p.files_done, "pages": p.pages_done, "undone": len(summary.undone),
                          "outcomes": dict(p.outcomes), "report_csv": str(report[0]),
                          "report_json": str(report[1])}))
        return
    elapsed = time.monotonic() - p.started
    print(f"backfill run {summary.run_id}: {summary.status}")
    print(f"  files     {p.files_done} of {p.files_total} done; {p.pages_done} pages in {_duration(elapsed)}"
          f" ({p.pages_per_second:.2f} pages/s)")
    print("  documents " + ", ".join(f"{n} {o}" for o, n in sorted(p.outcomes.items())) if p.outcomes else
          "  documents none")
    for reason, count in summary.reasons:
        print(f"  {count:>5} x {reason}")
    if summary.undone:
        print(f"  undone    {len(summary.undone)} files: pipeline backfill --resume {summary.run_id}")
    print(f"  report    {report[0]}\n            {report[1]}")

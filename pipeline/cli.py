"""The `pipeline` command: global options, logging, error handling and exit codes.

The sub-commands of each area register themselves (`pipeline/commands/<area>.py`,
`register(subparsers)`); this module adds the ones that span stages: process, watch, worker, doctor.
stdout carries machine output (`--json`: one object per line); logs go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from pipeline import __version__
from pipeline.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    MissingDependencyError,
    NotFoundError,
    PassingFaultError,
    PipelineError,
)
from pipeline.records import BatchResult, Outcome
from pipeline.settings import Settings, WorkerMode, load_settings

log = logging.getLogger("pipeline")

WATCH_MAX_RETRY_SECONDS = 60.0  # `watch` never gives up on a document hit by a passing fault; waits at most this

#: command modules that add their own sub-commands, in the order `--help` lists them
COMMAND_MODULES = (
    "pipeline.commands.patients",
    "pipeline.commands.ocr",
    "pipeline.commands.classify",
    "pipeline.commands.store",
    "pipeline.commands.review",
    "pipeline.commands.coversheet",
    "pipeline.commands.backfill",
    "pipeline.commands.users",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline",
        description="Scanned medical records: OCR, document type, patient match, filing, review queue.",
    )
    parser.add_argument("--home", type=Path, help="home folder (manifest, object store, inbox); "
                        "default $PIPELINE_HOME or ./var")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    parser.add_argument("--version", action="version", version=f"pipeline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    process = commands.add_parser("process", help="process files and/or folders now, each filed or queued")
    process.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    process.add_argument("--json", action="store_true", help="one JSON object per document per line")
    process.add_argument("--follow-symlinks", action="store_true",
                         help="take a symbolic link named on the command line as the file it points to "
                         "(links found inside folders are always refused)")
    process.set_defaults(handler=cmd_process)

    watch = commands.add_parser("watch", help="file whatever is dropped into the inbox folder")
    watch.add_argument("inbox", nargs="?", type=Path, help="default: <home>/inbox")
    watch.add_argument("--json", action="store_true")
    watch.set_defaults(handler=cmd_watch)

    worker = commands.add_parser("worker", help="run a Celery worker that processes queued documents")
    worker.add_argument("--concurrency", type=int, default=None)
    worker.set_defaults(handler=cmd_worker)

    doctor = commands.add_parser("doctor", help="external tools, their versions, and how to install what is missing")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=cmd_doctor)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


# ----------------------------------------------------------------------------------- commands


def cmd_process(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.ingest.discover import iter_inputs

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise NotFoundError(f"no such file or folder: {', '.join(missing)}; check the path")
    paths = list(iter_inputs(args.paths, follow_symlinks=args.follow_symlinks))
    results = [result for batch in _run(paths, settings, args.json) for result in batch.results]
    counts = {outcome: sum(r.status is outcome for r in results) for outcome in Outcome}
    log.info("processed %d documents from %d files: %s", len(results), len(paths),
             ", ".join(f"{n} {o}" for o, n in counts.items() if n))
    undone = [r for r in results if r.status is Outcome.UNDONE]
    if undone:
        raise PassingFaultError(
            f"{len(undone)} of {len(paths)} inputs left undone where they were (the `undone` lines on "
            f"stdout name them, with the fault): {'; '.join(sorted({r.reasons[0] for r in undone if r.reasons}))}",
            hint="run the same command again once the fault is cleared (what was done is not done twice)")
    return EXIT_OK


def _run(paths: list[Path], settings: Settings, as_json: bool) -> list[BatchResult]:
    """Each file through `Pipeline.process_file` (batches split), here or in Celery workers."""
    from pipeline.orchestrator import Pipeline

    done = []
    if settings.worker_mode is WorkerMode.CELERY:
        from pipeline.celery_app import submit_and_wait

        for batch in submit_and_wait(paths, settings):
            _print_results(batch, as_json)
            done.append(batch)
        return done
    with Pipeline.open(settings) as pipeline:
        for batch in pipeline.process_files(paths):
            _print_results(batch, as_json)
            done.append(batch)
        pipeline.ready()  # a model that cannot load is exit 5 even when no document got that far
    return done


def _print_results(batch: BatchResult, as_json: bool) -> None:
    """A line per document of the file: a part of a split batch names its part and batch pages."""
    for result, line in zip(batch.results, batch.lines(), strict=True):
        if as_json:
            print(json.dumps(line), flush=True)
            continue
        where = f"MRN {result.patient_mrn}" if result.patient_mrn else "review queue"
        if result.status is Outcome.REJECTED:
            where = "quarantine"
        elif result.status is Outcome.UNDONE:
            where = "left where it was"
        part = f" part {line['part']} (batch pages {line['batch_pages'][0]}-{line['batch_pages'][1]})" \
            if "part" in line else ""
        kind = f"{result.doc_type} ({result.type_confidence:.2f})" if result.doc_type else ""
        print(f"{result.status:<13} {result.source}{part} -> {where} {kind}".rstrip(), flush=True)
        for reason in result.reasons:
            print(f"{'':14}- {reason}", flush=True)


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.ingest.watcher import watch
    from pipeline.orchestrator import Pipeline, dispose_of_inbox_file

    inbox = args.inbox or settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Pipeline.open(settings) as pipeline:
        pipeline.ready()  # a broken model stops `watch` now, not at the first scan

        def handle(path: Path) -> None:
            batch = pipeline.process_file(path)  # a batch is split; its parts filed before are not filed twice
            _print_results(batch, args.json)
            undone = [r for r in batch.results if r.status is Outcome.UNDONE]
            if undone:  # the watcher puts it back and tries again later
                raise PassingFaultError(undone[0].reasons[0] if undone[0].reasons else "a passing fault")
            dispose_of_inbox_file(path, batch, settings)

        log.info("watching %s (Ctrl-C to stop)", inbox)
        try:
            watch(inbox, handle, settle_seconds=settings.watch_settle_seconds,
                  poll_seconds=settings.watch_poll_seconds, stop=stop,
                  retry=(max(settings.fault_retry_delay, 0.1), WATCH_MAX_RETRY_SECONDS))
        except KeyboardInterrupt:
            stop.set()
    return EXIT_OK


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.celery_app import run_worker

    return run_worker(settings, concurrency=args.concurrency)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 3 when a required tool is missing; optional ones are listed with their install hint."""
    from pipeline.ocr.doctor import tool_report

    report = tool_report(settings.ocr_languages)
    warnings = _storage_warnings(settings)
    if args.json:
        for tool in report:
            print(json.dumps({"name": tool.name, "found": tool.found, "required": tool.required,
                              "version": tool.version, "minimum": tool.minimum, "install": tool.install}))
        for warning in warnings:
            print(json.dumps({"warning": warning}))
    else:
        for tool in report:
            mark = "ok     " if tool.found else ("MISSING" if tool.required else "absent ")
            line = f"{mark} {tool.name:<22} {tool.version or '-':<12}"
            if not tool.found:
                line += f"  install: {tool.install}"
            print(line)
        print(f"home: {settings.home.resolve()}  database: {_redact(settings.database)}")
        for warning in warnings:
            print(f"WARNING {warning}")
    missing = [tool for tool in report if tool.required and not tool.found]
    return MissingDependencyError.exit_code if missing else EXIT_OK


def _storage_warnings(settings: Settings) -> list[str]:
    if not settings.s3_bucket:
        return []
    from pipeline.store.s3 import encryption_warnings

    return encryption_warnings(settings)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# ---------------------------------------------------------------------------------------- main


def configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity < 0 else (logging.INFO, logging.DEBUG)[min(verbosity, 1)]
    from pipeline.ingest.names import EscapeControlCharacters

    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # one event, one line, whatever a message interpolates
        if not any(isinstance(f, EscapeControlCharacters) for f in handler.filters):
            handler.addFilter(EscapeControlCharacters())
    for noisy in ("PIL", "botocore", "boto3", "urllib3", "s3transfer", "alembic", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = load_settings(args.home)
        return int(args.handler(args, settings) or EXIT_OK)
    except PipelineError as exc:
        log.debug("failure", exc_info=True)
        print(f"pipeline: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("pipeline: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - last resort: one line, traceback only with -v
        log.debug("unexpected failure", exc_info=True)
        print(f"pipeline: unexpected error: {type(exc).__name__}: {exc} (run with -v for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

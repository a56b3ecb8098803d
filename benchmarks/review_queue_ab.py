"""The queue page before and after a change, side by side in one run: one review home (10,000 open
items, `review_pages.py`'s rows) copied twice, each copy served by one code tree over real HTTP
(uvicorn on 127.0.0.1, so work a route leaves for after its response is not counted), the two
measured in alternating rounds so both see the same machine load.

    git archive BASE | tar -x -C /tmp/before          # the code to compare with, as a plain tree
    .venv/bin/python benchmarks/review_queue_ab.py --before /tmp/before [--after .] [--open 10000 --filed 20000]
    .venv/bin/python benchmarks/review_queue_ab.py --before /tmp/before --database postgresql

Each round starts a fresh process per tree (cold app: the first view reads every open item's reasons;
it is the warm-up, not counted), then times `--runs` views of /queue. Prints a Markdown table of p50
and p95 over every timed view, and the load average before and after. SQLite by default; with
`--database postgresql` the home's database is a throwaway PostgreSQL database next to
$PIPELINE_TEST_DATABASE_URL, built once and copied for each tree (`CREATE DATABASE ... TEMPLATE`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "bench", "bench password 1"


def build(tree: Path, scratch: Path, filed: int, open_items: int, backend: str, url: str) -> Path:
    """A home built by `tree`'s own benchmark code (its own migrations), its database at `url`."""
    script = ("import argparse, sys; sys.path.insert(0, sys.argv[1] + '/benchmarks')\n"
              "import review_pages as rp, store_manifest\n"
              "from pathlib import Path\n"
              "if __name__ == '__main__':\n"
              "    s = Path(sys.argv[2]); args = argparse.Namespace(filed=int(sys.argv[3]), open=int(sys.argv[4]),"
              " seed=7, page_views=1)\n"
              "    store_manifest.PATIENTS = max(args.filed // 10, 1)\n"
              "    rp.build(sys.argv[5], sys.argv[6], s, rp.sample_item(s), args)\n")
    scratch.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", script, str(tree), str(scratch), str(filed), str(open_items), backend, url],
                   env=os.environ | {"PYTHONPATH": str(tree)}, cwd=scratch.parent, check=True)  # not this tree
    return scratch / f"home-{backend}"


@contextmanager
def postgresql_databases() -> Iterator[tuple[str, Callable[[str], str]]]:
    """A throwaway database to build into, and what copies it for one tree (its URL); all dropped after."""
    from sqlalchemy import create_engine, text

    admin_url = os.environ.get("PIPELINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    built = f"pipeline_queue_ab_{uuid.uuid4().hex[:8]}"
    made = [built]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    base = admin_url.rpartition("/")[0]

    def copy_for(name: str) -> str:
        made.append(f"{built}_{name}")
        with admin.connect() as conn:  # the build's connections are closed: its process has ended
            conn.execute(text(f'CREATE DATABASE "{made[-1]}" TEMPLATE "{built}"'))
        return f"{base}/{made[-1]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{built}"'))
    try:
        yield f"{base}/{built}", copy_for
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def serve_and_time(home: Path, database: str, runs: int) -> list[float]:
    """In the child: serve `home` with the code on PYTHONPATH and time `runs` views of the queue."""
    import re

    import httpx
    import uvicorn

    from pipeline.records import Role
    from pipeline.review.app import create_app
    from pipeline.review.identity import ReviewConfig, load_secret
    from pipeline.services import users
    from pipeline.services.home import open_home
    from pipeline.settings import load_settings
    from pipeline.store.accounts import Accounts

    os.environ["PIPELINE_DATABASE_URL"] = database
    settings = load_settings(home)
    manifest = open_home(settings).manifest  # migrates to this tree's head
    accounts = Accounts(manifest.engine, clock=manifest.clock)
    if accounts.user(USER) is None:
        users.add_user(accounts, USER, Role.CLERK, PASSWORD)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings, ReviewConfig(secret=load_secret(home), allowed_hosts=("127.0.0.1",)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    samples = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"csrf": token, "user": USER, "password": PASSWORD, "next": "/queue"})
        assert client.get("/queue").status_code == 200  # warm-up: reads every open item's reasons
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get("/queue")
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200 and "open items" in response.text
    server.should_exit = True
    return samples


@contextmanager
def _no_databases() -> Iterator[None]:
    yield None


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the code tree to compare with")
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--filed", type=int, default=20_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--child", nargs=3, metavar=("HOME", "DATABASE", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        home, database, runs = args.child
        print(json.dumps(serve_and_time(Path(home), database, int(runs))))
        return 0
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    with tempfile.TemporaryDirectory(prefix="bench-queue-ab-") as tmp, \
            (postgresql_databases() if args.database == "postgresql" else _no_databases()) as pg:
        scratch = Path(tmp)
        built_url = pg[0] if pg else f"sqlite:///{scratch / 'built' / 'bench.db'}"
        built = build(trees["before"], scratch / "built", args.filed, args.open, args.database, built_url)
        homes = {}
        for name in trees:
            folder = scratch / name
            shutil.copytree(built.parent, folder)
            homes[name] = (folder / built.name, pg[1](name) if pg else f"sqlite:///{folder / 'bench.db'}")
        samples: dict[str, list[float]] = {name: [] for name in trees}
        load_before = os.getloadavg()
        for round_number in range(args.rounds):
            order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
            for name in order:
                home, database = homes[name]
                done = subprocess.run([sys.executable, __file__, "--before", str(trees["before"]), "--child",
                                       str(home), database, str(args.runs)], capture_output=True, text=True,
                                      env=os.environ | {"PYTHONPATH": str(trees[name])}, cwd=scratch)
                if done.returncode:
                    sys.exit(f"{name}: the measuring process failed:\n{done.stderr[-3000:]}")
                samples[name].extend(json.loads(done.stdout.strip().splitlines()[-1]))
        load_after = os.getloadavg()
    database = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[args.database]
    print(f"## Queue page, before and after ({args.open:,} open items, {args.filed:,} filed, {database})\n")
    print(f"`python benchmarks/review_queue_ab.py --before {args.before} --filed {args.filed} --open {args.open} "
          f"--rounds {args.rounds} --runs {args.runs} --database {args.database}`: {args.rounds} alternating rounds of {args.runs} views "
          f"each over HTTP; load average (1, 5, 15 min) {', '.join(f'{v:.1f}' for v in load_before)} before, "
          f"{', '.join(f'{v:.1f}' for v in load_after)} after.\n")
    print("| code | views | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for name, values in samples.items():
        print(f"| {name} | {len(values)} | {statistics.median(values):.0f} | {p95(values):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

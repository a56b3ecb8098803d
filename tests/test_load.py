"""The load benchmark, reduced: eight generated inputs dropped into `pipeline watch`'s inbox at
once while `pipeline review serve` is polled (real processes). Every input is filed, queued or
rejected exactly once, checked by SHA-256 against the manifest (`benchmarks/load_inbox.py`'s
`check` raises otherwise), and the review app answered every poll. The 1,000-document run and its
timings are in docs/benchmarks.md; no timing is asserted here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "load_inbox.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("load_inbox", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_inputs_dropped_at_once_are_each_accounted_for_once(tmp_path):
    bench = load_benchmark()
    args = bench.parse_args(["--documents", "8", "--patients", "40", "--seed", "3", "--timeout", "200"])
    result = bench.run(args, tmp_path)
    sent = result.kinds
    assert sent["bad"] >= 1 and sent["duplicate"] >= 1 and sent["document"] >= 5  # every kind of input
    outcomes = result.outcomes
    assert outcomes["rejected"] == sent["bad"] and outcomes["duplicate"] == sent["duplicate"]
    assert outcomes["filed"] + outcomes["needs_review"] == sent["document"]
    assert result.statuses[200] == sum(result.statuses.values()) >= 1
    assert result.peak_watch > 0

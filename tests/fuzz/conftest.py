"""Hypothesis profiles for the fuzz tests.

`default` keeps `make test` quick (a few seconds per test); `HYPOTHESIS_PROFILE=fuzz` runs many more
examples for a longer search: `HYPOTHESIS_PROFILE=fuzz .venv/bin/pytest tests/fuzz`.
A hang fails too: each example has a deadline, each test a pytest-timeout.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=60, deadline=2000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=3000, deadline=5000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

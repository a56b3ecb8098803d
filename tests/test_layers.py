"""The layers, enforced: which part of `pipeline` may import which (docs/architecture.md draws them).

    edges       pipeline.cli, pipeline.commands.*, pipeline.review.* (the web app), pipeline.celery_app
    use cases   pipeline.services.*, pipeline.orchestrator, pipeline.faults
    stages      pipeline.ingest, .ocr, .classify, .patients, .store, .synth
    foundation  pipeline.errors, .records, .settings, .clock

An import may only point down. Every import counts, those inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "pipeline"
FOUNDATION = {"pipeline", "pipeline.errors", "pipeline.records", "pipeline.settings", "pipeline.clock"}
STAGES = ("ingest", "ocr", "classify", "patients", "store", "synth")
#: what only its own stage may import: tables, row mapping and migrations are each stage's business
INTERNALS = ("pipeline.store.tables", "pipeline.store.mapping", "pipeline.store.migrations",
             "pipeline.store.database", "pipeline.patients.tables")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(name: str) -> str:
    parts = name.split(".")
    if name in FOUNDATION:
        return "foundation"
    if name in ("pipeline.cli", "pipeline.celery_app") or parts[1] in ("commands", "review"):
        return "edge"
    if parts[1] in ("services", "orchestrator", "faults"):
        return "use case"
    if parts[1] in STAGES:
        return "stage"
    raise AssertionError(f"{name}: no layer; add it to tests/test_layers.py and docs/architecture.md")


def edge_of(name: str) -> str:
    """One edge: a command module, the review web app (its package), the Celery app, the CLI."""
    return "pipeline.review" if name.startswith("pipeline.review") else ".".join(name.split(".")[:3])


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "pipeline" or name.startswith("pipeline.")}


def known(name: str) -> str | None:
    """The module an imported name refers to (`pipeline.store.manifest.Manifest` -> the module)."""
    parts = name.split(".")
    while parts:
        candidate = ROOT.parent.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return None


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "migrations" not in p.parts}
EDGES = {(m, t) for m, p in MODULES.items() for t in filter(None, map(known, imports_of(p))) if t != m}
RANK = {"foundation": 0, "stage": 1, "use case": 2, "edge": 3}


def violations(rule) -> list[str]:
    return sorted(f"{importer} imports {imported}" for importer, imported in EDGES if rule(importer, imported))


def test_every_module_has_a_layer():
    for name in MODULES:
        layer(name)


def test_imports_point_down_the_layers():
    """Foundation imports nothing above it, stages never import use cases or edges, use cases never
    import edges."""
    assert violations(lambda a, b: RANK[layer(b)] > RANK[layer(a)]) == []


def test_edges_do_not_import_each_other():
    """A command module is not a library: what two edges share is a use case. (`pipeline.cli` mounts
    the others; `review serve` starts the review web app.)"""
    def crosses(a: str, b: str) -> bool:
        return (layer(a) == layer(b) == "edge" and edge_of(a) != edge_of(b) and a != "pipeline.cli"
                and not (a == "pipeline.commands.review" and edge_of(b) == "pipeline.review"))
    assert violations(crosses) == []


def test_edges_do_not_reach_into_stages_internals():
    assert violations(lambda a, b: layer(a) == "edge" and b.startswith(INTERNALS)) == []


def test_the_store_knows_nothing_of_the_patient_index():
    assert violations(lambda a, b: a.startswith("pipeline.store.") and b.startswith("pipeline.patients")) == []
    for name, path in MODULES.items():
        if name.startswith("pipeline.store.") and layer(name) == "stage":
            text = path.read_text()
            for table in ("FROM encounters", "FROM identifiers", "merged_into_id", "FROM patients"):
                assert table not in text, f"{name} names the patient index's {table!r}"


def test_the_merge_chain_is_followed_in_one_place():
    followers = sorted(name for name, path in MODULES.items() if "merged_into_id" in path.read_text()
                       and name not in ("pipeline.patients.tables", "pipeline.patients.index"))
    # index.merge writes the chain; lookup.survivor follows it; the matcher's blocking SQL reads it
    # to drop merged-away patients (issue 11 owns matcher.py)
    assert followers == ["pipeline.patients.lookup", "pipeline.patients.matcher"]


@pytest.mark.parametrize("name", ["pipeline.store.manifest", "pipeline.services.review", "pipeline.cli"])
def test_the_layer_rule_sees_real_imports(name):
    """The checks above read real import edges (a rule over nothing would pass vacuously)."""
    assert any(importer == name for importer, _ in EDGES)

"""Fuzzing the backup reader (`pipeline import DIR` before it writes anything): a real export of a
small home (the sample patients, a filed and a queued sample scan, a rejected input), mangled in
every way an archive can be (bytes flipped, cut, added; files removed, added, replaced by links,
pipes or folders; SHA256SUMS edited; changed table rows or export.json with their checksums made to
fit). `read_backup` either accepts it or raises an error of the project's tree, never anything
else and never hangs; an accepted backup holds only regular files of their listed hash."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.services.backup import export_home
from pipeline.services.home import open_home
from pipeline.settings import Settings
from pipeline.store.backup_folder import SUMS
from pipeline.store.backup_reader import read_backup

#: each example copies and reads a whole backup: the long profile takes about ten minutes
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
pytestmark = pytest.mark.timeout(180 if os.environ.get("HYPOTHESIS_PROFILE", "default") == "default" else 3600)

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, str]:
    """(a backup folder, its schema revision) of a home that processed three sample inputs for real."""
    root = tmp_path_factory.mktemp("fuzz-backup")
    home = root / "home"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--home", str(home), "patients", "import", str(SAMPLES / "patients.csv")]) == 0
        main(["--home", str(home), "process", str(SAMPLES / "scans" / "progress_note.png"),
              str(SAMPLES / "scans" / "letter_namesake.jpg"), str(SAMPLES / "bad" / "notes_not_a_pdf.pdf")])
    manifest, store = open_home(Settings(home=home))
    assert manifest.count() == 2
    export_home(manifest, store, root / "backup", actor="fuzz")
    return root / "backup", manifest.schema_revision()


def files_of(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def set_hash(folder: Path, name: str) -> None:
    """Make SHA256SUMS agree with a file changed on purpose, so the mangled content is parsed."""
    sums = folder / SUMS
    if not sums.is_file() or not (folder / name).is_file():
        return
    digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    lines = sums.read_bytes().decode(errors="replace").splitlines()
    sums.write_text("".join(f"{digest}  {name}\n" if line.endswith(f"  {name}") else f"{line}\n" for line in lines))


def apply(folder: Path, op: tuple, data: st.DataObject) -> None:
    names = files_of(folder)
    if not names:
        return
    kind, pick, refit = op
    name = names[pick % len(names)]
    path = folder / name
    if kind == "flip":
        raw = bytearray(path.read_bytes() or b"\0")
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
        path.write_bytes(bytes(raw))
    elif kind == "cut":
        raw = path.read_bytes()
        path.write_bytes(raw[:data.draw(st.integers(0, len(raw)))])
    elif kind == "append":
        path.write_bytes(path.read_bytes() + data.draw(st.binary(max_size=40)))
    elif kind == "remove":
        path.unlink()
    elif kind == "add":
        extra = folder / data.draw(st.sampled_from(["objects/new.pdf", "tables/extra.ndjson", "stray", "objects/x/y"]))
        if extra.parent.is_symlink() or extra.parent.is_file() or extra.is_symlink() or \
                (extra.exists() and not extra.is_file()):
            return  # an earlier step put a file, link, pipe or folder in the way
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_bytes(data.draw(st.binary(max_size=40)))
        refit and SUMS in names and (folder / SUMS).open("a").write(
            f"{hashlib.sha256(extra.read_bytes()).hexdigest()}  {extra.relative_to(folder).as_posix()}\n")
    elif kind == "link":
        path.unlink()
        path.symlink_to(data.draw(st.sampled_from(["/etc/passwd", "/dev/zero", "../" * 4, str(folder / SUMS)])))
    elif kind == "pipe":
        path.unlink()
        os.mkfifo(path)
    elif kind == "folder":
        path.unlink()
        path.mkdir()
    elif kind == "row":  # a changed row: a JSON line of anything, or a field set to anything
        lines = path.read_bytes().splitlines() or [b"{}"]
        at = data.draw(st.integers(0, len(lines) - 1))
        try:
            row = json.loads(lines[at])
            row[data.draw(st.sampled_from(sorted(row) or ["x"]))] = data.draw(JSON)
            lines[at] = json.dumps(row).encode()
        except (ValueError, TypeError, AttributeError):
            lines[at] = json.dumps(data.draw(JSON)).encode()
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif kind == "sums-line" and (folder / SUMS).is_file() and not (folder / SUMS).is_symlink():
        with (folder / SUMS).open("ab") as handle:
            handle.write(data.draw(st.sampled_from([b"", b"0" * 64 + b"  "])) + data.draw(st.binary(max_size=30)) + b"\n")
    if refit and kind in ("flip", "cut", "append", "row"):
        set_hash(folder, name)


OPS = st.tuples(st.sampled_from(["flip", "cut", "append", "remove", "add", "link", "pipe", "folder", "row",
                                 "sums-line"]), st.integers(0, 1000), st.booleans())


@given(ops=st.lists(OPS, min_size=1, max_size=3), data=st.data())
def test_a_mangled_backup_is_read_or_refused_with_a_pipeline_error(exported, ops, data) -> None:
    backup, revision = exported
    work = Path(tempfile.mkdtemp(prefix="fuzz-backup-"))
    try:
        folder = work / "backup"
        shutil.copytree(backup, folder, symlinks=True)
        for op in ops:
            apply(folder, op, data)
        try:
            verified = read_backup(folder, revision)
        except PipelineError:
            return
        for name, sha256 in verified.sums.items():  # accepted: only what SHA256SUMS lists, as listed
            path = folder / name
            assert path.is_file() and not path.is_symlink()
            assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
        for table in verified.tables:  # and every row reads
            list(verified.rows(table))
    finally:
        shutil.rmtree(work, ignore_errors=True)

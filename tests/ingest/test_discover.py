"""Input discovery: folders walked sorted; hidden, partial and temporary files and sidecars skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import NotFoundError
from pipeline.ingest.discover import is_candidate, iter_inputs


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_folders_are_walked_recursively_in_order_skipping_what_is_not_input(tmp_path) -> None:
    _touch(
        tmp_path,
        "b.pdf", "a.tif", "sub/c.png", "sub/deeper/d.jpg", "z/e.pdf",
        ".DS_Store", ".hidden.pdf", "._a.tif", "copying.pdf.part", "upload.TMP", "dl.pdf.crdownload",
        "~$report.docx", "notes.txt~", "Thumbs.db", ".git/config.pdf", "sub/.cache/f.pdf",
        "20260105T093000-bad.pdf.reason.txt",
        "readme.txt",  # not filtered by suffix: intake rejects it with a reason
    )
    found = [p.relative_to(tmp_path).as_posix() for p in iter_inputs([tmp_path])]
    assert found == ["a.tif", "b.pdf", "readme.txt", "sub/c.png", "sub/deeper/d.jpg", "z/e.pdf"]


def test_files_and_folders_mixed_each_file_once_in_order_given(tmp_path) -> None:
    _touch(tmp_path, "in/a.pdf", "in/b.pdf", "other/c.pdf", "other/.x.pdf")
    given = [tmp_path / "other" / "c.pdf", tmp_path / "in", tmp_path / "in" / "a.pdf", tmp_path / "other" / ".x.pdf"]
    found = [p.relative_to(tmp_path).as_posix() for p in iter_inputs(given)]
    # a file named explicitly is taken even if hidden: whoever named it meant it
    assert found == ["other/c.pdf", "in/a.pdf", "in/b.pdf", "other/.x.pdf"]


def test_missing_path_names_the_path(tmp_path) -> None:
    with pytest.raises(NotFoundError, match="nope.pdf: no such file or folder"):
        list(iter_inputs([tmp_path / "nope.pdf"]))


def test_dangling_links_are_skipped(tmp_path) -> None:
    _touch(tmp_path, "a.pdf")
    (tmp_path / "gone.pdf").symlink_to(tmp_path / "missing.pdf")
    assert [p.name for p in iter_inputs([tmp_path])] == ["a.pdf"]


@pytest.mark.parametrize(
    ("name", "wanted"),
    [("scan.pdf", True), ("Scan 01.TIFF", True), ("x.part", False), ("x.pdf.tmp", False), ("~$x.pdf", False),
     (".x.pdf", False), ("x.pdf~", False), ("desktop.ini", False), ("x.pdf.reason.txt", False)],
)
def test_is_candidate(name, wanted) -> None:
    assert is_candidate(Path("/inbox") / name) is wanted

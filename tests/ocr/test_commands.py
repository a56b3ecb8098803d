"""`pipeline ocr [--json] FILE` through its own sub-parser, on real files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pipeline.errors import EmptyFileError, UnsupportedFormatError
from pipeline.commands import ocr as commands
from pipeline.settings import load_settings

from .pages import TEXT, draw_page, save_pdf

pytestmark = pytest.mark.integration


def run(argv: list[str], home: Path) -> int:
    parser = argparse.ArgumentParser(prog="pipeline")
    commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args, load_settings(home, workers=1))


def test_ocr_json_prints_pages_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = save_pdf([draw_page(TEXT[:2]), draw_page(TEXT[2:])], tmp_path / "two pages.pdf")

    assert run(["ocr", "--json", str(path)], tmp_path / "home") == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert [p["number"] for p in out["pages"]] == [1, 2]
    assert [p["rotation"] for p in out["pages"]] == [0, 0]
    assert all(p["confidence"] > 80 for p in out["pages"])
    assert "chest pain" in out["pages"][0]["text"] and "aspirin" in out["pages"][1]["text"]
    assert out["text"] == out["pages"][0]["text"] + "\n\f" + out["pages"][1]["text"]


def test_ocr_plain_prints_each_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "note.png"
    draw_page(TEXT).save(path)
    assert run(["ocr", str(path)], tmp_path / "home") == 0
    out = capsys.readouterr().out
    assert out.startswith("--- page 1  confidence ") and "metoprolol" in out


def test_ocr_rejects_empty_and_unknown_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(EmptyFileError, match=r"^empty\.pdf: the file is empty"):
        run(["ocr", str(empty)], tmp_path / "home")
    text = tmp_path / "readme.pdf"
    text.write_text("hello")
    with pytest.raises(UnsupportedFormatError, match=r"^readme\.pdf: the file is plain text, not a PDF, TIFF, PNG or JPEG"):
        run(["ocr", str(text)], tmp_path / "home")

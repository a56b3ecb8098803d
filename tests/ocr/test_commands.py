"""`pipeline ocr [--json] FILE` through its own sub-parser, on real files."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
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


# ------------------------------------------------------------------ start-up: import only what is used

#: run the real command line in a fresh interpreter, then print the top-level packages it imported
_IMPORTED = """
import json, sys
from pipeline.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help
    code = exc.code
print(json.dumps({"code": code, "modules": sorted({name.split(".")[0] for name in sys.modules})}), file=sys.stderr)
"""
#: what the whole application loads somewhere, but a one-file OCR never needs (issue 12: start-up cost)
_NOT_FOR_OCR = {"sqlalchemy", "sklearn", "fastapi", "boto3", "alembic", "celery", "uvicorn", "argon2"}


def _imported(argv: list[str], home: Path) -> tuple[int, set[str], str]:
    done = subprocess.run([sys.executable, "-c", _IMPORTED, "--home", str(home), *argv], capture_output=True,
                          text=True, timeout=120)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), done.stdout


def test_ocr_of_one_file_imports_no_database_web_or_classifier_package(tmp_path: Path) -> None:
    path = tmp_path / "note.png"
    draw_page(TEXT).save(path, dpi=(300, 300))

    code, modules, out = _imported(["ocr", "--json", str(path)], tmp_path / "home")

    assert code == 0 and "metoprolol" in json.loads(out)["text"]
    assert "pytesseract" in modules and "pydantic_settings" in modules  # the report sees what was imported
    assert modules & _NOT_FOR_OCR == set()


def test_help_of_a_command_imports_no_use_case(tmp_path: Path) -> None:
    code, modules, out = _imported(["ocr", "--help"], tmp_path / "home")
    assert code == 0 and "usage: pipeline ocr" in out
    assert modules & (_NOT_FOR_OCR | {"pytesseract", "numpy", "pikepdf", "PIL"}) == set()


def test_classify_and_match_of_a_text_file_import_no_web_or_storage_package(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("\n".join(TEXT))
    code, modules, _ = _imported(["classify", "--json", str(note)], tmp_path / "home")
    assert code == 0 and "sklearn" in modules
    assert modules & {"sqlalchemy", "fastapi", "boto3", "uvicorn", "celery"} == set()
    code, modules, _ = _imported(["match", "--json", "--document", str(note)], tmp_path / "home")
    assert code == 0 and "sqlalchemy" in modules
    assert modules & {"sklearn", "fastapi", "boto3", "uvicorn", "celery"} == set()

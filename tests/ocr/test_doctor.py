"""`tool_report()`: what is installed, and what to do when something is missing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.ocr.doctor import tool_report

pytestmark = pytest.mark.integration


def test_reports_every_tool_with_versions_here() -> None:
    report = {tool.name: tool for tool in tool_report("eng")}
    assert list(report) == ["tesseract", "tesseract lang eng", "tesseract lang osd",
                            "poppler (pdfunite)", "pdfium (pypdfium2)", "zxing-cpp", "pikepdf"]
    assert report["tesseract"].found and report["tesseract"].version.startswith(("4.", "5."))
    assert report["tesseract"].minimum == "4.1"
    assert all(tool.found and tool.install == "" for tool in report.values())
    assert report["poppler (pdfunite)"].required is False


def test_a_missing_language_pack_gets_its_apt_package() -> None:
    spanish = {t.name: t for t in tool_report("eng+zzz")}["tesseract lang zzz"]
    assert (spanish.found, spanish.install) == (False, "apt-get install tesseract-ocr-zzz")


def test_without_tesseract_on_path_both_doctor_and_engine_say_how_to_install() -> None:
    script = (
        "import json\n"
        "from pipeline.ocr.doctor import tool_report\n"
        "from pipeline.errors import MissingDependencyError\n"
        "from pipeline.ocr.engine import OcrEngine\n"
        "report = {t.name: [t.found, t.install] for t in tool_report()}\n"
        "try:\n"
        "    OcrEngine(workers=1)\n"
        "    error = None\n"
        "except MissingDependencyError as exc:\n"
        "    error = [str(exc), exc.exit_code]\n"
        "print(json.dumps({'report': report, 'error': error}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={"PATH": "/nonexistent"}, timeout=60, check=True).stdout
    found = json.loads(out)
    assert found["report"]["tesseract"] == [False, "apt-get install tesseract-ocr (or a newer "
                                            "release from your distribution)"]
    assert found["report"]["poppler (pdfunite)"] == [False, "apt-get install poppler-utils"]
    assert found["error"] == ["tesseract was not found on PATH; install it with "
                              "`apt-get install tesseract-ocr` (Debian/Ubuntu)", 3]

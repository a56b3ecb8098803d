"""What the OCR stage needs installed, found or not, for `pipeline doctor`."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version as dist_version

from pipeline.errors import MissingDependencyError

APT_TESSERACT = "apt-get install tesseract-ocr"
PIP_HINT = "reinstall the package: .venv/bin/pip install -e ."


@dataclass(frozen=True, slots=True)
class ToolStatus:
    name: str
    found: bool  # present and new enough to use
    version: str  # "" when not found
    minimum: str  # "" when any version will do
    install: str  # how to install or upgrade it; "" when nothing is to be done
    required: bool = True  # False: the pipeline runs without it (benchmarks, fallbacks)


def tool_report(languages: str = "eng") -> list[ToolStatus]:
    """Tesseract, each language pack of `languages` ("eng+spa") and OSD, poppler, pdfium,
    zxing-cpp and pikepdf: found or not, version, minimum, what to do."""
    report = [_tesseract()]
    for lang in [*dict.fromkeys(lang for lang in languages.split("+") if lang), "osd"]:
        report.append(_language(lang, report[0].found))
    report.append(_poppler())
    report.append(_python_package("pdfium (pypdfium2)", "pypdfium2", "4.30"))
    report.append(_python_package("zxing-cpp", "zxing-cpp", "2.2"))
    report.append(_python_package("pikepdf", "pikepdf", "9.0"))
    return report


def _tesseract() -> ToolStatus:
    from pipeline.ocr import tesseract

    minimum = ".".join(map(str, tesseract.MINIMUM_VERSION))
    try:
        found = tesseract.tesseract_version()
    except MissingDependencyError as exc:
        too_old = re.search(r"tesseract (\S+) is too old", exc.message)
        return ToolStatus("tesseract", False, too_old.group(1) if too_old else "", minimum,
                          f"{APT_TESSERACT} (or a newer release from your distribution)")
    return ToolStatus("tesseract", True, found, minimum, "")


def _language(lang: str, tesseract_ok: bool) -> ToolStatus:
    from pipeline.ocr import tesseract

    name = f"tesseract lang {lang}"
    hint = f"apt-get install tesseract-ocr-{lang}"
    if not tesseract_ok:
        return ToolStatus(name, False, "", "", f"{APT_TESSERACT} {hint.split()[-1]}")
    if lang in tesseract.installed_languages():
        return ToolStatus(name, True, "installed", "", "")
    return ToolStatus(name, False, "", "", hint)


def _poppler() -> ToolStatus:
    name = "poppler (pdfunite)"
    hint = "apt-get install poppler-utils"
    program = shutil.which("pdfunite")
    if program is None:
        return ToolStatus(name, False, "", "", hint, required=False)
    try:
        completed = subprocess.run([program, "-v"], capture_output=True, text=True, timeout=10,
                                   check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ToolStatus(name, False, "", "", hint, required=False)
    match = re.search(r"version (\S+)", completed.stderr + completed.stdout)
    return ToolStatus(name, True, match.group(1) if match else "unknown", "", "", required=False)


def _python_package(name: str, distribution: str, minimum: str) -> ToolStatus:
    try:
        found = dist_version(distribution)
    except PackageNotFoundError:
        return ToolStatus(name, False, "", minimum, PIP_HINT)
    if _numbers(found) < _numbers(minimum):
        return ToolStatus(name, False, found, minimum,
                          f".venv/bin/pip install '{distribution}>={minimum}'")
    return ToolStatus(name, True, found, minimum, "")


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version)[:3])

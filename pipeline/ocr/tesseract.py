"""The Tesseract adapter: the only module that imports pytesseract.

It checks the program and its version once per process, checks the language packs asked for,
passes an explicit timeout to every run, logs argv at debug level (pytesseract does, under the
`pytesseract` logger; we log ours too) and turns Tesseract's failures into `pipeline.errors`.

One recognition run writes three outputs from one pass over the page: the plain text, the words
as TSV (text, confidence, box, line) and a text-only one-page PDF (the words in an invisible font)
that pdfout lays over the page image in the searchable copy.
"""

from __future__ import annotations

import csv
import functools
import logging
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


def _import_pytesseract() -> None:
    """Import pytesseract without pandas.

    pytesseract imports pandas whenever it is installed (it is here, for Splink), only to offer
    DataFrame output this module never asks for: 0.25 s of start-up in the CLI and in every OCR
    worker process. pandas is hidden while pytesseract loads, unless something loaded it already.
    """
    hide = "pandas" not in sys.modules
    if hide:
        sys.modules["pandas"] = None  # type: ignore[assignment]  # import pandas -> ModuleNotFoundError
    try:
        import pytesseract  # noqa: F401
    finally:
        if hide and sys.modules.get("pandas", False) is None:
            del sys.modules["pandas"]


_import_pytesseract()

import pytesseract  # noqa: E402
from pytesseract import TesseractError, TesseractNotFoundError  # noqa: E402

from PIL import Image  # noqa: E402

from pipeline.errors import LimitExceededError, MissingDependencyError, PassingFaultError, PipelineError
from pipeline.records import Word

log = logging.getLogger(__name__)

MINIMUM_VERSION = (4, 1)
INSTALL_HINT = "install it with `apt-get install tesseract-ocr` (Debian/Ubuntu)"


class TesseractFailed(PipelineError):
    """Tesseract exited with an error that is not about a missing program or language."""


class TesseractKilled(PassingFaultError):
    """Tesseract was ended by a signal (killed, out of memory): not the page's fault; try again."""


@dataclass(frozen=True, slots=True)
class Recognition:
    """What one Tesseract pass over one page image produced."""

    text: str
    words: tuple[Word, ...]
    pdf: Path | None  # text-only one-page PDF, when asked for

    @property
    def confidence(self) -> float:
        """Mean word confidence 0..100, -1.0 when no words were found."""
        if not self.words:
            return -1.0
        return round(sum(w.confidence for w in self.words) / len(self.words), 2)


@dataclass(frozen=True, slots=True)
class Orientation:
    """Tesseract OSD: how far to turn the page clockwise to make it upright."""

    rotate: int  # 0, 90, 180, 270 (clockwise)
    confidence: float


@functools.cache
def tesseract_version() -> str:
    """The installed Tesseract version ("5.3.0"); raises MissingDependencyError if absent/old."""
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise MissingDependencyError(f"tesseract was not found on PATH; {INSTALL_HINT}")
    try:
        version = str(pytesseract.get_tesseract_version())
    except TesseractNotFoundError as exc:
        raise MissingDependencyError(f"tesseract was not found on PATH; {INSTALL_HINT}") from exc
    except subprocess.CalledProcessError as exc:
        if exc.returncode < 0:  # `tesseract --version` itself was killed: not a missing program
            raise TesseractKilled(f"tesseract was ended by signal {-exc.returncode}") from exc
        raise
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    if numbers < MINIMUM_VERSION:
        minimum = ".".join(map(str, MINIMUM_VERSION))
        raise MissingDependencyError(
            f"tesseract {version} is too old (need {minimum} or newer); {INSTALL_HINT}"
        )
    return version


@functools.cache
def installed_languages() -> frozenset[str]:
    tesseract_version()
    return frozenset(pytesseract.get_languages(config=""))


def check_languages(languages: str) -> None:
    """Raise MissingDependencyError naming every language pack of "eng+spa" that is missing."""
    wanted = [lang for lang in languages.split("+") if lang]
    if not wanted:
        raise MissingDependencyError(
            "no OCR language given; set PIPELINE_OCR_LANGUAGES, e.g. `eng` or `eng+spa`"
        )
    missing = [lang for lang in wanted if lang not in installed_languages()]
    if missing:
        packages = " ".join(f"tesseract-ocr-{lang}" for lang in missing)
        raise MissingDependencyError(
            f"tesseract language pack(s) {', '.join(missing)} not installed "
            f"(PIPELINE_OCR_LANGUAGES={languages}); install with `apt-get install {packages}`"
        )


#: leptonica reads a PNM header with fscanf, which also swallows raster bytes that look like white
#: space (tab, line feed, vertical tab, form feed, carriage return, space), so a 1-bit page whose
#: first byte is one of them failed with "read error in 4" (DanBloomberg/leptonica#101; a grey page
#: read right in our tests, and gets the same guard); the nearest byte that is not: one or two pixels
#: of the page's first row change
_NOT_WHITESPACE = {9: 14, 10: 14, 11: 14, 12: 14, 13: 14, 32: 33}


def save_pnm(image: Image.Image, path: Path) -> Path:
    """Write a 1-bit page as PBM, a grey one as PGM (no compression to pay for) in a form
    leptonica reads whatever the page's first pixels are (`_NOT_WHITESPACE`)."""
    if image.mode not in ("1", "L"):
        image = image.convert("L")
    image.save(path, format="PPM")
    row = (image.width + 7) // 8 if image.mode == "1" else image.width
    with path.open("r+b") as f:
        f.seek(-row * image.height, 2)  # the raster is the last rows x row bytes
        first = f.read(1)
        if first and first[0] in _NOT_WHITESPACE:
            f.seek(-1, 1)
            f.write(bytes([_NOT_WHITESPACE[first[0]]]))
    return path


def recognize(
    image: Path,
    out_base: Path,
    *,
    languages: str,
    dpi: int,
    timeout: float,
    make_pdf: bool,
    psm: int = 3,
) -> Recognition:
    """OCR one page image file; outputs are written beside `out_base` (.txt, .tsv, .pdf)."""
    outputs = "txt pdf" if make_pdf else "txt"
    # the PDF is text only: the searchable copy shows the page's own image (pdfout), not this one
    config = f"--psm {psm} --dpi {dpi} -c tessedit_create_tsv=1" + (" -c textonly_pdf=1" if make_pdf else "")
    _run(image, out_base, outputs, languages, config, timeout)
    text = _read(out_base.with_suffix(".txt")).rstrip("\f\n ")
    words = parse_tsv(_read(out_base.with_suffix(".tsv")))
    pdf = out_base.with_suffix(".pdf") if make_pdf else None
    return Recognition(text=text, words=words, pdf=pdf)


def detect_orientation(image: Path, out_base: Path, *, dpi: int, timeout: float) -> Orientation:
    """Tesseract OSD (--psm 0). A page with too little text to tell gives rotate=0, confidence 0."""
    try:
        _run(image, out_base, "osd", "osd", f"--psm 0 --dpi {dpi}", timeout)
    except TesseractFailed as exc:
        # "Too few characters. Skipping this page" and friends: not an error, just no answer.
        log.debug("OSD gave no answer: %s", exc)
        return Orientation(rotate=0, confidence=0.0)
    report = _read(out_base.with_suffix(".osd"))
    rotate = re.search(r"Rotate:\s*(\d+)", report)
    confidence = re.search(r"Orientation confidence:\s*([\d.]+)", report)
    if not rotate:
        return Orientation(rotate=0, confidence=0.0)
    return Orientation(
        rotate=int(rotate.group(1)) % 360,
        confidence=float(confidence.group(1)) if confidence else 0.0,
    )


def parse_tsv(tsv: str) -> tuple[Word, ...]:
    """Words from Tesseract's TSV: level 5 rows with text; lines numbered 1.. within the page."""
    words: list[Word] = []
    line_numbers: dict[tuple[str, str, str], int] = {}
    for row in csv.DictReader(tsv.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5":
            continue
        text = (row.get("text") or "").strip()
        confidence = float(row.get("conf") or -1)
        if not text or confidence < 0:
            continue
        key = (row["block_num"], row["par_num"], row["line_num"])
        line = line_numbers.setdefault(key, len(line_numbers) + 1)
        box = (int(row["left"]), int(row["top"]), int(row["width"]), int(row["height"]))
        words.append(Word(text=text, confidence=confidence, box=box, line=line))
    return tuple(words)


def _run(image: Path, out_base: Path, outputs: str, lang: str, config: str, timeout: float) -> None:
    version = tesseract_version()
    log.debug(
        "tesseract %s argv: %s %s %s -l %s %s %s",
        version, pytesseract.pytesseract.tesseract_cmd, image, out_base, lang, config, outputs,
    )
    if timeout <= 0:
        raise LimitExceededError(f"{image.name}: no time left for tesseract on this page")
    try:
        pytesseract.pytesseract.run_tesseract(
            str(image), str(out_base), outputs, lang, config=config, timeout=timeout
        )
    except TesseractNotFoundError as exc:
        raise MissingDependencyError(f"tesseract was not found on PATH; {INSTALL_HINT}") from exc
    except TesseractError as exc:
        if isinstance(exc.status, int) and exc.status < 0:
            raise TesseractKilled(f"tesseract was ended by signal {-exc.status}") from exc
        raise _translate(exc, lang) from exc
    except RuntimeError as exc:  # pytesseract's "Tesseract process timeout"
        raise LimitExceededError(f"tesseract took longer than {timeout:.0f} s on one page") from exc


def _translate(exc: Exception, lang: str) -> PipelineError:
    message = str(getattr(exc, "message", exc))
    if "Failed loading language" in message or "Error opening data file" in message:
        packages = " ".join(f"tesseract-ocr-{x}" for x in lang.split("+"))
        return MissingDependencyError(
            f"tesseract cannot load language data {lang!r}; install with `apt-get install {packages}`"
        )
    return TesseractFailed(f"tesseract failed: {message.strip()[:300]}")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")

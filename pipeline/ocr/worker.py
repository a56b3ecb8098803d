"""What one OCR worker process does with one page.

The engine's process pool runs `process_page` for every page of every document in flight; each
worker is single-threaded and runs Tesseract with OMP_THREAD_LIMIT=1 (Tesseract's own threads
only slow it down when every core already has a page: 2.0 s vs 5.1 s a page measured here).

Per page: render (or decode) just this page -> born-digital text layer? use it -> the page's
true resolution (an image file's header is checked, see `resolution`) -> straighten a small skew
-> black and white when the page separates cleanly and was not resampled -> OCR, enlarged when
the page is below `resolution.READ_DPI` (text, words, a text-only one-page PDF) -> if the pass
looks poor, ask OSD which way is up and OCR the turned page, keeping
the better pass -> read barcodes from the final image -> how the text lies over the page image in
the searchable copy (pdfout).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import multiprocessing
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pipeline.errors import LimitExceededError
from pipeline.ocr import barcodes, pdfout, preprocess, raster, resolution, tesseract
from pipeline.records import OcrPage
from pipeline.settings import OcrMode, OrientationMode

log = logging.getLogger(__name__)

#: A first pass below this mean word confidence (or with fewer words, or with words mostly taller
#: than wide: a sideways page Tesseract read anyway) triggers OSD in auto mode.
POOR_PASS_CONFIDENCE = 70.0
POOR_PASS_MIN_WORDS = 3
#: A turned pass replaces a sideways-read first pass unless it scores below this share of it.
SIDEWAYS_MARGIN = 0.9
#: OSD must be at least this sure before a page is turned.
MIN_OSD_CONFIDENCE = 1.0
#: Dots per inch of the image OSD looks at: half resolution is as reliable and ~2x faster.
OSD_DPI = 150
#: JPEG quality of a TIFF/PNG/JPEG page's image in the searchable copy (Tesseract's own default).
JPEG_QUALITY = 85


@dataclass(frozen=True, slots=True)
class PageJob:
    """Everything a worker needs for one page; small and picklable."""

    source: Path
    name: str  # the original file name, for messages
    media_type: str
    index: int  # 0-based
    scratch: Path  # where the page image, Tesseract's outputs and the one-page PDF go
    make_pdf: bool  # write this page's part of the searchable PDF
    mode: OcrMode
    orientation: OrientationMode
    deskew: bool
    languages: str
    dpi: int
    page_timeout: float
    max_pixels: int


@dataclass(frozen=True, slots=True)
class PageOutput:
    page: OcrPage
    part: pdfout.PagePart | None  # this page of the searchable PDF; None when none is made


@dataclass(frozen=True, slots=True)
class Probe:
    pages: int


def init_worker(max_pixels: int) -> None:
    """Pool initializer: one thread per Tesseract, Pillow's bomb guard at our pixel limit, an end
    with the parent (a `kill -9` of `pipeline watch` must not leave OCR workers behind), and Ctrl-C
    left to the parent (a terminal sends it to every process of the group: a worker that took it
    would die mid-page, and `pipeline backfill` stops after the pages in flight)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    guard_pixels(max_pixels)
    if multiprocessing.parent_process() is not None:  # a pool worker (the in-process executor calls this too)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _end_with_parent(os.getppid())


def guard_pixels(max_pixels: int) -> None:
    """Pillow's decompression-bomb guard at our pixel limit."""
    Image.MAX_IMAGE_PIXELS = max(max_pixels, 1)


#: how often a worker checks that its parent is alive, where the kernel cannot tell it (not Linux)
PARENT_POLL_SECONDS = 2.0


def _end_with_parent(parent: int) -> None:
    """Exit when the parent process dies: the kernel signals it (prctl PR_SET_PDEATHSIG), a thread
    polling `os.getppid()` is the fallback, and a parent already gone means exit now.

    The kernel sends the signal when the parent *thread* that started this worker ends, which may
    be a short-lived thread of a live process: SIGUSR1 is used, and its handler exits only when the
    parent process is really gone (this process has been handed to another parent). Nothing is done
    in the main process itself (the in-process executor calls `init_worker` too)."""
    import ctypes
    import ctypes.util
    import multiprocessing
    import signal
    import threading

    if multiprocessing.parent_process() is None:
        return

    def parent_gone(*_: object) -> None:
        if os.getppid() != parent:
            os._exit(1)

    signal.signal(signal.SIGUSR1, parent_gone)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGUSR1, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the thread below does it
    parent_gone()  # the parent died before the signal was armed

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()


def started() -> int:
    """Nothing: submitted once per worker when the pool is made, so that every process starts."""
    return os.getpid()


def probe(source: Path, name: str, media_type: str) -> Probe:
    return Probe(pages=raster.page_count(source, name, media_type))


def running_marker(scratch: Path, index: int) -> Path:
    """The file that says which worker is on a page, and since when (its mtime): the engine's
    watchdog stops a worker stuck where no timeout reaches (inside pdfium's renderer)."""
    return scratch / f"p{index + 1:05d}.running"


def process_page(job: PageJob) -> PageOutput:
    deadline = time.monotonic() + job.page_timeout
    number = job.index + 1
    marker = running_marker(job.scratch, job.index)
    marker.write_text(str(os.getpid()))
    try:
        return _process(job, number, deadline)
    except LimitExceededError as exc:
        if exc.message.startswith(job.name):
            raise
        raise LimitExceededError(
            f"{job.name}: page {number}: {exc.message}; raise PIPELINE_OCR_PAGE_TIMEOUT "
            "or rescan the page more cleanly"
        ) from exc
    finally:
        marker.unlink(missing_ok=True)


def _process(job: PageJob, number: int, deadline: float) -> PageOutput:
    layer = None
    if job.media_type == raster.PDF:
        layer = raster.text_layer(job.source, job.name, job.index, job.dpi)
        # An invisible layer over a scan is someone else's OCR, of unknown quality and without
        # word confidences: in auto mode the page is OCR'd again (and keeps its layer in the copy,
        # as any page with text does, also when force mode OCRs it).
        if layer is not None and job.mode is not OcrMode.FORCE and (
                not layer.hidden or job.mode is OcrMode.SKIP):
            image = raster.render_page(job.source, job.name, job.media_type, job.index, job.dpi,
                                       job.max_pixels)
            page = OcrPage(number=number, text=layer.text, confidence=100.0, source="text-layer",
                           width=layer.width, height=layer.height, words=layer.words,
                           barcodes=barcodes.read_barcodes(image, number))
            return PageOutput(page=page, part=pdfout.OriginalPage(job.index))

    image = raster.render_page(job.source, job.name, job.media_type, job.index, job.dpi,
                               job.max_pixels)
    dpi, enlarge = _resolution(job, image)
    if job.mode is OcrMode.SKIP:
        page = OcrPage(number=number, text="", confidence=-1.0, source="none",
                       width=image.width, height=image.height,
                       barcodes=barcodes.read_barcodes(image, number))
        return PageOutput(page=page, part=None)

    ocr = _Ocr(job, f"p{job.index + 1:05d}", dpi, enlarge, deadline)
    result: tesseract.Recognition | None = None
    try:
        rotation = 0
        if job.orientation is OrientationMode.ALWAYS:
            rotation = ocr.orientation(image) or 0
        # a page enlarged or stretched here is read in grey: its new in-between greys carry the
        # letters' shapes, which 1 bit loses (real ~90-dpi forms, 204x98 faxes:
        # docs/benchmarks/ocr.md, "Resolution")
        bilevel = enlarge == 1.0 and not image.info.get("resampled")
        prepared, skew, reading = _prepare(image, rotation, job.deskew, bilevel)
        result = ocr.recognize(reading, "a")

        if job.orientation is OrientationMode.AUTO and rotation == 0 and _looks_poor(result):
            turn = ocr.orientation(image)
            if turn is None and result.words and not _looks_sideways(result):
                # a line or two of text (a footer, a last page) is too little for Tesseract's
                # orientation detection: an upside-down page is still tried, and kept if it reads better
                turn = 180
            if turn:
                turned, turned_skew, turned_reading = _prepare(image, turn, job.deskew, bilevel)
                second = ocr.recognize(turned_reading, "b")
                # Tesseract may read a sideways page well; the upright one is still the page to keep.
                margin = SIDEWAYS_MARGIN if _looks_sideways(result) else 1.0
                if _score(second) > margin * _score(result):
                    prepared, skew, result, rotation = turned, turned_skew, second, turn
    finally:
        ocr.cleanup(keep=result.pdf if result else None)

    page = OcrPage(number=number, text=result.text, confidence=result.confidence,
                   rotation=rotation, skew=skew, source="ocr", width=prepared.width,
                   height=prepared.height, words=result.words,
                   barcodes=barcodes.read_barcodes(prepared, number))
    if layer is not None:  # already searchable: one text layer in the copy, not two
        return PageOutput(page=page, part=pdfout.OriginalPage(job.index))
    return PageOutput(page=page, part=_part(job, image, prepared, rotation, skew, result.pdf))


def _part(job: PageJob, shown: Image.Image, prepared: Image.Image, rotation: int, skew: float,
          text: Path | None) -> pdfout.PagePart | None:
    """This page of the searchable copy: the original page (PDF) or the page image, text over it."""
    if text is None:
        return None
    if job.media_type == raster.PDF:
        box, page_rotate = raster.page_box(job.source, job.name, job.index)
        matrix = pdfout.image_to_page(box=box, page_rotate=page_rotate, shown=shown.size,
                                      prepared=prepared.size, turn=rotation, straighten=skew)
        return pdfout.OverlaidPage(job.index, text, matrix, prepared.size, turn=rotation)
    picture = text.with_suffix(".jpg")
    prepared.save(picture, format="JPEG", quality=JPEG_QUALITY)
    return pdfout.ImagePage(picture, text)


def _resolution(job: PageJob, image: Image.Image) -> tuple[int, float]:
    """(the page's true dots per inch, how much to enlarge it before OCR).

    A PDF page is rendered at the resolution asked for; an image file's header may say nothing
    or something wrong, so `resolution` judges it. The page image keeps its own pixels (the
    searchable copy shows it at its true size); only the copy Tesseract reads is enlarged."""
    if job.media_type == raster.PDF:
        found = resolution.Resolution(int(image.info.get("dpi", (job.dpi,))[0]), "pdf")
    else:
        header = image.info.get("dpi")
        found = resolution.page_resolution(image, header[0] if header else None)
        if found.source != "header":
            log.debug("page %d: resolution %d dpi from its %s (header: %s)", job.index + 1,
                      found.dpi, found.source, header[0] if header else "none")
        image.info["dpi"] = (found.dpi, found.dpi)
    return found.dpi, resolution.enlargement(found.dpi, image.size, job.max_pixels)


class _Ocr:
    """Tesseract runs for one page, sharing its time budget and scratch files.

    The page is `dpi`; Tesseract reads it enlarged by `enlarge` and its word boxes are scaled
    back to the page's own pixels."""

    def __init__(self, job: PageJob, stem: str, dpi: int, enlarge: float,
                 deadline: float) -> None:
        self.job, self.stem, self.dpi, self.deadline = job, stem, dpi, deadline
        self.enlarge = enlarge
        self.scratch = job.scratch
        self.files: list[Path] = []

    def recognize(self, image: Image.Image, tag: str) -> tesseract.Recognition:
        reading = resolution.enlarge(image, self.enlarge)
        path = self._save(reading, tag)
        base = self.scratch / f"{self.stem}{tag}"
        self.files += [base.with_suffix(s) for s in (".txt", ".tsv", ".pdf")]
        # the dpi keeps the text page's size in points the page's own: pixels / dpi
        dpi = self.dpi * reading.width / image.width
        found = tesseract.recognize(path, base, languages=self.job.languages, dpi=round(dpi),
                                    timeout=self._left(), make_pdf=self.job.make_pdf)
        if reading is image:
            return found
        return dataclasses.replace(found, words=tuple(
            dataclasses.replace(w, box=_shrink(w.box, image.width / reading.width))
            for w in found.words))

    def orientation(self, image: Image.Image) -> int | None:
        """Clockwise degrees to turn the page upright; None when OSD cannot tell (too little text)."""
        scale = OSD_DPI / self.dpi
        small = image
        if scale < 1:
            small = image.resize((max(1, round(image.width * scale)),
                                  max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
        elif self.enlarge > 1:  # a low-resolution page: OSD too reads it enlarged
            small = resolution.enlarge(image, min(scale, self.enlarge))
        path = self._save(small, "osd")
        base = self.scratch / f"{self.stem}osd"
        self.files.append(base.with_suffix(".osd"))
        dpi = round(self.dpi * small.width / image.width)
        found = tesseract.detect_orientation(path, base, dpi=dpi, timeout=self._left())
        log.debug("page %d: OSD rotate %d (confidence %.1f)", self.job.index + 1, found.rotate,
                  found.confidence)
        return found.rotate if found.confidence >= MIN_OSD_CONFIDENCE else None

    def cleanup(self, keep: Path | None) -> None:
        for path in self.files:
            if path != keep:
                path.unlink(missing_ok=True)

    def _save(self, image: Image.Image, tag: str) -> Path:
        path = self.scratch / f"{self.stem}{tag}.{'pbm' if image.mode == '1' else 'pgm'}"
        self.files.append(path)
        return tesseract.save_pnm(image, path)

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise LimitExceededError(
                f"{self.job.name}: page {self.job.index + 1} took longer than "
                f"{self.job.page_timeout:.0f} s (PIPELINE_OCR_PAGE_TIMEOUT); rescan the page "
                "more cleanly or raise the limit"
            )
        return left


def _shrink(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    left, top, width, height = box
    return (round(left * scale), round(top * scale), max(1, round(width * scale)),
            max(1, round(height * scale)))


def _prepare(image: Image.Image, rotation: int, deskew: bool,
             bilevel_allowed: bool = True) -> tuple[Image.Image, float, Image.Image]:
    """(the upright page, the straightening applied, the image Tesseract reads).

    A page that separates cleanly is read in one bit (as well, and 7-19% faster); one that needs
    straightening is read in grey, because a rotated page loses its smooth edges in one bit (words
    missed at 3°: grey 1.7%, 1 bit 2.8%). Blurred, faded pages (read in grey) are straightened from
    3° only: Tesseract copes better with their small tilts itself (docs/benchmarks/ocr.md).
    """
    turned = preprocess.turn(image, rotation)
    bilevel = preprocess.binarize(turned)
    if deskew:
        angle = preprocess.estimate_skew(turned)
        least = preprocess.MIN_CORRECTION if bilevel is not None else preprocess.MIN_CORRECTION_GREY
        if abs(angle) >= least:
            straight = preprocess.straighten(turned, angle)
            straight.info.update(turned.info)
            return straight, angle, straight
    return turned, 0.0, bilevel if bilevel is not None and bilevel_allowed else turned


def _looks_poor(result: tesseract.Recognition) -> bool:
    """Few words, low confidence, or words taller than wide (Tesseract read a sideways page)."""
    if len(result.words) < POOR_PASS_MIN_WORDS or result.confidence < POOR_PASS_CONFIDENCE:
        return True
    return _looks_sideways(result)


def _looks_sideways(result: tesseract.Recognition) -> bool:
    long_words = [w for w in result.words if len(w.text) >= 3]
    tall = sum(1 for w in long_words if w.box[3] > w.box[2])
    return len(long_words) >= POOR_PASS_MIN_WORDS and tall > 0.6 * len(long_words)


def _score(result: tesseract.Recognition) -> float:
    """Which pass read the page better: confident words, counted."""
    return sum(w.confidence for w in result.words if len(w.text) > 1) / 100.0


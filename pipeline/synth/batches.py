"""Synthetic scan batches: several documents in one PDF or multi-page TIFF, as a sheet feeder makes them.

    images, truth = batch_pages(patients, seed=1, documents=4)
    truth = write_batch(path, patients, seed=1, documents=4)       # .pdf or .tif

Each document is set off the way records offices do it, in turn (`separations`):
- "patch": a Patch T separator sheet before it (`pipeline.ingest.patchcode.draw_patch`);
- "barcode": a separator sheet with a Code 128 barcode of `SEPARATOR_TEXT`;
- "cover": the patient cover sheet `pipeline coversheet` prints, as its first page.
With probability `blank_backs` a sheet is followed by its blank back (a simplex sheet scanned
duplex), with scanner noise. `truth` says what every batch page is and which batch pages each
document keeps, so a test or benchmark can check a split page by page.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.ingest.coversheet import CoverLabel, render_cover_sheet
from pipeline.ingest.patchcode import draw_patch
from pipeline.records import CoverSheet, PageKind
from pipeline.synth.documents import DOCUMENT_TYPES, generate_document
from pipeline.synth.patients import SyntheticPatient
from pipeline.synth.render import OFFICE_SCAN, Degradation, render_pages, save_scan

SEPARATIONS = ("patch", "barcode", "cover")
SEPARATOR_TEXT = "PIPELINE-SEPARATOR"
BATCH_DPI = 150


@dataclass(frozen=True, slots=True)
class BatchDocument:
    """One document of a generated batch, as a correct split must give it back."""

    pages: tuple[int, ...]  # the batch pages it keeps (1-based), cover sheet included
    mrn: str
    doc_type: str
    separation: str  # how it was set off: "patch", "barcode" or "cover"
    cover: CoverSheet | None = None


@dataclass(frozen=True, slots=True)
class BatchTruth:
    kinds: tuple[PageKind, ...]  # what each batch page is, page 1 first
    documents: tuple[BatchDocument, ...]

    @property
    def pages(self) -> int:
        return len(self.kinds)


def batch_pages(
    patients: Sequence[SyntheticPatient],
    *,
    seed: int = 0,
    documents: int = 4,
    separations: Sequence[str] = SEPARATIONS,
    blank_backs: float = 0.5,
    max_pages: int = 2,
    dpi: int = BATCH_DPI,
    degrade: Degradation = OFFICE_SCAN,
) -> tuple[list[Image.Image], BatchTruth]:
    """The page images of a batch of `documents` documents and what a split must find."""
    unknown = set(separations) - set(SEPARATIONS)
    if unknown or not separations:
        raise ValueError(f"separations must be some of {SEPARATIONS}, got {list(separations)}")
    rng = random.Random(seed)
    images: list[Image.Image] = []
    kinds: list[PageKind] = []
    found: list[BatchDocument] = []

    def sheet(image: Image.Image, kind: PageKind) -> None:
        images.append(image)
        kinds.append(kind)
        if rng.random() < blank_backs:
            images.append(_blank(dpi, degrade, rng.randrange(1 << 30)))
            kinds.append(PageKind.BLANK)

    for number in range(documents):
        patient = rng.choice(list(patients))
        doc_type = rng.choice(DOCUMENT_TYPES)
        separation = separations[number % len(separations)]
        cover = None
        kept: list[int] = []
        if separation == "patch":
            sheet(_patch_sheet(dpi, rng), PageKind.SEPARATOR)
        elif separation == "barcode":
            sheet(_barcode_sheet(dpi, degrade, rng), PageKind.SEPARATOR)
        else:
            service = date(rng.randint(2012, 2025), rng.randint(1, 12), rng.randint(1, 28))
            cover = CoverSheet(patient.mrn, doc_type, service)  # the type key: synth sits below classify
            label = CoverLabel(patient.mrn, patient.family_name, patient.given_name, patient.birth_date,
                               doc_type, doc_type.replace("_", " "), service)
            kept.append(len(images) + 1)
            sheet(_scanned(render_cover_sheet(label), dpi, rng), PageKind.COVER)
        for page in _document_pages(patient, doc_type, rng, dpi, degrade, max_pages):
            kept.append(len(images) + 1)
            sheet(page, PageKind.CONTENT)
        found.append(BatchDocument(tuple(kept), patient.mrn, doc_type, separation, cover))
    return images, BatchTruth(tuple(kinds), tuple(found))


def write_batch(path: Path | str, patients: Sequence[SyntheticPatient], **options: object) -> BatchTruth:
    """`batch_pages` saved as one PDF or multi-page TIFF (by the suffix); returns the truth."""
    images, truth = batch_pages(patients, **options)  # type: ignore[arg-type]
    save_scan(images, path)
    return truth


# ---------------------------------------------------------------------------------- the sheets


def _document_pages(patient: SyntheticPatient, doc_type: str, rng: random.Random, dpi: int,
                    degrade: Degradation, max_pages: int) -> list[Image.Image]:
    header = f"Patient: {patient.family_name.upper()}, {patient.given_name}   DOB: {patient.birth_date:%m/%d/%Y}"
    mapping = {"family_name": patient.family_name, "given_name": patient.given_name,
               "birth_date": patient.birth_date, "mrn": patient.mrn, "sex": patient.sex}
    count = rng.randint(1, max_pages)
    texts = [f"{header}\nMRN: {patient.mrn}\n\n{generate_document(doc_type, rng, mapping)}" for _ in range(count)]
    pages = render_pages(texts, dpi=dpi, seed=rng.randrange(1 << 30), degrade=degrade)
    return pages[: max(count, 1)]


def _patch_sheet(dpi: int, rng: random.Random) -> Image.Image:
    page = _paper(dpi)
    patch = draw_patch("T", dpi).convert("L")
    page.paste(patch, (round(2.5 * dpi), round(0.6 * dpi)))
    page.paste(patch, (round(5.0 * dpi), round(6.5 * dpi)))
    return _scanned(page, dpi, rng)


def _barcode_sheet(dpi: int, degrade: Degradation, rng: random.Random) -> Image.Image:
    text = "# DOCUMENT SEPARATOR\n\nScan this sheet before each document.\n\n{{barcode Code128 " + SEPARATOR_TEXT + "}}"
    return render_pages([text], dpi=dpi, seed=rng.randrange(1 << 30), degrade=degrade)[0]


def _blank(dpi: int, degrade: Degradation, seed: int) -> Image.Image:
    return render_pages([""], dpi=dpi, seed=seed, degrade=degrade)[0]


def _paper(dpi: int) -> Image.Image:
    return Image.new("L", (round(8.5 * dpi), round(11 * dpi)), 255)


def _scanned(sheet: Image.Image, dpi: int, rng: random.Random) -> Image.Image:
    """A printed sheet through the scanner: to the batch resolution, a slight skew, grain."""
    grey = sheet.convert("L")
    size = (round(8.5 * dpi), round(11 * dpi))
    if grey.size != size:
        grey = grey.resize(size, Image.Resampling.LANCZOS)
    grey = grey.rotate(rng.uniform(-0.8, 0.8), resample=Image.Resampling.BICUBIC, fillcolor=248)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0.0, 4.0, (grey.height, grey.width))
    pixels = np.clip(np.asarray(grey, dtype=np.float32) * (248 / 255) + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, mode="L")
    image.info["dpi"] = (dpi, dpi)
    return image

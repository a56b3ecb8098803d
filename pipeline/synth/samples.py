"""The committed sample set: a synthetic patient index and a dozen scans, clean and doubtful.

    python -m pipeline.synth.samples samples [--seed N]     (or `make samples`)

`make_samples(out_dir, seed)` writes, deterministically for a seed:

    out_dir/patients.csv      200 synthetic patients (a twin pair and namesake pairs among them)
    out_dir/scans/            the documents: several types, multi-page, skewed, noisy, blurred,
                              faxed, upside down, PDF / multi-page TIFF / PNG / JPEG, a barcode
                              cover sheet, and doubtful ones planted on purpose
    out_dir/bad/              inputs intake must reject: empty, text named .pdf, truncated PDF
    out_dir/expected.csv      file, expected status, MRN, document type, why
    out_dir/README.md         the same as a table, with how each file was made

Every page carries a patient header in one of several real-world styles (label box, labelled
lines, one line with gaps), with the birth date in varied formats. The body text comes from
`pipeline.synth.documents.generate_document`.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline.synth.documents import generate_document
from pipeline.synth.patients import (
    SyntheticPatient,
    generate_patients,
    namesake_pairs,
    twin_pairs,
    write_patient_csv,
)
from pipeline.synth.render import (
    FAX,
    OFFICE_SCAN,
    UNREADABLE,
    Degradation,
    render_pages,
    save_scan,
)

DEFAULT_SEED = 20260101
INDEX_SIZE = 200
SAMPLE_DPI = 200  # plenty for OCR, keeps the committed files small
SAMPLE_JPEG_QUALITY = 60
SCAN_TIME = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)  # fixed, so the same seed gives the same bytes

FILED = "filed"
NEEDS_REVIEW = "needs_review"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class SampleFile:
    """One generated input and what the pipeline should make of it."""

    file: str  # path relative to the sample folder, e.g. "scans/discharge_summary.pdf"
    expected: str  # filed | needs_review | rejected
    mrn: str  # the MRN it must be filed under ("" unless expected is filed)
    truth_mrn: str  # the indexed patient it is really about ("" when not in the index / bad input)
    doc_type: str  # key in the type list ("" for bad inputs)
    pages: int
    made: str  # how it was made
    why: str  # why that outcome


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    doc_type: str
    who: str  # which patient: a role resolved by `_cast`
    header: str  # key of _HEADERS
    pages: int
    degrade: Degradation
    expected: str
    why: str
    cover_sheet: bool = False
    dpi: int = SAMPLE_DPI
    font: str = "sans"


_SPECS: tuple[_Spec, ...] = (
    _Spec("discharge_summary.pdf", "discharge_summary", "a", "label", 2, OFFICE_SCAN, FILED,
          "name, birth date and MRN on every page agree with one patient"),
    _Spec("lab_report_fax.tif", "laboratory_report", "b", "inline", 2,
          replace(FAX, fax_header="01/05/2026 08:12  FROM: 217 555 0148  SPRINGFIELD LAB SVCS  PAGE {page} OF {pages}"),
          FILED,
          "faxed (1-bit, 204x98 dpi look); name + birth date + MRN agree"),
    _Spec("progress_note.png", "progress_note", "c", "lines", 1,
          Degradation(skew_degrees=-1.2, blur=0.8, speckles=80), FILED,
          "name + birth date (long month format) + MRN agree"),
    _Spec("consent_color.jpg", "consent", "d", "dotted", 1,
          Degradation(skew_degrees=1.8, noise=0.03, color=True), FILED,
          "colour JPEG, skewed; name + D.O.B. (dd Mon yyyy) + chart number agree", font="serif"),
    _Spec("referral_fax.pdf", "referral", "e", "label", 1,
          replace(FAX, fax_header="JAN-05-2026 09:31  FROM: 413 555 0190  NORTHGATE FAMILY PRACTICE  P.{page}/{pages}",
                  stamp="RECEIVED JAN 05 2026"),
          FILED,
          "fax in a PDF (CCITT G4 image); name + birth date + MRN agree"),
    _Spec("imaging_report_upside_down.pdf", "imaging_report", "f", "lines", 1,
          Degradation(rotation=180, skew_degrees=0.5, noise=0.03), FILED,
          "scanned upside down: OCR must turn it (orientation detection), then name + birth date + MRN agree"),
    _Spec("medication_list_with_cover_sheet.pdf", "medication_list", "g", "label", 2, OFFICE_SCAN, FILED,
          "page 1 is a barcode cover sheet (QR: MRN, birth date, name, LOINC type), the MRN and name"
          " are printed too", cover_sheet=True),
    _Spec("history_and_physical.tiff", "history_and_physical", "h", "inline", 3,
          Degradation(skew_degrees=0.7, noise=0.04, blur=0.5, background=250), FILED,
          "three-page greyscale TIFF; name + birth date + MRN on every page", font="serif"),
    _Spec("consult_note_unknown_patient.pdf", "consult_note", "outsider", "label", 1,
          replace(OFFICE_SCAN, stamp="SCANNED JAN 06 2026"), NEEDS_REVIEW,
          "the patient is not in the index: no candidate agrees on name and birth date"),
    _Spec("lab_report_mrn_only.png", "laboratory_report", "mrn_only", "mrn_only", 1,
          Degradation(speckles=40, skew_degrees=0.4), NEEDS_REVIEW,
          "only an MRN is printed: an MRN alone is never enough to file"),
    _Spec("progress_note_twin.pdf", "progress_note", "twin", "surname_dob", 1, OFFICE_SCAN, NEEDS_REVIEW,
          "surname, birth date and address fit both twins; no given name tells them apart"),
    _Spec("letter_namesake.jpg", "letter", "namesake", "name_only", 1,
          Degradation(skew_degrees=-0.6, noise=0.04), NEEDS_REVIEW,
          "full name only, no birth date or MRN: two patients in the index have that name"),
    _Spec("discharge_summary_unreadable.jpg", "discharge_summary", "a2", "label", 1, UNREADABLE, NEEDS_REVIEW,
          "nearly unreadable (faded, blurred, noisy, JPEG quality 8): OCR confidence too low to trust"),
)


# ---------------------------------------------------------------------------------- headers


def _mdy(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def _long(d: date) -> str:
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def _dmy(d: date) -> str:
    return d.strftime("%d %b %Y")


def _header_label(p: SyntheticPatient) -> list[str]:
    return [
        f"> Patient: {p.family_name.upper()}, {p.given_name.upper()}",
        f"> DOB: {_mdy(p.birth_date)}    MRN: {p.mrn}",
    ]


def _header_inline(p: SyntheticPatient) -> list[str]:
    return [f"Name: {p.family_name.upper()}, {p.given_name}    DOB: {p.birth_date.isoformat()}    MRN: {p.mrn}"]


def _header_lines(p: SyntheticPatient) -> list[str]:
    return [f"Patient Name: {p.given_name} {p.family_name}", f"Date of Birth: {_long(p.birth_date)}",
            f"Medical Record #: {p.mrn}"]


def _header_dotted(p: SyntheticPatient) -> list[str]:
    return [f"Patient: {p.given_name} {p.family_name}", f"D.O.B. {_dmy(p.birth_date)}      Chart #: {p.mrn}"]


def _header_mrn_only(p: SyntheticPatient) -> list[str]:
    return [f"> MRN: {p.mrn}"]


def _header_surname_dob(p: SyntheticPatient) -> list[str]:
    return [f"Patient: {p.family_name.upper()}", f"DOB: {_mdy(p.birth_date)}",
            f"Address: {p.address}, {p.city}, {p.state} {p.postcode}"]


def _header_name_only(p: SyntheticPatient) -> list[str]:
    return [f"Patient: {p.given_name} {p.family_name}"]


_HEADERS: dict[str, Callable[[SyntheticPatient], list[str]]] = {
    "label": _header_label,
    "inline": _header_inline,
    "lines": _header_lines,
    "dotted": _header_dotted,
    "mrn_only": _header_mrn_only,
    "surname_dob": _header_surname_dob,
    "name_only": _header_name_only,
}

_TITLES = {
    "discharge_summary": "Discharge Summary",
    "laboratory_report": "Laboratory Report",
    "progress_note": "Progress Note",
    "consent": "Consent",
    "referral": "Referral",
    "imaging_report": "Radiology Report",
    "medication_list": "Medication List",
    "history_and_physical": "History and Physical",
    "consult_note": "Consultation",
    "letter": "Correspondence",
}
_FACILITY = "Riverside General Hospital - Health Information Management"


# ---------------------------------------------------------------------------------- building


def make_samples(out_dir: Path | str, seed: int = DEFAULT_SEED) -> list[SampleFile]:
    """Write the sample set into `out_dir` (see the module docstring); return what was written."""
    out = Path(out_dir)
    (out / "scans").mkdir(parents=True, exist_ok=True)
    (out / "bad").mkdir(parents=True, exist_ok=True)
    patients = generate_patients(INDEX_SIZE, seed, twin_rate=0.01, namesake_rate=0.02)
    write_patient_csv(patients, out / "patients.csv")
    cast = _cast(patients, seed)
    rng = random.Random(seed)

    results: list[SampleFile] = []
    for number, spec in enumerate(_SPECS):
        patient = cast[spec.who]
        pages = _pages(spec, patient, rng)
        images = render_pages(pages, dpi=spec.dpi, seed=seed + number, degrade=spec.degrade, font=spec.font)
        save_scan(images, out / "scans" / spec.name, jpeg_quality=SAMPLE_JPEG_QUALITY, created=SCAN_TIME)
        in_index = spec.who not in ("outsider",)
        results.append(
            SampleFile(
                file=f"scans/{spec.name}",
                expected=spec.expected,
                mrn=patient.mrn if in_index and spec.expected == FILED else "",
                truth_mrn=patient.mrn if in_index else "",
                doc_type=spec.doc_type,
                pages=len(images),
                made=_describe(spec, patient, len(images)),
                why=spec.why,
            )
        )
    results.extend(_bad_inputs(out, out / "scans" / "referral_fax.pdf"))
    _write_expected(results, out / "expected.csv")
    _write_readme(results, cast, out / "README.md", seed)
    return results


def _cast(patients: Sequence[SyntheticPatient], seed: int) -> dict[str, SyntheticPatient]:
    """Pick who each sample is about: distinct ordinary patients, a twin, a namesake, an outsider."""
    twins = twin_pairs(patients)
    namesakes = namesake_pairs(patients)
    if not twins or not namesakes:
        raise RuntimeError(f"seed {seed}: the sample index has no twin or namesake pair; pick another seed")
    special = {p.mrn for pair in twins + namesakes for p in pair}
    names = {(p.family_name, p.given_name) for p in patients}
    ordinary = [p for p in patients if p.mrn not in special]
    # no one whose name is shared: the clean samples must have exactly one right answer
    counts: dict[tuple[str, str], int] = {}
    for p in patients:
        counts[(p.family_name, p.given_name)] = counts.get((p.family_name, p.given_name), 0) + 1
    ordinary = [p for p in ordinary if counts[(p.family_name, p.given_name)] == 1]
    picked = random.Random(seed).sample(ordinary, 10)
    mrns = {p.mrn for p in patients}
    outsider = next(
        p
        for p in generate_patients(50, seed + 1, twin_rate=0.0, namesake_rate=0.0)
        if p.mrn not in mrns and (p.family_name, p.given_name) not in names
    )
    cast = dict(zip(("a", "b", "c", "d", "e", "f", "g", "h", "mrn_only", "a2"), picked, strict=True))
    cast["twin"], cast["twin_sibling"] = twins[0]
    cast["namesake"] = namesakes[0][0]
    cast["outsider"] = outsider
    return cast


def _as_mapping(patient: SyntheticPatient, header: str) -> dict[str, object] | None:
    if header == "mrn_only":
        return {"mrn": patient.mrn}  # the body must not name the patient either
    fields = asdict(patient)
    fields.pop("duplicate_of")
    if header in ("surname_dob", "name_only"):
        # keep the doubt: the body may not add the given name / birth date the header leaves out
        fields["given_name"] = "" if header == "surname_dob" else fields["given_name"]
    return fields


def _pages(spec: _Spec, patient: SyntheticPatient, rng: random.Random) -> list[str]:
    header = _HEADERS[spec.header](patient)
    title = _TITLES.get(spec.doc_type, spec.doc_type.replace("_", " ").title())
    pages: list[str] = []
    if spec.cover_sheet:
        payload = (f"MRN:{patient.mrn}|DOB:{patient.birth_date.isoformat()}|"
                   f"NAME:{patient.family_name.upper()}^{patient.given_name.upper()}|TYPE:56445-0")
        pages.append("\n".join([
            "# FAX / SCAN COVER SHEET",
            _FACILITY,
            "",
            *header,
            "",
            f"Document type: {title}",
            "Place this sheet on top of the document. Do not write in the barcode area.",
            "",
            "{{barcode QRCode " + payload + "}}",
            "",
            "{{barcode Code128 " + patient.mrn + "}}",
        ]))
    body_pages = spec.pages - len(pages)
    mapping = _as_mapping(patient, spec.header)
    for number in range(1, body_pages + 1):
        body = generate_document(spec.doc_type, rng, mapping)
        if spec.header in ("surname_dob", "name_only", "mrn_only"):
            body = _scrub(body, patient, spec.header)
        first = [f"# {title}", _FACILITY, ""] if number == 1 else []
        footer = [f"Page {number} of {body_pages}"] if body_pages > 1 else []
        pages.append("\n".join([*first, *header, "", body.strip(), "", *footer]))
    return pages


def _scrub(body: str, patient: SyntheticPatient, header: str) -> str:
    """Drop body lines that would settle what the header leaves in doubt (birth date, given name)."""
    kept = []
    for line in body.splitlines():
        lower = line.lower()
        if any(k in lower for k in ("birth", "dob", "d.o.b", "mrn", "medical record", "patient name", "name:")):
            continue
        if header != "name_only" and patient.given_name and patient.given_name.lower() in lower:
            continue
        kept.append(line)
    return "\n".join(kept)


def _describe(spec: _Spec, patient: SyntheticPatient, pages: int) -> str:
    d = spec.degrade
    parts = [f"{spec.doc_type.replace('_', ' ')}, {pages} page{'s' if pages > 1 else ''}", f"{spec.header} header"]
    if spec.cover_sheet:
        parts.append("barcode cover sheet")
    if d.fax:
        parts.append("fax 1-bit")
    if d.rotation:
        parts.append(f"rotated {d.rotation}")
    if d.skew_degrees:
        parts.append(f"skew {d.skew_degrees:+g}")
    if d.noise:
        parts.append(f"noise {d.noise:g}")
    if d.blur:
        parts.append(f"blur {d.blur:g}")
    if d.speckles:
        parts.append(f"{d.speckles} specks")
    if d.fade:
        parts.append(f"fade {d.fade:g}")
    if d.jpeg_quality:
        parts.append(f"JPEG q{d.jpeg_quality}")
    if d.color:
        parts.append("colour")
    if d.fax_header:
        parts.append("fax header line")
    if d.stamp:
        parts.append(f"stamp \"{d.stamp}\"")
    parts.append(f"{spec.dpi} dpi, {spec.font}")
    return "; ".join(parts)


def _bad_inputs(out: Path, pdf_source: Path) -> list[SampleFile]:
    empty = out / "bad" / "empty_scan.pdf"
    empty.write_bytes(b"")
    text = out / "bad" / "notes_not_a_pdf.pdf"
    text.write_text("Shopping list: milk, eggs.\nThis is a plain text file that someone named .pdf.\n",
                    encoding="utf-8")
    data = pdf_source.read_bytes()
    truncated = out / "bad" / "truncated_scan.pdf"
    truncated.write_bytes(data[: len(data) * 2 // 5])  # the copy stopped part-way: no xref, no %%EOF
    return [
        SampleFile("bad/empty_scan.pdf", REJECTED, "", "", "", 0, "zero bytes", "the file is empty"),
        SampleFile("bad/notes_not_a_pdf.pdf", REJECTED, "", "", "", 0, "plain text with a .pdf name",
                   "the bytes are text, not a PDF or an image"),
        SampleFile("bad/truncated_scan.pdf", REJECTED, "", "", "", 0,
                   "the first 40% of scans/referral_fax.pdf", "the PDF is cut short (no %%EOF)"),
    ]


def _write_expected(results: Sequence[SampleFile], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("file", "expected", "mrn", "truth_mrn", "doc_type", "pages", "why"))
        for r in results:
            writer.writerow((r.file, r.expected, r.mrn, r.truth_mrn, r.doc_type, r.pages, r.why))


def read_expected(path: Path | str) -> list[dict[str, str]]:
    """The rows of expected.csv (for tests and the demo)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write_readme(results: Sequence[SampleFile], cast: dict[str, SyntheticPatient], path: Path, seed: int) -> None:
    twin_mrns = {cast["twin"].mrn, cast["twin_sibling"].mrn}
    lines = [
        "# Samples: synthetic scans and a synthetic patient index",
        "",
        "Everything here is invented by `pipeline.synth` (no real patient data). Regenerate with",
        "`make samples` or `python -m pipeline.synth.samples samples --seed " + str(seed) + "`: the same",
        "seed gives the same files (given the same body-text generator and library versions).",
        "`expected.csv` holds the table below for tests.",
        "",
        f"- `patients.csv`: {INDEX_SIZE} patients in the import format "
        "(`pipeline patients import samples/patients.csv`), with a twin pair "
        f"(MRNs {' and '.join(sorted(twin_mrns))}) and namesake pairs among them.",
        "- `scans/`: documents to process; each page has a patient header (label box, labelled lines or",
        "  one line with gaps; birth dates as MM/DD/YYYY, YYYY-MM-DD, Month D, YYYY or DD Mon YYYY).",
        "- `bad/`: inputs intake must reject, each with a reason, the run going on.",
        "",
        "| file | pages | how it was made | expected | why |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        outcome = f"filed to MRN {r.mrn}" if r.expected == FILED else r.expected
        lines.append(f"| `{r.file}` | {r.pages} | {r.made} | {outcome} | {r.why} |")
    lines += [
        "",
        "To see it: `pipeline --home /tmp/demo patients import samples/patients.csv`, then",
        "`pipeline --home /tmp/demo process --json samples/scans samples/bad`. A second `process` of the",
        "same files reports `duplicate` for every scan (and `rejected` again for `bad/`): nothing is filed twice.",
        "After regenerating, run `pytest tests/test_end_to_end.py`: the outcomes above must still hold.",
        "",
        "Ground truth: the text printed on each page is `pipeline.synth.render.ground_truth` of the",
        "page strings; rendering attaches it to each image as `image.info[\"text\"]`.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.synth.samples", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (e.g. samples)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    results = make_samples(args.out_dir, args.seed)
    for r in results:
        print(f"{r.file}\t{r.expected}\t{r.mrn}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["DEFAULT_SEED", "SampleFile", "make_samples", "read_expected"]

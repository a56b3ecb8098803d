"""Intake: hashing, sniffing the type from the bytes, and rejecting bad files with a useful reason."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.ingest.intake import intake, sniff
from pipeline.records import IncomingDocument, Rejection

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _image_bytes(fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("L", (60, 40), 255)
    (image.convert("1") if fmt == "TIFF" else image).save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "fmt", "media_type"),
    [
        ("scan.pdf", "PDF", "application/pdf"),
        ("scan.tif", "TIFF", "image/tiff"),
        ("scan.png", "PNG", "image/png"),
        ("scan.jpg", "JPEG", "image/jpeg"),
    ],
)
def test_supported_files_are_accepted_with_hash_size_and_type(tmp_path, name, fmt, media_type) -> None:
    data = _image_bytes(fmt)
    path = _write(tmp_path, name, data)
    result = intake(path, NOW)
    assert isinstance(result, IncomingDocument)
    assert result.media_type == media_type
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size == len(data)
    assert result.original_name == name and result.source == path
    assert result.received_at == NOW


def test_type_comes_from_the_bytes_not_the_name(tmp_path) -> None:
    result = intake(_write(tmp_path, "really_a_png.pdf", _image_bytes("PNG")), NOW)
    assert isinstance(result, IncomingDocument) and result.media_type == "image/png"
    assert sniff(_image_bytes("PNG")) == "image/png"
    assert sniff(b"junk\r\n%PDF-1.7\n") == "application/pdf"  # a little junk before the header
    assert sniff(b"MM\x00*\x00\x00\x00\x08") == "image/tiff"
    assert sniff(b"hello") is None


def test_a_large_file_is_hashed_across_chunks(tmp_path) -> None:
    data = _image_bytes("PNG")
    big = data[:-12] + bytes(range(256)) * 12_000 + data[-12:]  # ~3 MB, IEND still at the end
    result = intake(_write(tmp_path, "big.png", big), NOW)
    assert isinstance(result, IncomingDocument)
    assert result.sha256 == hashlib.sha256(big).hexdigest() and result.size == len(big)


def test_zero_byte_file_is_rejected_with_advice(tmp_path) -> None:
    result = intake(_write(tmp_path, "scan_0042.pdf", b""), NOW)
    assert isinstance(result, Rejection)
    assert result.error == "EmptyFileError"
    assert result.reason == "scan_0042.pdf: the file is empty (0 bytes); scan it again and drop the new file in"


def test_text_named_pdf_is_rejected(tmp_path) -> None:
    result = intake(_write(tmp_path, "notes.pdf", b"Dear Dr. Smith,\nplease see the attached.\n"), NOW)
    assert isinstance(result, Rejection)
    assert result.error == "UnsupportedFormatError"
    assert result.reason.startswith("notes.pdf: the file is plain text, not a PDF, TIFF, PNG or JPEG scan; ")
    assert "PDF" in result.reason.split("; ")[1]


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"GIF89a" + bytes(40), "a GIF image"),
        (b"PK\x03\x04" + bytes(40), "a ZIP archive or Office document"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "a web page (HTML)"),
        (bytes(range(256)) * 4, "type is not recognised"),
    ],
)
def test_other_types_are_rejected_naming_what_they_are(tmp_path, data, what) -> None:
    result = intake(_write(tmp_path, "thing.pdf", data), NOW)
    assert isinstance(result, Rejection) and result.error == "UnsupportedFormatError"
    assert result.reason.startswith("thing.pdf: ") and what in result.reason


def test_truncated_pdf_is_rejected(tmp_path) -> None:
    whole = _image_bytes("PDF")
    assert isinstance(intake(_write(tmp_path, "whole.pdf", whole), NOW), IncomingDocument)
    result = intake(_write(tmp_path, "cut.pdf", whole[: len(whole) // 2]), NOW)
    assert isinstance(result, Rejection) and result.error == "CorruptFileError"
    assert result.reason.startswith("cut.pdf: the PDF is cut short")
    assert "scan it again" in result.reason


def test_padding_after_the_end_marker_is_fine_but_only_padding(tmp_path) -> None:
    whole = _image_bytes("PDF")
    padded = intake(_write(tmp_path, "padded.pdf", whole + b"\x00" * 10_000 + b"\r\n"), NOW)
    assert isinstance(padded, IncomingDocument)
    junk = intake(_write(tmp_path, "junk.pdf", whole + b"garbage" * 500), NOW)
    assert isinstance(junk, Rejection) and junk.error == "CorruptFileError"


def test_a_cut_linearized_pdf_is_caught_despite_its_early_end_marker(tmp_path) -> None:
    import pikepdf

    source = tmp_path / "source.pdf"
    noise = np.random.default_rng(0).integers(0, 256, (300, 300), dtype=np.uint8)  # a page of real size
    Image.fromarray(noise).save(source, format="PDF", quality=90)
    with pikepdf.open(source) as pdf:
        pdf.save(tmp_path / "linear.pdf", linearize=True)
    whole = (tmp_path / "linear.pdf").read_bytes()
    assert whole.count(b"%%EOF") == 2  # one after the first-page section, one at the end
    assert isinstance(intake(tmp_path / "linear.pdf", NOW), IncomingDocument)
    first_eof = whole.index(b"%%EOF") + 5
    cut = intake(_write(tmp_path, "cut_linear.pdf", whole[: first_eof + (len(whole) - first_eof) // 2]), NOW)
    assert isinstance(cut, Rejection) and cut.error == "CorruptFileError"


def test_pdf_without_cross_reference_is_rejected(tmp_path) -> None:
    result = intake(_write(tmp_path, "odd.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"), NOW)
    assert isinstance(result, Rejection) and result.error == "CorruptFileError"
    assert "cross-reference" in result.reason


@pytest.mark.parametrize(("fmt", "name", "marker"), [("JPEG", "cut.jpg", "end-of-image"), ("PNG", "cut.png", "IEND")])
def test_truncated_images_are_rejected(tmp_path, fmt, name, marker) -> None:
    data = _image_bytes(fmt)
    result = intake(_write(tmp_path, name, data[: len(data) - 20]), NOW)
    assert isinstance(result, Rejection) and result.error == "CorruptFileError"
    assert result.reason.startswith(f"{name}: ") and marker in result.reason


def test_truncated_tiff_is_rejected_when_its_directory_is_gone(tmp_path) -> None:
    whole = (SAMPLES / "scans" / "lab_report_fax.tif").read_bytes()  # libtiff puts the directory after the data
    directory = int.from_bytes(whole[4:8], "little")
    result = intake(_write(tmp_path, "fax.tif", whole[: directory - 100]), NOW)
    assert isinstance(result, Rejection) and result.error == "CorruptFileError"
    assert result.reason.startswith("fax.tif: the TIFF is cut short")
    assert isinstance(intake(_write(tmp_path, "tiny.tif", b"II*\x00"), NOW), Rejection)


def test_size_limit(tmp_path) -> None:
    path = _write(tmp_path, "huge.png", _image_bytes("PNG"))
    result = intake(path, NOW, max_bytes=10)
    assert isinstance(result, Rejection) and result.error == "LimitExceededError"
    assert result.reason.startswith("huge.png: the file is larger than the limit")


def test_naive_time_is_a_programming_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        intake(_write(tmp_path, "a.png", _image_bytes("PNG")), datetime(2026, 1, 5))


def test_missing_file_raises_an_os_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        intake(tmp_path / "gone.pdf", NOW)


def test_the_committed_samples_get_the_intake_outcome_their_table_promises() -> None:
    expected_errors = {
        "empty_scan.pdf": "EmptyFileError",
        "notes_not_a_pdf.pdf": "UnsupportedFormatError",
        "truncated_scan.pdf": "CorruptFileError",
    }
    for path in sorted((SAMPLES / "bad").iterdir()):
        result = intake(path, NOW)
        assert isinstance(result, Rejection), path.name
        assert result.error == expected_errors[path.name]
        assert result.reason.startswith(f"{path.name}: ")
    types = {".pdf": "application/pdf", ".tif": "image/tiff", ".tiff": "image/tiff", ".png": "image/png",
             ".jpg": "image/jpeg"}
    for path in sorted((SAMPLES / "scans").iterdir()):
        result = intake(path, NOW)
        assert isinstance(result, IncomingDocument), path.name
        assert result.media_type == types[path.suffix]


def test_looks_complete_reads_only_the_ends(tmp_path) -> None:
    from pipeline.ingest.intake import looks_complete

    whole = _image_bytes("PDF")
    assert looks_complete(_write(tmp_path, "whole.pdf", whole))
    assert not looks_complete(_write(tmp_path, "half.pdf", whole[: len(whole) // 2]))
    assert not looks_complete(_write(tmp_path, "empty.pdf", b""))
    assert looks_complete(_write(tmp_path, "notes.pdf", b"just text"))  # intake rejects it; no point waiting
    jpeg = _image_bytes("JPEG")
    assert looks_complete(_write(tmp_path, "a.jpg", jpeg))
    assert not looks_complete(_write(tmp_path, "cut.jpg", jpeg[:-30]))
    assert not looks_complete(tmp_path / "missing.pdf")

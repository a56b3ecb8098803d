"""Rendering text pages as scans: layout, ground truth, degradation, file formats, barcodes."""

from __future__ import annotations

import numpy as np
import pikepdf
import pytest
import zxingcpp
from PIL import Image

from pipeline.synth.render import (
    CLEAN,
    FAX,
    POOR,
    Degradation,
    barcode_image,
    ground_truth,
    page_size_points,
    render_pages,
    save_scan,
)

PAGE = """# Progress Note
> Patient: HUFF, JUDITH
> DOB: 04/17/1973    MRN: 75455531
## Assessment
Hypertension, well controlled on lisinopril. Continue the current dose and recheck in three months.
| Test | Result | Units |
| Sodium | 140 | mmol/L |
Glucose                       75.3       mg/dL     70-99
"""
DPI = 100  # small and fast; layout scales with dpi


def test_letter_page_with_ground_truth_in_info() -> None:
    (image,) = render_pages([PAGE], dpi=DPI)
    assert image.size == (850, 1100)
    assert page_size_points(image) == (612.0, 792.0)
    assert image.mode == "L"
    text = image.info["text"]
    assert text.splitlines()[0] == "Progress Note"
    assert "DOB: 04/17/1973 MRN: 75455531" in text
    assert "Sodium 140 mmol/L" in text
    assert "Glucose 75.3 mg/dL 70-99" in text
    assert "#" not in text and "|" not in text and ">" not in text
    assert text.split() == ground_truth([PAGE]).split()
    assert image.info["rotation"] == 0


def test_ink_is_drawn_where_the_text_is() -> None:
    (image,) = render_pages([PAGE], dpi=DPI)
    pixels = np.asarray(image)
    assert (pixels < 128).sum() > 2000  # text was drawn
    margin = round(0.8 * DPI) - 2
    assert (pixels[:, :margin] == 255).all()  # nothing in the left margin of a clean page
    assert (pixels[-margin:, :] == 255).all()


def test_long_text_flows_onto_more_sheets_and_keeps_every_word() -> None:
    words = [f"word{i}" for i in range(1500)]
    page = "# Long letter\n" + "\n".join(" ".join(words[i : i + 15]) for i in range(0, 1500, 15))
    images = render_pages([page], dpi=DPI)
    assert len(images) >= 3
    rendered = " ".join(image.info["text"] for image in images).split()
    assert rendered == ["Long", "letter", *words]


def test_same_seed_same_pixels_other_seed_other_noise() -> None:
    noisy = Degradation(noise=0.3, speckles=50, skew_degrees=1.0)
    a = render_pages([PAGE], dpi=DPI, seed=4, degrade=noisy)[0]
    b = render_pages([PAGE], dpi=DPI, seed=4, degrade=noisy)[0]
    c = render_pages([PAGE], dpi=DPI, seed=5, degrade=noisy)[0]
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_degradations_change_the_image_the_way_they_say() -> None:
    clean = np.asarray(render_pages([PAGE], dpi=DPI)[0], dtype=float)
    poor = np.asarray(render_pages([PAGE], dpi=DPI, degrade=POOR)[0], dtype=float)
    assert poor.std() > 0 and np.abs(poor - clean).mean() > 10
    fax = render_pages([PAGE], dpi=DPI * 2, degrade=FAX)[0]
    assert fax.mode == "1" and fax.info["dpi"] == (204, 204)
    sideways = render_pages([PAGE], dpi=DPI, degrade=Degradation(rotation=90))[0]
    assert sideways.size == (1100, 850) and sideways.info["rotation"] == 90
    upside = np.asarray(render_pages([PAGE], dpi=DPI, degrade=Degradation(rotation=180))[0])
    assert (upside == np.rot90(clean.astype(np.uint8), 2)).all()
    colour = render_pages([PAGE], dpi=DPI, degrade=Degradation(color=True))[0]
    assert colour.mode == "RGB"


def test_fax_header_and_stamp() -> None:
    header = "JAN-05-2026 09:31  FROM: 555 201 4432  P.{page}/{pages}"
    marked = Degradation(fax_header=header, stamp="RECEIVED JAN 05 2026")
    images = render_pages([PAGE, PAGE], dpi=DPI, degrade=marked)
    assert [im.info["text"].splitlines()[0] for im in images] == [
        "JAN-05-2026 09:31 FROM: 555 201 4432 P.1/2",
        "JAN-05-2026 09:31 FROM: 555 201 4432 P.2/2",
    ]
    assert images[0].info["stamp"] == "RECEIVED JAN 05 2026" and "RECEIVED" not in images[0].info["text"]
    plain = np.asarray(render_pages([PAGE], dpi=DPI)[0])
    stamped = np.asarray(images[0])
    top_right = (slice(0, DPI * 2), slice(DPI * 4, DPI * 8))
    assert (stamped[top_right] < 200).sum() > (plain[top_right] < 200).sum() + 500
    assert (stamped[: DPI // 3] < 128).any() and not (plain[: DPI // 3] < 128).any()  # the header line


@pytest.mark.parametrize(
    "kwargs", [{"rotation": 45}, {"noise": 2.0}, {"jpeg_quality": 0}, {"blur": -1.0}, {"background": 300}]
)
def test_bad_degradation_is_refused(kwargs) -> None:
    with pytest.raises(ValueError):
        Degradation(**kwargs)


def test_save_scan_writes_each_format_readable(tmp_path) -> None:
    pages = render_pages([PAGE, "# Page two\nMore text."], dpi=DPI, degrade=CLEAN)
    pdf = save_scan(pages, tmp_path / "scan.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    with pikepdf.open(pdf) as document:
        assert len(document.pages) == 2
        assert float(document.pages[0].mediabox[2]) == pytest.approx(612, abs=1)
        assert b"BT" not in document.pages[0].Contents.read_bytes()  # image only, no text layer
    tiff = save_scan(pages, tmp_path / "scan.tiff")
    with Image.open(tiff) as image:
        assert image.n_frames == 2
    fax_tiff = save_scan(render_pages([PAGE], dpi=200, degrade=FAX), tmp_path / "fax.tif")
    with Image.open(fax_tiff) as image:
        assert image.mode == "1" and image.info["compression"] == "group4"
    png = save_scan(pages[:1], tmp_path / "scan.png")
    jpeg = save_scan(pages[:1], tmp_path / "scan.JPG")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert jpeg.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(png) as image:
        assert round(image.info["dpi"][0]) == DPI
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fax.tif", "scan.JPG", "scan.pdf", "scan.png", "scan.tiff"]


def test_save_scan_refuses_what_it_cannot_write(tmp_path) -> None:
    pages = render_pages([PAGE, PAGE], dpi=DPI)
    with pytest.raises(ValueError, match="holds one page"):
        save_scan(pages, tmp_path / "two.png")
    with pytest.raises(ValueError, match="unsupported suffix"):
        save_scan(pages, tmp_path / "scan.bmp")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("fmt", "payload"), [("QRCode", "MRN:75455531|DOB:1973-04-17"), ("Code128", "75455531")])
def test_barcode_round_trips_through_zxing(fmt, payload) -> None:
    image = barcode_image(payload, fmt, module_px=3)
    assert image.mode == "L"
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [payload]


def test_barcode_on_a_scanned_cover_sheet_is_readable() -> None:
    page = "# Cover sheet\n{{barcode QRCode MRN:75455531;TYPE:59284-0}}\n{{barcode Code128 75455531}}"
    (image,) = render_pages([page], dpi=200, degrade=Degradation(skew_degrees=1.0, noise=0.05))
    found = {r.text for r in zxingcpp.read_barcodes(image)}
    assert found == {"MRN:75455531;TYPE:59284-0", "75455531"}
    assert "75455531" in image.info["text"] and "TYPE" not in image.info["text"]


def test_unknown_barcode_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown barcode format"):
        barcode_image("x", "NoSuchCode")


@pytest.mark.integration
def test_tesseract_reads_a_clean_render_back() -> None:
    import pytesseract

    (image,) = render_pages([PAGE], dpi=200)
    text = pytesseract.image_to_string(image)
    for word in ("Progress", "Note", "HUFF", "JUDITH", "04/17/1973", "75455531", "lisinopril"):
        assert word in text

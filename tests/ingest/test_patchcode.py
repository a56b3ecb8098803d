"""Patch codes read from their bar widths, and the blank-page measure, on rendered pages."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.ingest.blank import ink_share, is_blank
from pipeline.ingest.patchcode import PATTERNS, draw_patch, read_patch_codes
from pipeline.settings import DEFAULT_BLANK_MAX_INK
from pipeline.synth.render import OFFICE_SCAN, POOR, Degradation, render_pages

REVERSED = {"1": "6", "6": "1", "3": "T", "T": "3", "2": "2", "4": "4"}


def _page(dpi: int = 300) -> Image.Image:
    page = Image.new("L", (round(8.5 * dpi), round(11 * dpi)), 250)
    page.info["dpi"] = (dpi, dpi)
    return page


def _with_patch(code: str, dpi: int = 300, *, horizontal: bool = False, scale: float = 1.0,
                skew: float = 0.0) -> Image.Image:
    page = _page(dpi)
    patch = draw_patch(code, dpi, horizontal=horizontal).convert("L")
    if scale != 1.0:
        patch = patch.resize((round(patch.width * scale), round(patch.height * scale)))
    page.paste(patch, (dpi, dpi))
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=250)
        page.info["dpi"] = (dpi, dpi)
    return page


def test_the_published_patterns_are_the_six_arrangements_of_two_wide_bars() -> None:
    assert sorted(PATTERNS.values()) == sorted({"1100", "1001", "1010", "0110", "0011", "0101"})
    bars = np.asarray(draw_patch("T", 100))[50]  # one row across the bars at 100 dpi
    runs = [len(list(g)) for _, g in __import__("itertools").groupby(bars)]
    assert runs[1:-1] == [8, 8, 20, 8, 8, 8, 20]  # narrow, space, wide, space, narrow, space, wide


@pytest.mark.parametrize("code", sorted(PATTERNS))
def test_each_code_is_read_with_its_reverse_reading(code) -> None:
    assert read_patch_codes(_with_patch(code)) == {code, REVERSED[code]}


@pytest.mark.parametrize(("dpi", "horizontal", "scale", "skew"), [
    (200, False, 1.0, 0.0), (150, True, 1.0, 0.0), (300, False, 0.85, 0.0), (300, False, 1.2, 0.0),
    (300, False, 1.0, 1.5), (300, True, 1.0, -1.0),
])
def test_patch_t_is_read_across_resolutions_orientations_print_scales_and_skew(dpi, horizontal, scale, skew) -> None:
    assert "T" in read_patch_codes(_with_patch("T", dpi, horizontal=horizontal, scale=scale, skew=skew))


def test_bars_too_short_too_thin_or_too_thick_are_not_a_patch() -> None:
    short = _page()
    short.paste(draw_patch("T", 300, length_in=1.0).convert("L"), (300, 300))
    assert read_patch_codes(short) == frozenset()
    assert read_patch_codes(_with_patch("T", scale=0.5)) == frozenset()  # half size: bars 0.04 in
    assert read_patch_codes(_with_patch("T", scale=1.8)) == frozenset()


def test_text_tables_rules_and_barcodes_are_not_patches() -> None:
    text = "# Laboratory report\n\n" + "\n".join(f"WBC  {i}.2  |  RBC 4.{i}  |  HGB 13.{i}" for i in range(40))
    text += "\n\n{{barcode Code128 PIPELINE-SEPARATOR}}\n\n{{barcode QRCode MRN:123456|TYPE:11502-2}}"
    for page in render_pages([text], dpi=300, degrade=OFFICE_SCAN):
        assert read_patch_codes(page) == frozenset()
    ruled = _page()
    draw = ImageDraw.Draw(ruled)
    for x in range(300, 2200, 45):  # evenly spaced vertical rules, like a form's columns
        draw.rectangle((x, 300, x + 23, 1500), fill=0)
    assert read_patch_codes(ruled) == frozenset()


# ----------------------------------------------------------------------------------- blanks


def test_blank_pages_with_scanner_noise_are_blank() -> None:
    for degrade in (OFFICE_SCAN, POOR, Degradation(noise=0.2, speckles=200, edge_shadow=True)):
        page = render_pages([""], dpi=300, seed=3, degrade=degrade)[0]
        assert is_blank(page, DEFAULT_BLANK_MAX_INK), degrade


def test_a_page_number_or_a_stamp_is_not_blank() -> None:
    number = render_pages(["\n" * 50 + "3"], dpi=300, degrade=OFFICE_SCAN)[0]
    stamp = render_pages([""], dpi=300, degrade=Degradation(noise=0.08, stamp="RECEIVED JAN 05 2026"))[0]
    text = render_pages(["Patient seen today. Doing well."], dpi=300, degrade=OFFICE_SCAN)[0]
    for page in (number, stamp, text):
        assert not is_blank(page, DEFAULT_BLANK_MAX_INK)
    assert ink_share(number) < ink_share(text)


def test_a_clean_white_page_has_no_ink() -> None:
    assert ink_share(_page(150)) == 0.0

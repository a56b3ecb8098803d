"""Skew estimation and page turning on drawn pages (no external programs)."""

from __future__ import annotations

import pytest

import numpy as np
from PIL import Image

from pipeline.ocr import preprocess
from .pages import TEXT, draw_page


@pytest.mark.parametrize("tilt", [-4.0, -1.5, 2.0, 5.0])
def test_estimate_skew_finds_the_correction_for_a_tilted_page(tilt: float) -> None:
    page = draw_page(TEXT * 3)
    tilted = preprocess.straighten(page, tilt)  # counter-clockwise by `tilt`
    assert preprocess.estimate_skew(tilted) == pytest.approx(-tilt, abs=0.25)


def test_a_straight_page_needs_no_correction() -> None:
    assert abs(preprocess.estimate_skew(draw_page(TEXT * 3))) < 0.3


def test_a_blank_page_has_no_skew() -> None:
    assert preprocess.estimate_skew(draw_page([""])) == 0.0


@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_turn_is_clockwise_and_undone_by_the_opposite_turn(clockwise: int) -> None:
    page = draw_page(TEXT)
    turned = preprocess.turn(page, clockwise)
    if clockwise != 180:
        assert turned.size == (page.height, page.width)
    assert preprocess.turn(turned, 360 - clockwise).tobytes() == page.tobytes()


def test_turning_90_clockwise_moves_the_top_left_corner_to_the_top_right() -> None:
    page = draw_page([""], width=200)
    page.paste(0, (0, 0, 10, 10))  # a black square top left
    turned = preprocess.turn(page, 90)
    assert turned.getpixel((turned.width - 5, 5)) == 0
    assert turned.getpixel((5, 5)) == 255


def test_a_clean_page_goes_to_tesseract_in_black_and_white() -> None:
    page = draw_page(TEXT)
    bilevel = preprocess.binarize(page)
    assert bilevel is not None and bilevel.mode == "1" and bilevel.size == page.size
    grey, bits = np.asarray(page), np.asarray(bilevel.convert("L"))
    assert (bits[grey < 60] == 0).all() and (bits[grey > 200] == 255).all()  # ink stays ink, paper paper
    assert bilevel.info["dpi"] == page.info["dpi"]


def test_a_blurred_faded_page_keeps_its_grey() -> None:
    from PIL import ImageFilter

    page = draw_page(TEXT).filter(ImageFilter.GaussianBlur(2.5))
    faded = page.point(lambda v: 140 + v * 85 // 255)  # toner running low on grey paper
    rng = np.random.default_rng(3)
    noisy = np.clip(np.asarray(faded, dtype=np.int16) + rng.normal(0, 14, (faded.height, faded.width)), 0, 255)
    assert preprocess.binarize(Image.fromarray(noisy.astype(np.uint8), mode="L")) is None


def test_a_blank_page_and_a_one_bit_page() -> None:
    assert preprocess.binarize(Image.new("L", (300, 200), 255)) is None
    fax = draw_page(TEXT).convert("1")
    assert preprocess.binarize(fax) is fax

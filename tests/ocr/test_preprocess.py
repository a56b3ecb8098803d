"""Skew estimation and page turning on drawn pages (no external programs)."""

from __future__ import annotations

import pytest

from pipeline.ocr import preprocess
from .pages import TEXT, draw_page


@pytest.mark.parametrize("tilt", [-4.0, -1.5, 2.0, 5.0])
def test_estimate_skew_finds_the_correction_for_a_tilted_page(tilt: float) -> None:
    page = draw_page(TEXT * 3)
    tilted = preprocess.straighten(page, tilt)  # counter-clockwise by `tilt`
    assert preprocess.estimate_skew(tilted) == pytest.approx(-tilt, abs=0.25)


def test_a_straight_page_needs_no_correction() -> None:
    assert abs(preprocess.estimate_skew(draw_page(TEXT * 3))) < preprocess.MIN_CORRECTION


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

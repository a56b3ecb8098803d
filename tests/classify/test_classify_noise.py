"""OCR-like noise for training."""

from __future__ import annotations

import random

from pipeline.classify.noise import ocr_noise

TEXT = ("DISCHARGE SUMMARY\nThe patient was admitted on 01/05/2025 with community-acquired pneumonia, "
        "treated with IV ceftriaxone 1 g daily, and improved. Follow-up in clinic in 10 days. "
        "Modern medicine; learn more from the internal medicine team.") * 3


def test_level_zero_is_the_identity() -> None:
    assert ocr_noise(TEXT, random.Random(1), 0) == TEXT
    assert ocr_noise("", random.Random(1), 1.0) == ""


def test_same_seed_same_noise_and_level_scales_damage() -> None:
    assert ocr_noise(TEXT, random.Random(3), 0.5) == ocr_noise(TEXT, random.Random(3), 0.5)

    def changed(level: float) -> int:
        noisy = ocr_noise(TEXT, random.Random(9), level)
        return sum(a != b for a, b in zip(noisy, TEXT)) + abs(len(noisy) - len(TEXT))

    assert 0 < changed(0.2) < changed(1.0)


def test_makes_the_errors_tesseract_makes() -> None:
    outputs = [ocr_noise(TEXT, random.Random(seed), 1.0) for seed in range(40)]
    joined = "\n".join(outputs)
    assert "O1" in joined or "0l" in joined or "Ol" in joined or "0I" in joined  # digits read as letters (01/05)
    assert any("rn" in o.replace("rnodern", "") and "Modern" not in o for o in outputs) or "Mo dern" in joined or "rnedicine" in joined
    assert any(o.count("\n") > TEXT.count("\n") for o in outputs)  # broken lines
    assert any(len(o.split()) < len(TEXT.split()) for o in outputs)  # merged words
    # still mostly the same text: a classifier must be able to read it
    assert all(0.85 * len(TEXT) < len(o) < 1.15 * len(TEXT) for o in outputs)

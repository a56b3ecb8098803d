"""Every class of bad input: the error class, and a message naming the file, the problem and the fix."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from pipeline.errors import (
    CorruptFileError,
    EncryptedFileError,
    LimitExceededError,
    MissingDependencyError,
    UnsupportedFormatError,
)
from pipeline.ocr.engine import OcrEngine

from .pages import TEXT, document, draw_page, save_pdf

pytestmark = pytest.mark.integration


def test_truncated_pdf_is_corrupt(engine: OcrEngine, tmp_path: Path) -> None:
    whole = save_pdf([draw_page(TEXT), draw_page(TEXT)], tmp_path / "whole.pdf").read_bytes()
    path = tmp_path / "scan_0042.pdf"
    path.write_bytes(whole[: len(whole) * 2 // 3])

    with pytest.raises(CorruptFileError) as caught:
        engine.recognize(document(path), tmp_path / "work")

    assert caught.value.exit_code == 4
    assert str(caught.value).startswith("scan_0042.pdf: the PDF is damaged or truncated")
    assert "rescan" in str(caught.value)
    assert not any((tmp_path / "work").iterdir())  # no scratch left behind


def test_encrypted_pdf_says_remove_the_password(engine: OcrEngine, tmp_path: Path) -> None:
    plain = save_pdf([draw_page(TEXT)], tmp_path / "plain.pdf")
    path = tmp_path / "locked.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(owner="owner-secret", user="user-secret"))

    with pytest.raises(EncryptedFileError) as caught:
        engine.recognize(document(path), tmp_path)

    assert str(caught.value) == ("locked.pdf: the PDF is encrypted; remove the password and drop "
                                 "it in again")


def test_damaged_png_is_corrupt(engine: OcrEngine, tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    draw_page(TEXT).save(good)
    path = tmp_path / "torn.png"
    path.write_bytes(good.read_bytes()[:400])

    with pytest.raises(CorruptFileError) as caught:
        engine.recognize(document(path), tmp_path)

    assert str(caught.value).startswith("torn.png: page 1 is damaged or truncated")


def test_text_file_named_like_an_image_is_corrupt(engine: OcrEngine, tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture")
    with pytest.raises(CorruptFileError, match=r"^notes\.jpg: not a readable image"):
        engine.recognize(document(path), tmp_path)


def test_unsupported_media_type(engine: OcrEngine, tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedFormatError, match=r"^letter\.docx: .* send a PDF, TIFF, PNG or JPEG"):
        engine.recognize(document(path, "application/zip"), tmp_path)


def test_too_many_pages(tmp_path: Path) -> None:
    path = save_pdf([draw_page(["one"]), draw_page(["two"]), draw_page(["three"])],
                    tmp_path / "long.pdf")
    with OcrEngine(max_pages=2, workers=1) as limited, pytest.raises(LimitExceededError) as caught:
        limited.recognize(document(path), tmp_path)
    assert str(caught.value) == ("long.pdf: 3 pages is over the limit of 2 (PIPELINE_OCR_MAX_PAGES); "
                                 "split the document and drop the parts in again")


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_too_many_pixels(tmp_path: Path, suffix: str) -> None:
    image = draw_page(TEXT, width=1500)  # 1500 x 416 = 624,000 pixels: 1-2x the limit
    path = tmp_path / f"big{suffix}"
    if suffix == ".pdf":
        save_pdf([image], path)
    else:
        image.save(path)
    with OcrEngine(max_pixels=500_000, workers=1) as limited, \
            pytest.raises(LimitExceededError) as caught:
        limited.recognize(document(path), tmp_path)
    message = str(caught.value)
    assert message.startswith(f"big{suffix}: ")
    assert "PIPELINE_OCR_MAX_PIXELS" in message and "lower resolution" in message


def test_decompression_bomb_guard_stays_on(tmp_path: Path) -> None:
    # more than twice the pixel limit: Pillow itself refuses to open it
    path = tmp_path / "bomb.png"
    draw_page(TEXT, width=3000).save(path)
    with OcrEngine(max_pixels=200_000, workers=1) as limited, \
            pytest.raises(LimitExceededError, match=r"^bomb\.png: the image is too large to decode "
                          r"safely \(over twice the limit of 200,000 pixels"):
        limited.recognize(document(path), tmp_path)


def test_page_timeout(tmp_path: Path) -> None:
    path = tmp_path / "slow.png"
    draw_page(TEXT * 4).save(path)
    with OcrEngine(page_timeout=0.05, workers=1) as hasty, \
            pytest.raises(LimitExceededError) as caught:
        hasty.recognize(document(path), tmp_path)
    message = str(caught.value)
    assert message.startswith("slow.png: page 1")
    assert "PIPELINE_OCR_PAGE_TIMEOUT" in message


def test_missing_language_pack_names_the_apt_package() -> None:
    with pytest.raises(MissingDependencyError) as caught:
        OcrEngine(languages="eng+zzz", workers=1)
    assert caught.value.exit_code == 3
    assert "zzz" in str(caught.value)
    assert "apt-get install tesseract-ocr-zzz" in str(caught.value)


def slow_to_render_pdf(path: Path, strokes: int = 300_000) -> Path:
    """A page of 300,000 vector strokes: pdfium needs ~18 s to render it at 300 dpi here."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    ops = b"".join(b"%d %d m %d %d l S\n" % (i % 612, (i * 7) % 792, (i * 13) % 612, (i * 17) % 792)
                   for i in range(strokes))
    pdf.pages[0].Contents = pikepdf.Stream(pdf, b"0.1 w\n" + ops)
    pdf.save(path, compress_streams=True)
    return path


def test_a_page_stuck_in_the_renderer_is_stopped_and_other_documents_go_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """No timeout reaches inside pdfium: the watchdog kills the worker, the document is rejected
    with its reason, and a document that shared the pool is read again on a fresh one."""
    import threading
    import time

    from pipeline.ocr import engine as engine_module

    monkeypatch.setattr(engine_module, "KILL_GRACE", 1.0)
    caplog.set_level("INFO", logger="pipeline.ocr.engine")
    slow = slow_to_render_pdf(tmp_path / "plotter_output.pdf")
    # started once the stuck page is under way, and long enough (40 pages on the one free worker)
    # to be in flight when it is stopped
    other = save_pdf([draw_page(["Another document in the batch"] * 2)] * 40, tmp_path / "other.pdf")
    outcome: dict[str, object] = {}

    with OcrEngine(workers=2, page_timeout=2.0) as ocr:
        def read_other() -> None:
            time.sleep(1.5)
            outcome["other"] = ocr.recognize(document(other), tmp_path / "w2").text

        with pytest.raises(LimitExceededError) as caught:
            thread = threading.Thread(target=read_other)
            thread.start()
            ocr.recognize(document(slow), tmp_path / "w1")
        thread.join(timeout=60)

        message = str(caught.value)
        assert message.startswith("plotter_output.pdf: page 1 was still being read after")
        assert "PIPELINE_OCR_PAGE_TIMEOUT" in message and "rescan or re-export" in message
        assert str(outcome.get("other")).count("Another document in the batch") == 40 * 2
        assert ocr._restarts == 1 and "OCR pool restarted under it" in caplog.text
        # and the engine goes on with a fresh pool
        again = ocr.recognize(document(other), tmp_path / "w3")
        assert "Another document in the batch" in again.text

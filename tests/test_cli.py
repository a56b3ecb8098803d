"""The command-line contract: exit codes and messages for bad invocations and bad settings."""

from __future__ import annotations

import pytest

from pipeline import __version__
from pipeline.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_missing_input_path_exits_9_naming_it(tmp_path, capsys):
    code = main(["--home", str(tmp_path / "home"), "process", str(tmp_path / "nope.pdf")])
    assert code == 9
    assert "nope.pdf" in capsys.readouterr().err


def test_invalid_setting_from_environment_exits_2_naming_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PIPELINE_WORKERS", "-3")
    monkeypatch.setenv("PIPELINE_OCR_DPI", "lots")
    code = main(["--home", str(tmp_path), "types"])
    err = capsys.readouterr().err
    assert code == 2
    assert "PIPELINE_WORKERS" in err and "PIPELINE_OCR_DPI" in err  # every problem at once


def test_broken_config_file_exits_2_naming_the_file(tmp_path, capsys):
    (tmp_path / "pipeline.toml").write_text("ocr_dpi = = 3\n")
    code = main(["--home", str(tmp_path), "types"])
    assert code == 2
    assert "pipeline.toml" in capsys.readouterr().err


def test_config_file_values_apply_and_environment_wins(tmp_path, monkeypatch):
    from pipeline.settings import load_settings

    (tmp_path / "pipeline.toml").write_text('ocr_languages = "eng+spa"\nocr_dpi = 200\n')
    monkeypatch.setenv("PIPELINE_OCR_DPI", "400")
    settings = load_settings(tmp_path)
    assert settings.ocr_languages == "eng+spa"
    assert settings.ocr_dpi == 400


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2


@pytest.mark.integration
def test_doctor_exits_3_and_says_how_to_install_a_missing_language_pack(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PIPELINE_OCR_LANGUAGES", "eng+tha")
    code = main(["--home", str(tmp_path), "doctor"])
    out = capsys.readouterr().out
    assert code == 3
    assert "MISSING tesseract lang tha" in out and "apt-get install tesseract-ocr-tha" in out
    monkeypatch.setenv("PIPELINE_OCR_LANGUAGES", "eng")
    assert main(["--home", str(tmp_path), "doctor"]) == 0


def test_ocr_of_a_text_file_named_pdf_exits_4_naming_it(tmp_path, capsys):
    fake = tmp_path / "scan.pdf"
    fake.write_text("not really a scan")
    code = main(["--home", str(tmp_path / "home"), "ocr", str(fake)])
    assert code == 4
    assert "scan.pdf: the file is plain text" in capsys.readouterr().err


def test_process_with_a_missing_model_file_exits_5_naming_it(tmp_path, capsys, monkeypatch):
    scan = tmp_path / "page.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    monkeypatch.setenv("PIPELINE_MODEL_PATH", str(tmp_path / "nowhere.model"))
    code = main(["--home", str(tmp_path / "home"), "process", str(scan)])
    assert code == 5
    assert "nowhere.model" in capsys.readouterr().err


@pytest.mark.integration
def test_process_takes_a_named_link_only_with_follow_symlinks_and_caps_the_input_size(tmp_path, capsys,
                                                                                   monkeypatch):
    import json
    import shutil
    from pathlib import Path

    scan = tmp_path / "progress_note.png"
    shutil.copy(Path(__file__).resolve().parents[1] / "samples" / "scans" / "progress_note.png", scan)
    link = tmp_path / "link.png"
    link.symlink_to(scan)
    home = str(tmp_path / "home")
    assert main(["--home", home, "process", "--json", str(link)]) == 4  # a link named: refused
    assert "symbolic link" in capsys.readouterr().err
    monkeypatch.setenv("PIPELINE_MAX_INPUT_BYTES", "1000")  # the wired cap, below the scan's size
    assert main(["--home", home, "process", "--json", "--follow-symlinks", str(link)]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["status"] == "rejected" and "larger than the limit" in row["reasons"][0]
    assert row["source"] == str(scan)  # the file the link points to was taken

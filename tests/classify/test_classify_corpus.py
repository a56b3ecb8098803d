"""Training corpora: the MTSamples mapping, the fixed split, site corpora (folder, CSV), reviews."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.classify.corpus import (
    DEFAULT_DATASET,
    clean_transcription,
    csv_corpus,
    folder_corpus,
    generated_corpus,
    is_heldout,
    make_corpus,
    map_mtsamples,
    mtsamples_corpus,
    review_corpus,
)
from pipeline.errors import ConfigurationError


@pytest.mark.parametrize(
    ("categories", "name", "text", "expected"),
    [
        ("Surgery", "Laparoscopic Cholecystectomy - 9", "PREOPERATIVE DIAGNOSIS: ...", "operative_note"),
        ("Surgery", "Colonoscopy - 5", "PROCEDURE: Colonoscopy", "procedure_note"),
        ("Radiology|Surgery", "Paracentesis - Ultrasound-Guided", "...", "procedure_note"),
        ("Radiology", "CT Abdomen", "EXAM: CT", "imaging_report"),
        ("Consult - History and Phy.", "Gen Med H&P - 2", "CHIEF COMPLAINT: cough", "history_and_physical"),
        ("Consult - History and Phy.", "Gen Med Consult - 11", "CHIEF COMPLAINT: cough", "consult_note"),
        ("Consult - History and Phy.", "Ear Pain", "REASON FOR CONSULTATION: ear pain", "consult_note"),
        ("Consult - History and Phy.|Office Notes", "Cough", "SUBJECTIVE: cough", "progress_note"),
        ("Consult - History and Phy.|Emergency Room Reports", "Chest pain", "...", "emergency_department_note"),
        ("Office Notes", "Follow-up", "...", "progress_note"),
        ("Letters", "Referral letter", "Dear Dr. X", "letter"),
        ("Autopsy", "Autopsy - 1", "...", "pathology_report"),
        ("IME-QME-Work Comp etc.", "IME", "...", None),
        ("", "Pain management", "...", None),
    ],
)
def test_mtsamples_categories_map_to_types(categories: str, name: str, text: str, expected: str | None) -> None:
    assert map_mtsamples(categories, name, text) == expected


def test_scrape_commas_become_line_breaks() -> None:
    assert clean_transcription("DIAGNOSIS:,  Pneumonia.,PLAN:,  Home.") == "DIAGNOSIS:\nPneumonia.\nPLAN:\nHome."


def test_shipped_mtsamples_corpus_is_in_the_repository_and_split_by_document(default_types) -> None:
    assert DEFAULT_DATASET.is_file() and DEFAULT_DATASET.is_relative_to(Path(__file__).resolve().parents[2])
    corpus = mtsamples_corpus(DEFAULT_DATASET, default_types)
    assert len(corpus) > 1200 and len(set(corpus.sources)) == len(corpus)
    assert set(corpus.labels) <= set(default_types.keys())
    train, heldout = corpus.split()
    assert not set(train.sources) & set(heldout.sources)
    assert not set(train.texts) & set(heldout.texts)  # no text on both sides
    assert 0.15 < len(heldout) / len(corpus) < 0.25
    # the split does not depend on what else is in the corpus
    again = (corpus + make_corpus([("extra text", "letter", "csv:x")])).split()[1]
    assert set(heldout.sources) <= set(again.sources)


def test_generated_corpus_covers_every_type_and_its_split_is_stable(default_types) -> None:
    corpus = generated_corpus(default_types, admin=6, clinical=3)
    assert set(corpus.labels) == set(default_types.keys())
    assert [is_heldout(s) for s in corpus.sources] == [is_heldout(s) for s in generated_corpus(default_types, admin=6, clinical=3).sources]
    assert corpus.digest() == generated_corpus(default_types, admin=6, clinical=3).digest()
    assert corpus.digest() != generated_corpus(default_types, seed=1, admin=6, clinical=3).digest()


def test_csv_corpus(tmp_path: Path, default_types) -> None:
    path = tmp_path / "site.csv"
    path.write_text('text,type\n"Consent to surgery, signed",consent\nDear Dr. Who,letter\n,letter\n', encoding="utf-8")
    corpus = csv_corpus(path, default_types)
    assert corpus.labels == ("consent", "letter") and corpus.texts[0] == "Consent to surgery, signed"
    path.write_text("text,type\nhello,fax_cover\nbye,memo\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        csv_corpus(path, default_types)
    assert "line 2: type 'fax_cover' is not in the type list" in str(caught.value)
    assert "line 3: type 'memo'" in str(caught.value)


def test_folder_corpus_uses_text_and_scans_and_never_folder_or_file_names(tmp_path: Path, default_types) -> None:
    (tmp_path / "consent").mkdir()
    (tmp_path / "consent" / "consent_for_surgery_jones.txt").write_text("I authorize the procedure.")
    (tmp_path / "letter" / "nested").mkdir(parents=True)
    (tmp_path / "letter" / "nested" / "a.txt").write_text("Dear Doctor, thank you.")
    (tmp_path / "letter" / "scan.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "letter" / "notes.docx").write_bytes(b"skipped")
    read = []

    def read_scan(path: Path) -> str:
        read.append(path.name)
        return "Sincerely, Dr. Scan"

    corpus = folder_corpus(tmp_path, default_types, read_scan=read_scan)
    assert sorted(zip(corpus.labels, corpus.texts)) == [
        ("consent", "I authorize the procedure."), ("letter", "Dear Doctor, thank you."), ("letter", "Sincerely, Dr. Scan")]
    assert read == ["scan.png"]
    assert not any("jones" in t or "nested" in t for t in corpus.texts + corpus.sources)


def test_folder_corpus_problems(tmp_path: Path, default_types) -> None:
    (tmp_path / "faxes").mkdir()
    (tmp_path / "letter").mkdir()
    (tmp_path / "letter" / "a.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(ConfigurationError) as caught:
        folder_corpus(tmp_path, default_types, read_scan=None)
    assert "faxes: folder name is not a type" in str(caught.value)
    assert "a.pdf: a scan, but no OCR engine" in str(caught.value)
    empty = tmp_path / "empty"
    (empty / "letter").mkdir(parents=True)
    with pytest.raises(ConfigurationError, match="no documents found"):
        folder_corpus(empty, default_types)


def test_review_corpus_skips_unknown_types_and_empty_text(default_types) -> None:
    corpus = review_corpus([("Consent form signed", "consent"), ("", "letter"), ("x", "retired_type")], default_types)
    assert corpus.labels == ("consent",) and corpus.sources[0].startswith("review:")

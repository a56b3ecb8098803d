"""`pipeline classify`, `pipeline types`, `pipeline train` through the real command line entry point."""

from __future__ import annotations

import hashlib
import io
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.classify.modelfile import read_header
from pipeline.cli import main
from pipeline.synth.documents import generate_document


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_types_lists_the_loinc_coded_types(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--home", tmp_path, "types", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 21
    assert {"type": "other", "loinc": "34109-9", "display": "Note", "threshold": 0.6, "always_review": True} in rows
    code, out, _ = run(capsys, "--home", tmp_path, "types")
    assert "release_of_information     101904-1  Release of Information request" in out


def test_a_broken_site_type_list_exits_2_naming_the_entry(capsys, tmp_path: Path) -> None:
    (tmp_path / "types.toml").write_text('[types.other]\nloinc = "34109-8"\ndisplay = "Note"\n\n[types.a]\nloinc = "59284-0"\ndisplay = "A"\n')
    (tmp_path / "pipeline.toml").write_text(f'types_path = "{tmp_path / "types.toml"}"\n')
    code, _, err = run(capsys, "--home", tmp_path, "types")
    assert code == 2 and "[types.other]: loinc 34109-8 has a wrong check digit" in err


def test_classify_text_from_a_file_and_from_stdin(capsys, tmp_path: Path, small_model_file: Path, monkeypatch) -> None:
    text = generate_document("insurance_card", random.Random("cli"))
    doc = tmp_path / "card.txt"
    doc.write_text(text)
    monkeypatch.setenv("PIPELINE_MODEL_PATH", str(small_model_file))
    code, out, _ = run(capsys, "--home", tmp_path, "classify", "--json", doc)
    result = json.loads(out)
    assert code == 0 and result["doc_type"] == "insurance_card" and result["loinc"] == "64290-0"
    assert 0 < result["confidence"] <= 1 and isinstance(result["needs_review"], bool) and isinstance(result["reasons"], list)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, _ = run(capsys, "--home", tmp_path, "classify", "--json", "-")
    result = json.loads(out)
    assert code == 0 and result["doc_type"] == "other" and result["needs_review"] and "too little text" in result["reasons"][0]
    code, out, _ = run(capsys, "--home", tmp_path, "classify", doc)
    assert out.startswith("insurance_card  64290-0  Health insurance card  confidence ")


def test_classify_bad_inputs_exit_codes(capsys, tmp_path: Path, small_model_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_MODEL_PATH", str(small_model_file))
    code, _, err = run(capsys, "--home", tmp_path, "classify", tmp_path / "missing.txt")
    assert code == 9 and "missing.txt: no such file" in err
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.7\n...")
    code, _, err = run(capsys, "--home", tmp_path, "classify", pdf)
    assert code == 4 and "scan.pdf: `pipeline classify` reads plain text; run `pipeline ocr`" in err
    monkeypatch.setenv("PIPELINE_MODEL_PATH", str(tmp_path / "nothing.model"))
    (tmp_path / "a.txt").write_text("Dear Doctor, thank you for the referral.")
    code, _, err = run(capsys, "--home", tmp_path, "classify", tmp_path / "a.txt")
    assert code == 5 and "nothing.model: model file not found; train one with `pipeline train`" in err


def test_train_from_a_folder_corpus_writes_a_model_the_home_then_uses(capsys, tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    for doc_type in ("consent", "prescription", "letter"):
        (corpus / doc_type).mkdir(parents=True)
        for n in range(12):
            (corpus / doc_type / f"{n}.txt").write_text(generate_document(doc_type, random.Random(f"f:{doc_type}:{n}")))
    home = tmp_path / "home"
    code, out, err = run(capsys, "--home", home, "train", corpus, "--json")
    report = json.loads(out)
    assert code == 0, err
    model = home / "models" / "doctype.model"
    assert report["model"] == str(model) and report["types"] == read_header(model).training_counts
    assert sum(report["types"].values()) + report["metrics"]["heldout_documents"] == 36
    doc = tmp_path / "rx.txt"
    doc.write_text(generate_document("prescription", random.Random("rx")))
    code, out, _ = run(capsys, "--home", home, "classify", "--json", doc)
    assert code == 0 and json.loads(out)["model_version"] == read_header(model).version


def test_train_from_a_csv_with_an_unknown_type_exits_2(capsys, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("text,type\nhello there,fax_cover\n")
    code, _, err = run(capsys, "--home", tmp_path, "train", path, "--out", tmp_path / "m.model")
    assert code == 2 and "line 2: type 'fax_cover' is not in the type list" in err
    code, _, err = run(capsys, "--home", tmp_path, "train", tmp_path / "nope")
    assert code == 9


def test_train_from_reviews_adds_what_clerks_confirmed(capsys, tmp_path: Path) -> None:
    """A real manifest: documents queued for review, resolved by a clerk with a type."""
    from pipeline.records import (Classification, DocumentIdentifiers, FilingDecision, IncomingDocument,
                                  OcrPage, OcrResult, Outcome)
    from pipeline.settings import load_settings
    from pipeline.store.database import make_engine, migrate
    from pipeline.store.filing import file_document
    from pipeline.store.manifest import Manifest
    from pipeline.store.objects import LocalStore

    home = tmp_path / "home"
    settings = load_settings(home)
    settings.ensure_folders()
    migrate(settings.database)
    engine = make_engine(settings.database)
    manifest = Manifest(engine, store=LocalStore(settings.objects_dir))
    corrected = {}
    for n, doc_type in enumerate(["consent", "letter", "prescription"] * 4):
        text = generate_document(doc_type, random.Random(f"review:{n}"))
        source = tmp_path / f"scan{n}.pdf"
        source.write_bytes(b"%PDF-1.4 synthetic " + str(n).encode())
        incoming = IncomingDocument(source=source, original_name=source.name, sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
                                    size=source.stat().st_size, media_type="application/pdf", received_at=datetime(2026, 1, 2, tzinfo=UTC))
        ocr = OcrResult(pages=(OcrPage(number=1, text=text, confidence=90.0),), searchable_pdf=None, engine="tesseract 5.3.0")
        guess = Classification(doc_type="other", loinc="34109-9", display="Note", confidence=0.3, needs_review=True)
        file_document(store=manifest.store, manifest=manifest, incoming=incoming, ocr=ocr, classification=guess,
                      identifiers=DocumentIdentifiers(), match=None, decision=FilingDecision(Outcome.NEEDS_REVIEW, ("type",)),
                      versions={"pipeline": "test"})
        corrected[incoming.sha256] = (text, doc_type)
    for item in manifest.open_review_items():  # the clerk files each with the right type
        _, doc_type = corrected[manifest.get(item.document_id).sha256]
        manifest.resolve_review_item(item.id, actor="clerk.kim", patient_id=1, patient_mrn="M1", doc_type=doc_type)
    engine.dispose()
    from pipeline.commands.classify import reviewed_pairs

    assert sorted(reviewed_pairs(settings)) == sorted(corrected.values())
    csv_path = tmp_path / "seed.csv"
    csv_path.write_text("text,type\n" + "".join(f'"{generate_document(t, random.Random(f"s{n}")).replace(chr(34), "")}",{t}\n'
                                                  for n, t in enumerate(["consent", "letter", "prescription"] * 3)))
    out_path = tmp_path / "m.model"
    code, out, err = run(capsys, "--home", home, "train", csv_path, "--from-reviews", "--out", out_path, "--json")
    assert code == 0, err
    counts = read_header(out_path).training_counts
    assert sum(counts.values()) + json.loads(out)["metrics"]["heldout_documents"] == 9 + 12


@pytest.mark.integration
def test_train_corpus_scans_are_read_by_the_ocr_engine(tmp_path: Path) -> None:
    """A .png in a corpus folder is rendered here, then read by the real OCR engine (Tesseract)."""
    from pipeline.commands.classify import load_corpus
    from pipeline.classify.types import load_types
    from pipeline.settings import load_settings
    from pipeline.synth.render import render_pages, save_scan

    corpus = tmp_path / "corpus"
    (corpus / "letter").mkdir(parents=True)
    (corpus / "letter" / "typed.txt").write_text("Dear Dr. Moreno, thank you for seeing my patient.")
    [image] = render_pages(["Dear Doctor Quarrington,\nThank you for the kind referral of your patient.\nSincerely yours"], dpi=200)
    save_scan([image], corpus / "letter" / "scan.png")
    settings = load_settings(tmp_path / "home", ocr_searchable_pdf=False, workers=1)
    loaded = load_corpus(corpus, load_types(), settings)
    assert loaded.labels == ("letter", "letter")
    scanned = next(t for t in loaded.texts if "Moreno" not in t)
    assert "Quarrington" in scanned and "referral" in scanned


def test_types_shows_the_thresholds_in_force_with_the_current_model(capsys, caplog, tmp_path: Path, small_model_file: Path, monkeypatch) -> None:
    from pipeline.classify.training import thresholds_for
    from pipeline.classify.types import load_types

    monkeypatch.setenv("PIPELINE_MODEL_PATH", str(small_model_file))
    _, out, _ = run(capsys, "--home", tmp_path, "types", "--json")
    shown = {row["type"]: row["threshold"] for row in map(json.loads, out.splitlines())}
    assert shown == thresholds_for(load_types(), read_header(small_model_file).thresholds, 0.6)
    monkeypatch.setenv("PIPELINE_MODEL_PATH", str(tmp_path / "none.model"))
    code, out, _ = run(capsys, "--home", tmp_path, "types", "--json")
    assert code == 0 and {row["threshold"] for row in map(json.loads, out.splitlines())} == {0.6}
    assert "model file not found" in caplog.text

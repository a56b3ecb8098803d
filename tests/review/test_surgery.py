"""Page surgery on real processed scans: split, merge, rotate, drop a page; from the command line and
the browser routes, through the same use case (`services/surgery.py`)."""

from __future__ import annotations

import io
import json

import pikepdf
import pytest
from PIL import Image

from pipeline.cli import main
from pipeline.errors import PageSurgeryError
from pipeline.records import DocumentStatus, Outcome, ReviewResolution, ReviewStatus
from pipeline.services import surgery
from pipeline.services.home import open_home
from pipeline.settings import load_settings

from .conftest import GLUED_NAME, csrf_of, make_client, run_cli, sign_in

pytestmark = [pytest.mark.integration]


def open_items(manifest) -> dict[str, int]:
    return {manifest.get(i.document_id).original_name: i.id for i in manifest.open_review_items()}


def home_of(path):
    return open_home(load_settings(path))


def test_split_files_each_part_on_its_own_and_keeps_the_original(surgery_home):
    manifest, store = home_of(surgery_home)
    glued = open_items(manifest)[GLUED_NAME]
    old = manifest.get(manifest.review_item(glued).document_id)
    old_bytes = store.get(old.original_key)
    assert old.pages == 2 and old.outcome is Outcome.NEEDS_REVIEW

    out = run_cli("--home", str(surgery_home), "review", "split", str(glued), "--at", "2", "--user", "clerk1",
                  "--reason", "two documents scanned as one", "--json")
    result = json.loads(out)
    first, second = result["versions"]
    # page 1 is the referral of a patient the index knows: it files on its own, as any scan would
    assert (first["status"], first["patient_mrn"], first["doc_type"], first["pages"]) == \
        ("filed", "80820678", "referral", 1)
    # page 2's patient is not in the index: it waits in the queue with that reason
    assert second["status"] == "needs_review" and second["pages"] == 1
    assert any("not in index" in r for r in manifest.review_item(second["review_item"]).match_reasons)

    item = manifest.review_item(glued)
    assert (item.status, item.resolution, item.resolved_by) == (ReviewStatus.RESOLVED, ReviewResolution.SUPERSEDED,
                                                                "clerk1")
    kept = manifest.get(old.document_id)
    assert kept.status is DocumentStatus.SUPERSEDED and kept.original_key == old.original_key
    assert store.get(old.original_key) == old_bytes  # the original is never overwritten
    filed = manifest.get(first["document_id"])
    assert filed.derived_from["sources"] == [{"document_id": old.document_id, "pages": [1]}]
    assert (filed.relates_to, filed.relates_code) == (old.document_id, "transforms")
    # the parts' text is the stored page text: no OCR ran
    assert manifest.text_of(filed.sha256) + "\n\f" + manifest.text_of(manifest.get(second["document_id"]).sha256) \
        == manifest.text_of(old.sha256)
    with pikepdf.open(io.BytesIO(store.get(filed.original_key))) as pdf:
        assert len(pdf.pages) == 1
    log = [(e["actor"], e["action"], e["document_id"]) for e in manifest.access_log() if e["action"] == "revised"]
    assert log == [("clerk1", "revised", old.document_id), ("clerk1", "revised", first["document_id"]),
                   ("clerk1", "revised", second["document_id"])]
    assert all("two documents scanned as one" in e["reason"] for e in manifest.access_log() if e["action"] == "revised")


def test_reindex_rebuilds_the_state_page_surgery_left(surgery_home, tmp_path, monkeypatch):
    manifest, _ = home_of(surgery_home)
    items = open_items(manifest)
    run_cli("--home", str(surgery_home), "review", "split", str(items[GLUED_NAME]), "--at", "2", "--reason", "two")
    run_cli("--home", str(surgery_home), "review", "merge", str(items["letter_namesake.jpg"]),
            str(items["lab_report_mrn_only.png"]), "--reason", "one letter with its lab report")

    def state(m):
        docs = sorted((d.document_id, str(d.status), str(d.outcome), d.patient_mrn, d.pages, json.dumps(d.derived_from, sort_keys=True))
                      for d in m.iter_documents())
        items = sorted((m.get(i.document_id).document_id, str(i.status), str(i.resolution)) for i in m.review_items())
        return docs, items

    monkeypatch.setenv("PIPELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'rebuilt.db'}")
    run_cli("--home", str(surgery_home), "reindex")
    assert state(home_of(surgery_home).manifest) == state(manifest)


def test_merge_then_drop_a_page_and_turn_one(surgery_home):
    manifest, store = home_of(surgery_home)
    items = open_items(manifest)
    indexer = surgery.load_indexer(load_settings(surgery_home), manifest)
    twin, unknown = items["progress_note_twin.pdf"], items["consult_note_unknown_patient.pdf"]
    texts = [manifest.text_of(manifest.get(manifest.review_item(i).document_id).sha256) for i in (twin, unknown)]

    merged = surgery.merge(manifest, store, indexer, twin, unknown, actor="clerk2", reason="one visit")
    [version] = merged.versions
    assert merged.superseded == (twin, unknown) and version.pages == 2
    assert version.outcome is Outcome.NEEDS_REVIEW  # two patients' papers in one: never filed
    assert manifest.text_of(manifest.get(version.document_id).sha256) == "\n\f".join(texts)

    dropped = surgery.drop_page(manifest, store, indexer, version.review_item_id, page=2, actor="clerk2",
                                reason="page 2 belongs elsewhere")
    [short] = dropped.versions
    assert manifest.text_of(manifest.get(short.document_id).sha256) == texts[0]

    before = manifest.get(short.document_id)
    turned = surgery.rotate(manifest, store, indexer, short.review_item_id, page=1, degrees=90, actor="clerk2",
                            reason="sideways")
    after = manifest.get(turned.versions[0].document_id)
    for doc, expected in ((before, 0), (after, 90)):
        with pikepdf.open(io.BytesIO(store.get(doc.original_key))) as pdf:
            assert int(pdf.pages[0].obj.get("/Rotate", 0)) % 360 == expected
    # the page images are not re-encoded: the same image stream, only /Rotate differs
    with pikepdf.open(io.BytesIO(store.get(before.original_key))) as a, \
            pikepdf.open(io.BytesIO(store.get(after.original_key))) as b:
        images_a = [img.read_raw_bytes() for img in a.pages[0].get_images().values()]
        images_b = [img.read_raw_bytes() for img in b.pages[0].get_images().values()]
        assert images_a and images_a == images_b
    assert manifest.get(before.document_id).status is DocumentStatus.SUPERSEDED
    history = [d.document_id for d in manifest.history(after.document_id)]
    assert before.document_id in history and after.document_id in history


def test_an_unreadable_document_stays_in_review_after_surgery(tmp_path):
    """An OCR doubt stays with every version: surgery never turns it into an auto-filed document."""
    from .conftest import SAMPLES

    home = tmp_path / "home"
    run_cli("--home", str(home), "patients", "import", str(SAMPLES / "patients.csv"))
    run_cli("--home", str(home), "process", str(SAMPLES / "scans" / "discharge_summary_unreadable.jpg"))
    manifest, store = home_of(home)
    [item] = manifest.open_review_items()
    result = surgery.rotate(manifest, store, surgery.load_indexer(load_settings(home), manifest), item.id, page=1,
                            degrees=180, actor="clerk1", reason="upside down")
    [version] = result.versions
    assert version.outcome is Outcome.NEEDS_REVIEW
    assert any(r.startswith("unreadable text") for r in manifest.review_item(version.review_item_id).reasons)


@pytest.mark.parametrize(("argv", "message"), [
    (("split", "{glued}", "--at", "1"), "leaves a part empty"),
    (("split", "{glued}", "--at", "3"), "leaves a part empty"),
    (("drop-page", "{twin}", "--page", "1"), "only page"),
    (("rotate", "{glued}", "--page", "5", "--degrees", "90"), "not page 5"),
    (("merge", "{glued}", "{glued}"), "with itself"),
])
def test_a_refused_operation_exits_11_and_changes_nothing(surgery_home, capsys, argv, message):
    manifest, _ = home_of(surgery_home)
    items = open_items(manifest)
    names = {"glued": items[GLUED_NAME], "twin": items["progress_note_twin.pdf"]}
    before = manifest.count(), len(manifest.open_review_items())
    code = main(["--home", str(surgery_home), "review", *(a.format(**names) for a in argv), "--reason", "x"])
    assert code == PageSurgeryError.exit_code == 11
    assert message in capsys.readouterr().err
    assert (manifest.count(), len(manifest.open_review_items())) == before


def test_surgery_on_a_resolved_item_is_refused(surgery_home):
    manifest, store = home_of(surgery_home)
    glued = open_items(manifest)[GLUED_NAME]
    run_cli("--home", str(surgery_home), "review", "rotate", str(glued), "--page", "2", "--degrees", "180",
            "--reason", "upside down")
    code = main(["--home", str(surgery_home), "review", "rotate", str(glued), "--page", "2", "--degrees", "180",
                 "--reason", "again"])
    assert code == 7  # StorageError: already resolved (superseded); nothing changed
    assert manifest.review_item(glued).resolution is ReviewResolution.SUPERSEDED


# ------------------------------------------------------------------------------------- the browser


def test_split_and_rotate_from_the_item_page(surgery_home):
    manifest, _ = home_of(surgery_home)
    glued = open_items(manifest)[GLUED_NAME]
    with make_client(surgery_home) as client:
        sign_in(client, "clerk2")
        page = client.get(f"/items/{glued}")
        assert 'id="split-form"' in page.text and 'id="rotate-form"' in page.text
        response = client.post(f"/items/{glued}/rotate", follow_redirects=False,
                               data={"csrf": csrf_of(page.text), "page": "1", "degrees": "90", "reason": "sideways"})
        assert response.status_code == 303
        new_item = int(response.headers["location"].rsplit("/", 1)[1])
        old_png = Image.open(io.BytesIO(client.get(f"/items/{glued}/pages/1.png").content))
        new_png = Image.open(io.BytesIO(client.get(f"/items/{new_item}/pages/1.png").content))
        assert (new_png.width, new_png.height) == (old_png.height, old_png.width)  # turned a quarter
        shown = client.get(f"/items/{new_item}")
        assert "superseded (the original is kept)" in shown.text

        response = client.post(f"/items/{new_item}/split", follow_redirects=False,
                               data={"csrf": csrf_of(shown.text), "at": "2", "reason": "two documents"})
        assert response.status_code == 303
    queued = [i for i in manifest.open_review_items() if manifest.get(i.document_id).derived_from]
    assert len(queued) == 1 and manifest.get(queued[0].document_id).pages == 1
    assert {e["actor"] for e in manifest.access_log() if e["action"] == "revised"} == {"clerk2"}


@pytest.mark.parametrize(("path", "data", "said"), [
    ("split", {"at": "1", "reason": "x"}, "leaves a part empty"),
    ("split", {"at": "two", "reason": "x"}, "as digits"),
    ("rotate", {"page": "1", "degrees": "45", "reason": "x"}, "90, 180 or 270"),
    ("rotate", {"page": "1", "degrees": "90", "reason": ""}, "say why"),
    ("merge", {"other": "999999", "reason": "x"}, "no review item 999999"),
])
def test_a_refused_form_says_why_and_changes_nothing(surgery_home, path, data, said):
    manifest, _ = home_of(surgery_home)
    glued = open_items(manifest)[GLUED_NAME]
    with make_client(surgery_home) as client:
        sign_in(client)
        token = csrf_of(client.get(f"/items/{glued}").text)
        response = client.post(f"/items/{glued}/{path}", data={"csrf": token, **data})
    assert response.status_code == 400 and said in response.text
    assert manifest.review_item(glued).status is ReviewStatus.OPEN


def test_a_form_on_an_item_already_superseded_is_a_409(surgery_home):
    manifest, _ = home_of(surgery_home)
    glued = open_items(manifest)[GLUED_NAME]
    with make_client(surgery_home) as client:
        sign_in(client)
        token = csrf_of(client.get(f"/items/{glued}").text)
        form = {"csrf": token, "page": "1", "degrees": "180", "reason": "upside down"}
        assert client.post(f"/items/{glued}/rotate", data=form, follow_redirects=False).status_code == 303
        assert client.post(f"/items/{glued}/rotate", data=form).status_code == 409


# ----------------------------------------------------------------------------- any input, no 500

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@pytest.fixture(scope="module")
def fuzz_client(surgery_template, tmp_path_factory):
    import shutil

    home = tmp_path_factory.mktemp("surgery-fuzz") / "home"
    shutil.copytree(surgery_template, home)
    with make_client(home) as client:
        sign_in(client)
        yield client, open_items(home_of(home).manifest)[GLUED_NAME]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=st.sampled_from(["split", "rotate", "drop-page", "merge"]),
       fields=st.dictionaries(st.sampled_from(["at", "page", "degrees", "other", "reason"]),
                              st.one_of(_TEXT, st.integers(-5, 10).map(str)), max_size=5))
def test_any_surgery_form_gets_an_answer_never_a_500(fuzz_client, operation, fields):
    """Nonsense or refused forms say why (4xx); no field crashes the app. A valid form may succeed once
    (then the item is superseded and the next is a 409)."""
    client, glued = fuzz_client
    token = csrf_of(client.get("/queue").text)
    response = client.post(f"/items/{glued}/{operation}", data={"csrf": token, **fields}, follow_redirects=False)
    assert response.status_code in (303, 400, 404, 409), response.text[:300]


def test_a_superseded_item_says_so(surgery_home):
    manifest, _ = home_of(surgery_home)
    glued = open_items(manifest)[GLUED_NAME]
    run_cli("--home", str(surgery_home), "review", "split", str(glued), "--at", "2", "--reason", "two", "--user", "c4")
    with make_client(surgery_home) as client:
        sign_in(client)
        page = client.get(f"/items/{glued}")
    assert page.status_code == 200 and "replaced by new versions" in page.text and 'id="split-form"' not in page.text

"""A real home for the review app's tests: the sample patients imported and four doubtful sample
scans really processed (Tesseract, classifier, matcher) into the review queue.

Processing takes about 8 s, so it is done once per session into a template home; each test gets its
own copy of that home (SQLite file and object folder), so tests may resolve items independently.

| sample (samples/scans/)            | why it is queued                          | candidates             |
|------------------------------------|-------------------------------------------|------------------------|
| lab_report_mrn_only.png            | MRN only, no birth date                   | 97490116               |
| progress_note_twin.pdf             | surname + birth date fit twins            | 83254022, 48092398     |
| letter_namesake.jpg                | full name only, two namesakes             | 75352102, 11666341     |
| consult_note_unknown_patient.pdf   | patient not in the index                  | none                   |

`type_only_home` adds a type-only item: `referral_fax.pdf` (name, birth date and MRN agree with
MRN 80820678: the patient is certain) processed with `classify_threshold = 1.0`, so its type is
uncertain and it is filed with the type unconfirmed.
Review-app users (`USERS`, all with the password `PASSWORD`) are added to the template home;
`sign_in(client, name)` signs one in through the real form.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.cli import main
from pipeline.records import Role
from pipeline.review.app import create_app
from pipeline.review.identity import ReviewConfig, load_secret
from pipeline.services import users
from pipeline.services.home import open_database, open_home
from pipeline.settings import load_settings
from pipeline.store.accounts import Accounts
from pipeline.store.manifest import Manifest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
QUEUED_SAMPLES = ("lab_report_mrn_only.png", "progress_note_twin.pdf", "letter_namesake.jpg",
                  "consult_note_unknown_patient.pdf")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "synthetic test passphrase"
#: the users every test home has
USERS = {"clerk1": Role.CLERK, "clerk2": Role.CLERK, "super1": Role.SUPERVISOR, "admin1": Role.ADMIN,
         "clerk-pg": Role.CLERK, "super-pg": Role.SUPERVISOR}


def run_cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    assert code == 0, (argv, out.getvalue())
    return out.getvalue()


@pytest.fixture(scope="session")
def template_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("review-template")
    run_cli("--home", str(home), "patients", "import", "--json", str(SAMPLES / "patients.csv"))
    run_cli("--home", str(home), "process", "--json", *(str(SAMPLES / "scans" / name) for name in QUEUED_SAMPLES))
    add_users(home)
    return home


#: a sample whose patient is certain; processed with an unreachable type threshold it becomes type-only
TYPE_ONLY_SAMPLE = "referral_fax.pdf"
TYPE_ONLY_MRN = "80820678"


def add_type_only_item(home: Path) -> None:
    """Process TYPE_ONLY_SAMPLE into the home with every type uncertain (a threshold of 1.0)."""
    config = home / "pipeline.toml"
    config.write_text("classify_threshold = 1.0\n")
    try:
        run_cli("--home", str(home), "process", "--json", str(SAMPLES / "scans" / TYPE_ONLY_SAMPLE))
    finally:
        config.unlink()


@pytest.fixture(scope="session")
def type_only_template(template_home, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("review-type-only") / "home"
    shutil.copytree(template_home, home)
    add_type_only_item(home)
    return home


@pytest.fixture
def type_only_home(type_only_template, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(type_only_template, copy)
    return copy


def add_users(home: Path) -> None:
    accounts = Accounts(open_database(load_settings(home)))
    for name, role in USERS.items():
        users.add_user(accounts, name, role, PASSWORD)


@pytest.fixture
def home(template_home, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(template_home, copy)
    return copy


@pytest.fixture
def manifest(home) -> Manifest:
    return open_home(load_settings(home)).manifest


@pytest.fixture
def items(manifest) -> dict[str, int]:
    """Review item id by sample file name."""
    return {manifest.get(item.document_id).original_name: item.id for item in manifest.open_review_items()}


def make_client(home: Path, **config) -> TestClient:
    settings = load_settings(home)
    config.setdefault("allowed_hosts", ("testserver",))
    return TestClient(create_app(settings, ReviewConfig(secret=load_secret(home), **config)))


@pytest.fixture
def client(home) -> Iterator[TestClient]:
    with make_client(home) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, user: str = "clerk1", password: str = PASSWORD) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "user": user, "password": password, "next": "/queue"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


@pytest.fixture
def clerk(client) -> TestClient:
    sign_in(client)
    return client


@pytest.fixture
def supervisor(client) -> TestClient:
    sign_in(client, "super1")
    return client


# ---------------------------------------------------------------- page surgery (test_surgery*.py)

#: two documents scanned as one (a batch split missed): page 1 the referral of MRN 80820678 (files
#: on its own), page 2 the consult note of a patient not in the index (queued)
GLUED = ("referral_fax.pdf", "consult_note_unknown_patient.pdf")
GLUED_NAME = "glued_batch.pdf"


@pytest.fixture(scope="session")
def surgery_template(template_home, tmp_path_factory) -> Path:
    """The review template home plus the glued two-document scan, really processed (queued)."""
    import pikepdf

    home = tmp_path_factory.mktemp("surgery-template") / "home"
    shutil.copytree(template_home, home)
    glued = pikepdf.new()
    sources = [pikepdf.open(SAMPLES / "scans" / name) for name in GLUED]
    for source in sources:
        glued.pages.extend(source.pages)
    path = home.parent / GLUED_NAME
    glued.save(path)
    run_cli("--home", str(home), "process", "--json", str(path))
    return home


@pytest.fixture
def surgery_home(surgery_template, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(surgery_template, copy)
    return copy

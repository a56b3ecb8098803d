"""Every form of the review app, posted with whatever hypothesis makes of its fields (any text, any
length, control characters, ids that do not exist), and raw bodies of any bytes: the answer is never
a 500. One admin (every capability) on one home for the module, so state piles up as it would."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.classify.types import load_types
from pipeline.services import review
from pipeline.services.home import open_home
from pipeline.settings import load_settings

from .conftest import csrf_of, make_client, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIELDS = {
    "/login": ("user", "password", "next"),
    "/logout": (),
    "/items/{item}/patients": ("search_mrn", "search_family", "search_given", "search_birth_date"),
    "/items/{item}/resolve": ("patient_mrn", "doc_type", "note", "confirm_dob"),
    "/items/{item}/reject": ("reject_reason",),
    "/items/{item}/reopen": ("reopen_reason",),
    "/records": ("mrn", "doc_type", "date_from", "date_to", "words", "all"),
    "/records/{doc}/refile": ("refile_mrn", "refile_reason"),
    "/records/{doc}/release": ("recipient", "purpose"),
    "/users": ("name", "role", "password"),
    "/users/enabled": ("name", "enabled"),
}
RUN = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
values = st.one_of(st.text(max_size=80), st.sampled_from(["", "83254022", "progress_note", "2026-02-30", "1",
                                                          "1944-01-19", "clerk1", "a" * 5000]))


@pytest.fixture(scope="module")
def admin(template_home, tmp_path_factory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    home = tmp_path_factory.mktemp("fuzz") / "home"
    shutil.copytree(template_home, home)
    manifest = open_home(load_settings(home)).manifest
    item = manifest.open_review_items()[0]
    doc = review.resolve(manifest, item.id, actor="setup", patient_mrn=item.candidates[0].mrn,
                         doc_type="laboratory_report", types=load_types())
    ids = {"item": str(manifest.open_review_items()[0].id), "doc": doc.document_id}
    with make_client(home) as client:
        sign_in(client, "admin1")
        yield client, ids


def post(client: TestClient, path: str, data: dict[str, str]):
    response = client.post(path, data=data, follow_redirects=False)
    assert response.status_code < 500, (path, data, response.status_code, response.text[:300])
    if response.status_code == 303 and response.headers["location"].startswith("/login"):
        sign_in(client, "admin1")  # a posted /logout or /login ended the session: sign in again


@pytest.mark.parametrize("form", FIELDS)
def test_no_form_answers_500_whatever_is_posted(admin, form):
    client, ids = admin

    @RUN
    @given(st.fixed_dictionaries({name: values for name in FIELDS[form]}), st.booleans())
    def check(fields, with_token):
        token = csrf_of(client.get("/records").text) if with_token else "forged"
        post(client, form.format(**ids), {"csrf": token, **fields})

    check()


@RUN
@given(st.binary(max_size=2000), st.integers(min_value=-(2**70), max_value=2**70))
def test_no_raw_body_or_id_answers_500(admin, body, number):
    client, ids = admin
    for path in (f"/items/{number}/resolve", "/records", "/login", f"/records/{ids['doc']}/refile"):
        response = client.post(path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"},
                               follow_redirects=False)
        assert response.status_code < 500, (path, response.status_code)
    assert client.get(f"/items/{number}", follow_redirects=False).status_code < 500

"""The role matrix: every route of the review app, tried by someone anonymous, a clerk, a supervisor
and an admin, with a request that would succeed for someone allowed. What each may do is exactly
`pipeline.services.users.CAPABILITIES`: allowed gets the route's own answer, a signed-in user without
the capability gets a 403 (and nothing changes), an anonymous one is sent to sign in.

A route added to the app without a row in `ROUTES` fails `test_every_route_is_in_the_matrix`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.classify.types import load_types
from pipeline.records import ReviewKind, ReviewStatus, Role
from pipeline.services import review
from pipeline.services.users import CAPABILITIES, Capability

from .conftest import PASSWORD, csrf_of, make_client, sign_in

pytestmark = [pytest.mark.integration]

C = Capability
#: (method, path, form fields, the capability it needs (None: anyone), the status when allowed);
#: in this order, so each request finds what it needs (e.g. a filed document before its refile)
ROUTES = [
    ("GET", "/", None, None, 303),
    ("GET", "/review.css", None, None, 200),
    ("GET", "/login", None, None, 200),
    ("POST", "/login", {"user": "clerk2", "password": "not the password"}, None, 401),
    ("GET", "/queue", None, C.REVIEW, 200),
    ("GET", "/closed", None, C.REVIEW, 200),
    ("GET", "/items/{namesake}", None, C.REVIEW, 200),
    ("GET", "/items/{namesake}/pages/1.png", None, C.REVIEW, 200),
    ("POST", "/items/{namesake}/patients", {"search_mrn": "75352102"}, C.REVIEW, 200),
    # page surgery asked for a page the item lacks: refused (400) for whoever may do it, unchanged
    ("POST", "/items/{namesake}/split", {"page": "99", "reason": "two documents"}, C.REVIEW, 400),
    ("POST", "/items/{namesake}/rotate", {"page": "99", "degrees": "90", "reason": "upside down"}, C.REVIEW, 400),
    ("POST", "/items/{namesake}/drop-page", {"page": "99", "reason": "blank"}, C.REVIEW, 400),
    ("POST", "/items/{namesake}/merge", {"other": "99999", "reason": "one document"}, C.REVIEW, 400),
    ("POST", "/items/{namesake}/resolve", {"patient_mrn": "75352102", "doc_type": "letter"}, C.REVIEW, 303),
    ("POST", "/items/{typeonly}/confirm-type", {"doc_type": "referral"}, C.REVIEW, 303),
    ("POST", "/items/{unknown}/reject", {"reject_reason": "no such patient here"}, C.REVIEW, 303),
    ("POST", "/items/{lab}/reopen", {"reopen_reason": "patient registered"}, C.REOPEN, 303),
    ("GET", "/records", None, C.REVIEW, 200),
    ("POST", "/records", {"mrn": "83254022"}, C.REVIEW, 200),
    ("GET", "/records/{twin_doc}", None, C.REVIEW, 200),
    ("GET", "/records/{twin_doc}/pages/1.png", None, C.REVIEW, 200),
    ("POST", "/records/{twin_doc}/release", {"recipient": "Dr Synthetic", "purpose": "continuing care"}, C.RELEASE, 200),
    ("POST", "/records/{twin_doc}/refile", {"refile_mrn": "48092398", "refile_reason": "wrong twin"}, C.REFILE, 303),
    ("GET", "/access-log", None, C.ACCESS_LOG, 200),
    ("GET", "/dashboard", None, C.DASHBOARD, 200),
    ("GET", "/users", None, C.MANAGE_USERS, 200),
    ("POST", "/users", {"name": "newclerk", "role": "clerk", "password": "a fine passphrase"}, C.MANAGE_USERS, 303),
    ("POST", "/users/enabled", {"name": "clerk2", "enabled": "0"}, C.MANAGE_USERS, 303),
    ("POST", "/logout", {}, None, 303),
]
#: (page, what marks a form or link on it, the capability it needs): a page shows exactly what its
#: reader may use; the same capabilities as the routes' above, so "not shown" and "refused" agree
SHOWN = [
    ("/queue", 'id="dashboard-link"', C.DASHBOARD),
    ("/queue", 'id="access-log-link"', C.ACCESS_LOG),
    ("/queue", 'id="users-link"', C.MANAGE_USERS),
    ("/items/{lab}", 'id="reopen-form"', C.REOPEN),
    ("/items/{lab}", 'action="/items/{lab}/reopen"', C.REOPEN),
    ("/items/{namesake}", 'id="resolve-form"', C.REVIEW),
    ("/items/{namesake}", 'id="rotate-form"', C.REVIEW),
    ("/records/{twin_doc}", 'id="refile-form"', C.REFILE),
    ("/records/{twin_doc}", 'id="release-form"', C.RELEASE),
    ("/records/{twin_doc}", 'id="access"', C.ACCESS_LOG),
]
WHO = {"anonymous": None, "clerk1": Role.CLERK, "super1": Role.SUPERVISOR, "admin1": Role.ADMIN}


def test_every_route_is_in_the_matrix(client):
    served = {(method.upper(), path) for path, operations in client.app.openapi()["paths"].items()
              for method in operations}
    in_matrix = {(method, path.replace("{namesake}", "{item_id}").replace("{unknown}", "{item_id}")
                  .replace("{lab}", "{item_id}").replace("{typeonly}", "{item_id}").replace("{twin_doc}", "{document_id}")
                  .replace("/pages/1.png", "/pages/{number}.png")) for method, path, *_ in ROUTES}
    assert served - in_matrix == set(), "add these routes to ROUTES with the capability they need"
    assert in_matrix - served == set()


@pytest.fixture
def home(type_only_home) -> Path:
    """The review home with a type-only item too (a document filed to a certain patient, type unconfirmed)."""
    return type_only_home


@pytest.fixture
def prepared(home, manifest, items) -> dict[str, str]:
    """A filed document (the twin's), an item closed without filing (the lab report's), a type-only item."""
    by_name = {"namesake": items["letter_namesake.jpg"], "unknown": items["consult_note_unknown_patient.pdf"],
               "lab": items["lab_report_mrn_only.png"],
               "typeonly": manifest.open_review_items(kind=ReviewKind.TYPE)[0].id}
    twin = review.resolve(manifest, items["progress_note_twin.pdf"], actor="setup", patient_mrn="83254022",
                          doc_type="progress_note", types=load_types())
    review.close_unfiled(manifest, by_name["lab"], actor="setup", reason="cannot identify")
    return {**{k: str(v) for k, v in by_name.items()}, "twin_doc": twin.document_id}


@pytest.mark.parametrize("who", WHO)
def test_each_role_may_do_exactly_its_capabilities(who, home, manifest, prepared):
    role = WHO[who]
    allowed_caps = CAPABILITIES[role] if role else frozenset()
    with make_client(home) as client:
        if role:
            sign_in(client, who, PASSWORD)
        outcomes = []
        for method, template, fields, capability, ok_status in ROUTES:
            path = template.format(**prepared)
            if fields is None:
                response = client.request(method, path, follow_redirects=False)
            else:
                token = csrf_of(client.get("/login" if role is None else "/queue").text)
                response = client.request(method, path, data={"csrf": token, **fields}, follow_redirects=False)
            allowed = capability is None or capability in allowed_caps
            if allowed:
                expected = ok_status
            else:
                expected = 303 if role is None else 403
            outcomes.append((method, template, response.status_code, expected))
            if not allowed and role is None:
                assert response.headers["location"].startswith("/login"), (method, template)
    assert [o for o in outcomes if o[2] != o[3]] == []
    # what was refused changed nothing
    twin_doc = manifest.get(prepared["twin_doc"])
    refiled = twin_doc.status == "entered-in-error"
    assert refiled == (Capability.REFILE in allowed_caps)
    lab = manifest.review_item(int(prepared["lab"]))
    assert (lab.status == ReviewStatus.OPEN) == (Capability.REOPEN in allowed_caps)
    released = [e for e in manifest.access_log() if e["action"] == "released"]
    assert bool(released) == (Capability.RELEASE in allowed_caps)
    if released:
        assert {e["actor"] for e in released} == {who} and released[0]["recipient"] == "Dr Synthetic"
    namesake = manifest.review_item(int(prepared["namesake"]))
    assert (namesake.status == ReviewStatus.RESOLVED) == (role is not None)


@pytest.mark.parametrize("who", [w for w, role in WHO.items() if role])
def test_each_role_is_shown_exactly_the_forms_and_links_it_may_use(who, home, prepared):
    allowed_caps = CAPABILITIES[WHO[who]]
    with make_client(home) as client:
        sign_in(client, who, PASSWORD)
        pages = {page: client.get(page.format(**prepared)) for page in {page for page, _, _ in SHOWN}}
    assert {page: r.status_code for page, r in pages.items()} == dict.fromkeys(pages, 200)
    shown = {(page, marker) for page, marker, _ in SHOWN if marker.format(**prepared) in pages[page].text}
    assert shown == {(page, marker) for page, marker, capability in SHOWN if capability in allowed_caps}


def test_a_clerk_sees_who_can_reopen_a_closed_item(home, prepared):
    with make_client(home) as client:
        sign_in(client, "clerk1", PASSWORD)
        page = client.get(f"/items/{prepared['lab']}").text
    assert 'id="reopen-form"' not in page and 'id="reopen-by-supervisor"' in page

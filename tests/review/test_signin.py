"""Sign-in as a new user meets it: real users with passwords, sessions the server can end, failures
rate-limited and logged, and the hardening around it (allowed hosts, the body limit while reading,
ids that are 404s, never 500s). Real home, real app, real argon2 hashes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from sqlalchemy import create_engine

from pipeline.records import Role
from pipeline.services import users
from pipeline.services.home import open_database
from pipeline.settings import load_settings
from pipeline.store.accounts import Accounts

from .conftest import PASSWORD, csrf_of, make_client, run_cli, sign_in

pytestmark = [pytest.mark.integration]


def post_login(client, user: str, password: str):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "user": user, "password": password, "next": "/queue"},
                       follow_redirects=False)


def accounts_of(home) -> Accounts:
    return Accounts(open_database(load_settings(home)))


def signed_in(client) -> bool:
    return client.get("/queue", follow_redirects=False).status_code == 200


# ---------------------------------------------------------------------------- passwords


def test_the_right_password_signs_in_and_the_access_log_names_the_user(client, manifest):
    refused = post_login(client, "clerk1", "not the password")
    assert refused.status_code == 401 and "not right" in refused.text and not signed_in(client)
    assert post_login(client, "clerk1", PASSWORD).status_code == 303
    assert "signed in as <strong>clerk1</strong> (clerk)" in client.get("/queue").text
    assert manifest.access_log()[-1]["actor"] == "clerk1"


def test_an_unknown_name_a_disabled_user_and_a_proxy_only_user_cannot_sign_in(client, home):
    accounts = accounts_of(home)
    users.add_user(accounts, "proxyonly", Role.CLERK, None)
    users.set_enabled(accounts, "clerk2", False)
    for name, password in (("nobody", PASSWORD), ("clerk2", PASSWORD), ("proxyonly", "")):
        response = post_login(client, name, password or "anything at all")
        assert response.status_code == 401, name
        assert not signed_in(client)


def test_failed_sign_ins_are_logged_and_rate_limited(client, home, caplog):
    with caplog.at_level(logging.WARNING):
        for _ in range(users.MAX_FAILURES_PER_NAME):
            assert post_login(client, "clerk1", "guess guess guess").status_code == 401
    assert sum("sign-in failed for 'clerk1'" in r.getMessage() for r in caplog.records) == users.MAX_FAILURES_PER_NAME
    limited = post_login(client, "clerk1", PASSWORD)  # the right password, but too late
    assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
    assert not signed_in(client)
    assert post_login(client, "clerk2", PASSWORD).status_code == 303  # another user is not locked out
    count = create_engine(load_settings(home).database).connect().exec_driver_sql(
        "SELECT count(*) FROM sign_in_failures WHERE name = 'clerk1'").scalar()
    assert count == users.MAX_FAILURES_PER_NAME + 1


def test_failures_from_one_address_are_limited_whatever_the_name(home):
    accounts = accounts_of(home)
    for n in range(users.MAX_FAILURES_PER_CLIENT):
        accounts.record_failure(f"guess{n}", "10.0.0.9")
    assert users.sign_in(accounts, "clerk1", PASSWORD, client="10.0.0.9").refused == users.SignInRefusal.RATE_LIMITED
    assert users.sign_in(accounts, "clerk1", PASSWORD, client="10.0.0.10").session_id is not None


# ----------------------------------------------------------------------------- sessions


def copy_of_cookie(home, client):
    thief = make_client(home)
    thief.cookies.update(client.cookies)
    return thief


def test_a_cookie_copied_before_sign_out_is_useless_after_it(home, clerk):
    with copy_of_cookie(home, clerk) as thief:
        assert signed_in(thief)  # the copy works while the session lives ...
        clerk.post("/logout", data={"csrf": csrf_of(clerk.get("/queue").text)})
        assert not signed_in(clerk)
        assert not signed_in(thief)  # ... and not after sign-out: the server ended it


def test_a_password_change_or_disabling_ends_every_session(home, client):
    sign_in(client, "clerk1")
    with make_client(home) as second:
        sign_in(second, "clerk2")
        users.change_password(accounts_of(home), "clerk1", "a brand new passphrase")
        users.set_enabled(accounts_of(home), "clerk2", False)
        assert not signed_in(client) and not signed_in(second)
    assert post_login(client, "clerk1", PASSWORD).status_code == 401
    assert post_login(client, "clerk1", "a brand new passphrase").status_code == 303


def test_a_session_ends_after_the_idle_timeout(home):
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    accounts = Accounts(open_database(load_settings(home)), clock=lambda: now[0])
    session_id = users.sign_in(accounts, "clerk1", PASSWORD, client="127.0.0.1").session_id
    idle = timedelta(minutes=30)
    now[0] += timedelta(minutes=29)
    assert users.session_user(accounts, session_id, idle=idle).name == "clerk1"  # use keeps it alive
    now[0] += timedelta(minutes=29)
    assert users.session_user(accounts, session_id, idle=idle).name == "clerk1"
    now[0] += timedelta(minutes=31)
    assert users.session_user(accounts, session_id, idle=idle) is None
    now[0] -= timedelta(minutes=31)  # ended on the server: turning the clock back does not revive it
    assert users.session_user(accounts, session_id, idle=idle) is None


def test_the_session_table_keeps_only_a_hash_of_the_session_id(home, clerk):
    cookie_session = clerk.cookies.get("pipeline_review")
    stored = create_engine(load_settings(home).database).connect().exec_driver_sql(
        "SELECT id_hash FROM sessions").scalars().all()
    assert len(stored) == 1 and len(stored[0]) == 64 and stored[0] not in cookie_session


# -------------------------------------------------------------------------- hardening


def test_a_host_not_allowed_is_refused(home):
    with make_client(home) as client:
        assert client.get("/login").status_code == 200
        rebound = client.get("/login", headers={"Host": "attacker.example"})
        assert rebound.status_code == 400
    with make_client(home, allowed_hosts=("records.example.org",)) as proxied:
        assert proxied.get("/login", headers={"Host": "records.example.org"}).status_code == 200


def test_a_large_body_is_refused_before_it_is_read(client):
    declared = client.post("/login", content=b"x", headers={"Content-Length": str(150 * 1024 * 1024)})
    assert declared.status_code == 413 and "too large" in declared.text
    # no Content-Length (chunked): 150 MB offered 1 MB at a time, straight to the app over ASGI
    pulled, answer = 0, []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"a" * (1024 * 1024), "more_body": pulled < 150}

    async def send(message):
        answer.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/login", "raw_path": b"/login", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded"),
                         (b"transfer-encoding", b"chunked")], "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    anyio.run(client.app, scope, receive, send)
    assert answer[0]["type"] == "http.response.start" and answer[0]["status"] == 413
    assert pulled <= 2  # refused at the limit, not after reading it all


def test_an_impossible_or_unknown_id_is_a_404(clerk):
    for path in ("/items/99999999999999999999999", "/items/0", "/items/-4", "/items/abc", "/items/2147483648",
                 "/items/99999999999999999999999/pages/1.png", "/items/1/pages/99999999999999999.png",
                 "/records/99999999999999999999999", "/records/not-a-document",
                 "/records/00000000-0000-4000-8000-000000000000", "/records/x/pages/1.png"):
        response = clerk.get(path)
        assert response.status_code == 404, (path, response.status_code)


# ------------------------------------------------------------------------------ the CLI


def test_users_from_the_command_line(home, monkeypatch, capsys):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))
    run_cli("--home", str(home), "users", "add", "newclerk", "--role", "supervisor", "--password-stdin")
    listed = run_cli("--home", str(home), "users", "list", "--json")
    assert '"name": "newclerk", "role": "supervisor", "enabled": true, "password": true' in listed
    from pipeline.cli import main
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["--home", str(home), "users", "passwd", "newclerk", "--password-stdin"]) == 13
    assert "too short" in capsys.readouterr().err
    assert main(["--home", str(home), "users", "add", "newclerk", "--role", "clerk", "--no-password"]) == 13
    assert "exists already" in capsys.readouterr().err
    assert main(["--home", str(home), "users", "disable", "nobody"]) == 13
    run_cli("--home", str(home), "users", "disable", "newclerk")
    assert '"name": "newclerk", "role": "supervisor", "enabled": false' in run_cli(
        "--home", str(home), "users", "list", "--json")

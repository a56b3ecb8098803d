"""Who is using the review app, the session that remembers it, the CSRF token, and the app's settings.

Two ways to know the user, chosen when the app starts (`pipeline review serve`):

- default: the user signs in with their name and password (`pipeline users add`); the server keeps
  the session (`pipeline.services.users`), and the signed cookie carries only its random id. Signing
  out, a password change, disabling the user or `session_minutes` without a request ends it on the
  server, so a copy of the cookie stops working too.
- `--trust-remote-user`: a reverse proxy that has already authenticated the user (SSO, Kerberos,
  client certificates) sends the user name in the `X-Remote-User` header. The name must be a known,
  enabled user (their role comes from `pipeline users`). Only turn this on when the app listens where
  nothing but that proxy can reach it: anyone who can reach the port can set the header.

Every POST form carries the session's CSRF token; a form without the right one is refused.
The session cookie is signed, not encrypted: it holds the session id, the CSRF token and a one-line
notice, never patient data.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigurationError
from pipeline.settings import DEFAULT_REVIEW_HOSTS

#: the header a trusted reverse proxy puts the authenticated user id in
REMOTE_USER_HEADER = "X-Remote-User"
#: minutes without a request after which the clerk must sign in again
DEFAULT_SESSION_MINUTES = 30
#: the signing key for session cookies, made on first start, readable by the owner only
SECRET_FILE_NAME = "review-session.key"
COOKIE_NAME = "pipeline_review"


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    secret: str
    trust_remote_user: bool = False
    session_minutes: int = DEFAULT_SESSION_MINUTES
    https_only: bool = False  # mark the cookie Secure (set it when served over TLS)
    allowed_hosts: tuple[str, ...] = DEFAULT_REVIEW_HOSTS  # Host header values answered; others get a 400


def load_secret(home: Path) -> str:
    """The session signing key kept in the home folder; made (mode 0600) on first use, so sessions
    survive a restart and every app process on this home signs alike."""
    path = home / SECRET_FILE_NAME
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ConfigurationError(f"{path}: the session key is too short; delete the file and start again")
    return secret


def csrf_token(session: dict[str, Any]) -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def new_csrf_token(session: dict[str, Any]) -> str:
    """A fresh token (at sign-in, so a token seen before it is useless after)."""
    session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def csrf_ok(session: dict[str, Any], submitted: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))

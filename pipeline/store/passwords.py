"""Password hashes: argon2id through argon2-cffi (the only module that imports it), with the
library's default parameters (RFC 9106's low-memory profile); a hash made with older parameters
is replaced at the next successful sign-in."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` is the one hashed; a damaged hash verifies nothing."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


@cache
def dummy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name costs as long as a wrong password
    (made on first use, not at import: every command imports this module)."""
    return hash_password("not a password anyone has")

"""Password hashing and the password policy of console accounts.

Hashing: Argon2id through ``argon2-cffi`` (OWASP's first recommendation) at OWASP's baseline, m = 19 MiB, t = 2,
p = 1. Chosen over scrypt at N = 2^17 because that needs 128 MiB per hash (40 concurrent logins: 5 GB) where
Argon2id needs 19 MiB for comparable resistance, and the library is well kept, writes self-describing PHC strings
(``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) and says when a stored hash is weaker than today's parameters
(``check_needs_rehash``). Hashes of older releases (``scrypt$N$r$p$salt$digest``) still verify and are replaced with
an Argon2id hash at the next successful login (``needs_rehash``). At most ``CONCURRENT_HASHES`` hashes run at once
per process, so a burst of logins cannot exhaust memory.

Policy (``check_password``): at least 12 characters (16 for admins), at most 128; not the published demo password;
not containing the user name; and strong by ``zxcvbn`` (Dropbox's estimator, which knows the common-password lists,
keyboard patterns, dates and repeats): score 3 of 4 for officers, 4 for admins.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterable
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

__all__ = [
    "CONCURRENT_HASHES",
    "DEMO_PASSWORD",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "WeakPassword",
    "check_password",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

DEMO_PASSWORD: Final = "dancu-demo-2025"
"""The password of the demo accounts, printed by ``dancu console``: never accepted in production."""
MIN_LENGTH: Final = {"ward_officer": 12, "data_officer": 12, "admin": 16}
MIN_SCORE: Final = {"ward_officer": 3, "data_officer": 3, "admin": 4}
MAX_LENGTH: Final = 128
CONCURRENT_HASHES: Final = 4

_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_HASHING: Final = threading.BoundedSemaphore(CONCURRENT_HASHES)
# The estimator reads at most this many characters (longer passwords are only stronger).
_ZXCVBN_LENGTH: Final = 72
# Words anyone attacking this console would try first.
_CONTEXT_WORDS: Final = ("dancu", "dân cư", "công an", "congan", "quantri", "dulieu", "matkhau", "mật khẩu")


class WeakPassword(ValueError):
    """The password does not meet the policy; the message says why, in Vietnamese."""


def hash_password(password: str) -> str:
    with _HASHING:
        return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (an Argon2id PHC string, or a scrypt hash of an older release)."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        with _HASHING:
            return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """The stored hash is of an older scheme or weaker parameters than today's: replace it at the next login."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        cost, block, parallel = int(n), int(r), int(p)
    except ValueError:
        return False
    # Bounded: a hash row written by hand must not make a login allocate gigabytes.
    if cost > 2**17 or block > 16 or parallel > 4:
        return False
    with _HASHING:
        candidate = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=cost,
            r=block,
            p=parallel,
            dklen=32,
            maxmem=256 * cost * block * parallel + 2**20,
        )
    return hmac.compare_digest(candidate.hex(), digest)


def check_password(password: str, *, role: str, username: str, other_inputs: Iterable[str] = ()) -> None:
    """Raise ``WeakPassword`` unless ``password`` is acceptable for an account of ``role`` named ``username``."""
    minimum = MIN_LENGTH.get(role, max(MIN_LENGTH.values()))
    if len(password) < minimum:
        raise WeakPassword(f"mật khẩu phải có ít nhất {minimum} ký tự")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"mật khẩu dài quá {MAX_LENGTH} ký tự")
    if password == DEMO_PASSWORD:
        raise WeakPassword("không được dùng mật khẩu của tài khoản thử nghiệm")
    folded = password.casefold()
    name = username.casefold()
    if len(name) >= 3 and (name in folded or name.replace(".", "") in folded.replace(".", "")):
        raise WeakPassword("mật khẩu không được chứa tên đăng nhập")
    inputs = [username, *username.replace(".", " ").split(), *other_inputs, *_CONTEXT_WORDS]
    estimate = zxcvbn(password[:_ZXCVBN_LENGTH], user_inputs=[i for i in inputs if i])
    if estimate["score"] < MIN_SCORE.get(role, 4):
        raise WeakPassword(
            "mật khẩu quá dễ đoán (mật khẩu phổ biến, chuỗi lặp hoặc theo bàn phím, ngày tháng, tên người dùng); "
            "hãy dùng một cụm từ dài gồm nhiều từ không liên quan"
        )

"""Field encryption (Fernet keyring) and keyed-hash blind indexes.

Keys come from settings (``CG_FIELD_KEYS``, ``CG_BLIND_INDEX_KEY``); the first field key
encrypts, every key decrypts, so keys can be rotated with ``communitygrid rotate-keys``.
"""
from __future__ import annotations

import hashlib
import hmac
import unicodedata
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(RuntimeError):
    """A stored value could not be decrypted with any key in the keyring."""


@lru_cache(maxsize=4)
def _keyring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in keys])


def keyring() -> MultiFernet:
    return _keyring(tuple(settings.FIELD_ENCRYPTION_KEYS))


@lru_cache(maxsize=4)
def _newest(key: str) -> Fernet:
    return Fernet(key.strip().encode())


def is_current(token: str) -> bool:
    """Whether the token is encrypted under the newest key (the one rotation moves to)."""
    try:
        _newest(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(token.encode("ascii", "replace"))
    except InvalidToken:
        return False
    return True


def encrypt(plaintext: str) -> str:
    return keyring().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return keyring().decrypt(token.encode("ascii", "replace")).decode("utf-8")
    except InvalidToken as exc:
        raise DecryptionError("value cannot be decrypted with the configured CG_FIELD_KEYS") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key."""
    try:
        return keyring().rotate(token.encode("ascii", "replace")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("value cannot be decrypted with the configured CG_FIELD_KEYS") from exc


def normalise(kind: str, value: str) -> str:
    """The canonical form used for blind indexes, so equal values hash equal."""
    value = unicodedata.normalize("NFKC", value).strip()
    if kind == "id_number":
        return value.upper().replace(" ", "")
    if kind == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        if digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        return digits
    return " ".join(value.split())


def blind_index(kind: str, value: str) -> str:
    """HMAC-SHA256 of the normalised value, domain-separated by field kind (hex, 32 chars)."""
    key = settings.BLIND_INDEX_KEY.encode()
    message = f"{kind}\x00{normalise(kind, value)}".encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]

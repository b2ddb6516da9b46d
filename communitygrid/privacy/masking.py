"""Masking rules for sensitive values shown on screen (GB/T 35273 style)."""
from __future__ import annotations

MASK = "*"


def _keep_ends(value: str, head: int, tail: int) -> str:
    return value[:head] + MASK * (len(value) - head - tail) + value[-tail:]


def mask_id_number(value: str) -> str:
    # Resident ID cards (15/18 characters): 110***********002X, the usual public form.
    # Shorter documents (passports, permits) would show most of themselves that way.
    if len(value) <= 7:
        return MASK * len(value)
    if len(value) < 15:
        return _keep_ends(value, 1, 2)
    return _keep_ends(value, 3, 4)


def mask_phone(value: str) -> str:
    # Mobiles and landlines with area code: 138****5678. A bare local number keeps only
    # its last four digits, otherwise almost all of it would show.
    digits = value.strip()
    if len(digits) < 7:
        return MASK * len(digits)
    if len(digits) < 11:
        return MASK * (len(digits) - 4) + digits[-4:]
    return _keep_ends(digits, 3, 4)


def mask_address(value: str) -> str:
    # Keep roughly the first third (district/street), hide the building and room details.
    keep = max(2, len(value) // 3)
    return value[:keep] + MASK * 6


def mask_name(value: str) -> str:
    if not value:
        return value
    if len(value) == 1:
        return value
    if value.isascii():
        return value[0] + MASK * 3
    return value[0] + MASK * (len(value) - 1)


def mask(kind: str, value: str) -> str:
    if not value:
        return ""
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "phone":
        return mask_phone(value)
    if kind == "address":
        return mask_address(value)
    if kind == "name":
        return mask_name(value)
    return MASK * 6

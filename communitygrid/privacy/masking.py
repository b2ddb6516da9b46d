"""Masking rules for sensitive values shown on screen (GB/T 35273 style)."""
from __future__ import annotations

MASK = "*"


def mask_id_number(value: str) -> str:
    # 110105********1234 → keep the region code's first 3 and the last 4 characters.
    if len(value) <= 7:
        return MASK * len(value)
    return value[:3] + MASK * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    digits = value.strip()
    if len(digits) < 7:
        return MASK * len(digits)
    return digits[:3] + MASK * (len(digits) - 7) + digits[-4:]


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

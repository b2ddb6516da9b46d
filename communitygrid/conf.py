"""Typed helpers that read settings from the environment and fail loudly on bad values.

Every secret may also come from a file named by ``<NAME>_FILE`` (the Docker/Kubernetes
secrets convention), so keys never have to live in the environment of a shell history.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


def env_str(name: str, default: str | None = None) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not an integer") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env_str(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def data_dir() -> Path:
    path = Path(os.environ.get("CG_DATA_DIR") or "communitygrid-data").resolve()
    return path


def dev_secret(path: Path, generate) -> str:
    """Read or create a development-only secret inside the data directory.

    Used only when ``CG_DEV_SECRETS=1`` (set by ``communitygrid demo`` and the test runner).
    The file name says what it is, so nobody mistakes it for a production key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = generate()
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)
    return value


def random_secret_key() -> str:
    return secrets.token_urlsafe(50)

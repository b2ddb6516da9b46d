"""The ``communitygrid`` console command: every Django management command, hyphen-friendly.

``communitygrid import-grids FILE`` runs the ``import_grids`` management command, and
``communitygrid migrate`` runs ``migrate``; all share the data directory and DATABASE_URL.
"""
from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "communitygrid.settings")
    if len(argv) > 1 and argv[1] == "demo":
        # The demo is a development setup: it may generate its own clearly-marked keys.
        os.environ.setdefault("CG_DEV_SECRETS", "1")
        _apply_data_dir_option(argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


def _apply_data_dir_option(argv: list[str]) -> None:
    """``--data-dir`` must be known before settings load, so it is read here."""
    for index, arg in enumerate(argv):
        if arg == "--data-dir" and index + 1 < len(argv):
            os.environ["CG_DATA_DIR"] = argv[index + 1]
        elif arg.startswith("--data-dir="):
            os.environ["CG_DATA_DIR"] = arg.split("=", 1)[1]


if __name__ == "__main__":
    main()

"""``communitygrid create-user USERNAME --role ROLE [--scope CODE ...] [--department CODE]``."""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from communitygrid.accounts import services
from communitygrid.accounts.models import Role


class Command(BaseCommand):
    help = "Create a user bound to the areas (or department) their role needs."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--scope", action="append", default=[], metavar="CODE",
                            help="A hierarchy node code the user works in (repeatable; area staff and leaders).")
        parser.add_argument("--department", metavar="CODE", help="Department code (department staff).")
        parser.add_argument("--display-name", default="", help="The name shown on screens.")
        parser.add_argument("--password-file", metavar="FILE",
                            help="Read the password from the first line of FILE instead of prompting.")

    def handle(self, *args, username, role, scope, department, display_name, password_file, **options):
        password = self._password(password_file)
        try:
            user = services.user_create(username=username, password=password, role=role, scope_codes=scope,
                                        department_code=department, display_name=display_name, actor=None)
        except ValidationError as exc:
            lines = [f"  {field}: {message}" for field, messages in exc.message_dict.items() for message in messages]
            raise CommandError("The user was not created:\n" + "\n".join(lines)) from exc
        bound = ", ".join(user.scope_nodes.values_list("code", flat=True)) or (user.department.code if user.department else "")
        self.stdout.write(self.style.SUCCESS(
            f"Created {user.username} ({user.get_role_display()}){' bound to ' + bound if bound else ''}."
        ))

    def _password(self, password_file: str | None) -> str:
        if password_file:
            try:
                lines = Path(password_file).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read the password file {password_file}: {exc}") from exc
            if not lines or not lines[0]:
                raise CommandError(f"The password file {password_file} is empty.")
            return lines[0]
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for a password: pass --password-file FILE.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ; nothing was created.")
        return first

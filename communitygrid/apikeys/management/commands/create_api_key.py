"""``communitygrid create-api-key``: create a key for an organisation, printed once."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from communitygrid.apikeys import services
from communitygrid.apikeys.models import Organisation, Scope
from communitygrid.geo.models import Node


class Command(BaseCommand):
    help = "Create an API key (printed once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, help="organisation code (created if new)")
        parser.add_argument("--organisation-name", default="", help="name for a new organisation")
        parser.add_argument("--name", required=True, help="what system uses the key")
        parser.add_argument("--scope", action="append", default=[], choices=Scope.values, dest="scopes")
        parser.add_argument("--node", action="append", default=[], dest="nodes", help="hierarchy node code")
        parser.add_argument("--rate-limit", type=int, default=60, help="requests per minute")

    def handle(self, *args, **options):
        organisation, _created = Organisation.objects.get_or_create(
            code=options["organisation"], defaults={"name": options["organisation_name"] or options["organisation"]})
        nodes = list(Node.objects.filter(code__in=options["nodes"]))
        missing = sorted(set(options["nodes"]) - {node.code for node in nodes})
        if missing:
            raise CommandError(f"unknown node code(s): {', '.join(missing)}")
        try:
            new = services.apikey_create(organisation=organisation, name=options["name"], scopes=options["scopes"],
                                         nodes=nodes, rate_limit=options["rate_limit"], actor=None)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()))
        self.stdout.write(new.plaintext)

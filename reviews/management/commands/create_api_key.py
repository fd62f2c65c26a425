from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from reviews.models import ApiKey, Shop


class Command(BaseCommand):
    help = (
        "Create an integration API key scoped to shops; prints the key on its last line. "
        "manage.py create_api_key --shop tb-001 [--shop …] --name 'ERP sync'"
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", action="append", required=True, dest="shops", help="A shop's external id.")
        parser.add_argument("--name", required=True, help="A label saying who uses the key.")

    def handle(self, *args, shops, name, **options):
        found = {shop.external_id: shop for shop in Shop.objects.filter(external_id__in=shops)}
        unknown = [s for s in shops if s not in found]
        if unknown:
            raise CommandError(f"Unknown shop(s): {', '.join(unknown)}")
        if not name.strip() or len(name) > 100:
            raise CommandError("--name must be 1 to 100 characters.")
        with transaction.atomic():
            key = ApiKey(name=name)
            raw = key.set_new_key()
            key.save()
            key.shops.set(found.values())
        self.stdout.write(f"API key {name!r} for {', '.join(sorted(found))}. It is shown once; store it now:")
        self.stdout.write(raw)

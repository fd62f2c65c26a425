from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reviews.choices import Platform
from reviews.models import Shop


class Command(BaseCommand):
    help = "Create a shop: manage.py create_shop --platform taobao --external-id tb-001 --name 某某旗舰店"

    def add_arguments(self, parser):
        parser.add_argument("--platform", required=True, choices=Platform.values)
        parser.add_argument("--external-id", required=True)
        parser.add_argument("--name", required=True)

    def handle(self, *args, platform, external_id, name, **options):
        if Shop.objects.filter(external_id=external_id).exists():
            raise CommandError(f"A shop with external id {external_id!r} exists already.")
        shop = Shop(platform=platform, external_id=external_id, name=name)
        try:
            shop.full_clean()
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        shop.save()
        self.stdout.write(f"Created shop {shop.external_id} ({shop.get_platform_display()}): {shop.name}")

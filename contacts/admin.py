from django.contrib import admin

from .models import Buyer


@admin.register(Buyer)
class BuyerAdmin(admin.ModelAdmin):
    list_display = ["open_id", "platform", "masked_nick", "masked_phone", "region", "last_seen_at"]
    list_filter = ["platform"]
    search_fields = ["open_id"]
    # Personal data stays masked here as everywhere; revealing it is an audited action.
    exclude = ["nick", "phone"]
    readonly_fields = ["masked_nick", "masked_phone", "first_seen_at", "last_seen_at"]

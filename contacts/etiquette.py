"""Contact etiquette: no repeated calls, no calls at night, and when a buyer is best called.

The rules are per shop (ContactEtiquette; defaults when a shop has none) and count a buyer's
attempts across all their tickets, in every shop, because it is the same person being called.
Only phone calls are policed: IM and SMS wait in the buyer's inbox until they choose to read them.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from tickets.choices import ContactChannel, ContactResult
from tickets.models import ContactAttempt

from .models import DEFAULT_BUYER_TIME_ZONE, Buyer, ContactEtiquette, valid_time_zone

POLICED_CHANNELS = frozenset({ContactChannel.PHONE})
# Rule of thumb when the buyer was never reached: early evening, after the day's delivery.
DEFAULT_BEST_HOURS = (18, 19)


@dataclass(frozen=True)
class Violation:
    """One broken rule: `code` (daily_cap, too_soon, quiet_hours) and a readable message."""

    code: str
    message: str

    def as_dict(self):
        return {"code": self.code, "message": str(self.message)}


def etiquette_for(shop):
    """The shop's rules, or the defaults (an unsaved row) when it has none."""
    if shop is None:
        return ContactEtiquette()
    try:
        return shop.contact_etiquette
    except ContactEtiquette.DoesNotExist:
        return ContactEtiquette(shop=shop)


def buyer_zone(buyer, rules=None):
    """The buyer's time zone: their own, else the shop's default, else Asia/Shanghai."""
    for name in (getattr(buyer, "time_zone", ""), rules.default_time_zone if rules else ""):
        if name and valid_time_zone(name):
            return ZoneInfo(name)
    return ZoneInfo(DEFAULT_BUYER_TIME_ZONE)


def in_quiet_hours(local_time, start, end):
    if start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end  # the quiet hours span midnight


def contact_etiquette_check(buyer, shop, *, channel, now):
    """The rules a contact attempt to `buyer` by `channel` at `now` would break; [] when fine.

    Counts the buyer's attempts across all their tickets: the daily cap counts every channel on
    the buyer's local day, the spacing counts phone attempts only."""
    if buyer is None or channel not in POLICED_CHANNELS:
        return []
    rules = etiquette_for(shop)
    zone = buyer_zone(buyer, rules)
    local = now.astimezone(zone)
    day_start = dt.datetime.combine(local.date(), dt.time.min, tzinfo=zone)
    day_end = day_start + dt.timedelta(days=1)
    attempts = list(
        ContactAttempt.objects.filter(
            ticket__review__buyer=buyer,
            created_at__gte=min(day_start, now - dt.timedelta(minutes=rules.min_minutes_between_calls)),
            created_at__lte=now,
        ).values_list("channel", "created_at")
    )
    violations = []
    today = [at for _channel, at in attempts if day_start <= at < day_end]
    if len(today) >= rules.max_attempts_per_day:
        violations.append(
            Violation(
                "daily_cap",
                _("This buyer was already contacted %(count)s times today; the limit is %(limit)s a day.")
                % {"count": len(today), "limit": rules.max_attempts_per_day},
            )
        )
    calls = [at for channel_, at in attempts if channel_ == ContactChannel.PHONE]
    if calls and rules.min_minutes_between_calls:
        last = max(calls)
        next_allowed = last + dt.timedelta(minutes=rules.min_minutes_between_calls)
        if now < next_allowed:
            violations.append(
                Violation(
                    "too_soon",
                    _(
                        "The last call was %(minutes)s minutes ago; wait %(spacing)s minutes between calls (until %(until)s)."
                    )
                    % {
                        "minutes": int((now - last).total_seconds() // 60),
                        "spacing": rules.min_minutes_between_calls,
                        "until": next_allowed.astimezone(zone).strftime("%H:%M"),
                    },
                )
            )
    if in_quiet_hours(local.time(), rules.quiet_hours_start, rules.quiet_hours_end):
        violations.append(
            Violation(
                "quiet_hours",
                _("It is %(time)s for the buyer (%(zone)s): no calls between %(start)s and %(end)s.")
                % {
                    "time": local.strftime("%H:%M"),
                    "zone": zone.key,
                    "start": rules.quiet_hours_start.strftime("%H:%M"),
                    "end": rules.quiet_hours_end.strftime("%H:%M"),
                },
            )
        )
    return violations


def lock_buyer_of_ticket(ticket_id):
    """Row-lock and return the buyer of a ticket (None without one), inside the caller's
    transaction, so counting and logging a buyer's calls is serialised across their tickets."""
    return Buyer.objects.select_for_update(of=("self",)).filter(reviews__tickets__pk=ticket_id).first()


def etiquette_refusal_message(violations):
    return _("Not now: %(rules)s Give a reason to override if the call cannot wait.") % {
        "rules": " ".join(str(v.message) for v in violations)
    }


def best_contact_time(buyer, *, shop=None):
    """(label, reason): the local hour (outside quiet hours) at which this buyer was reached
    most often, else the rule of thumb, early evening 18:00–19:00, after the day's delivery."""
    rules = etiquette_for(shop)
    zone = buyer_zone(buyer, rules)
    reached = ContactAttempt.objects.filter(ticket__review__buyer=buyer, result=ContactResult.REACHED).values_list(
        "created_at", flat=True
    )
    # An hour inside the quiet hours is never suggested, even if the buyer once answered then.
    hours = Counter(
        hour
        for hour in (at.astimezone(zone).hour for at in reached)
        if not in_quiet_hours(dt.time(hour, 30), rules.quiet_hours_start, rules.quiet_hours_end)
    )
    if hours:
        hour, count = max(hours.items(), key=lambda item: (item[1], -item[0]))
        label = f"{hour:02d}:00–{(hour + 1) % 24:02d}:00"
        return label, _("Reached %(count)s of %(total)s times at this hour before (%(zone)s).") % {
            "count": count,
            "total": sum(hours.values()),
            "zone": zone.key,
        }
    start, end = DEFAULT_BEST_HOURS
    return (
        f"{start:02d}:00–{end:02d}:00",
        _("Never reached before: early evening, after the day's delivery, is usually best."),
    )

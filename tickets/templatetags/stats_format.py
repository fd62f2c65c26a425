"""Formatting of statistics figures on the dashboard: the same stored values as the API, shown
for people (a fraction as a percentage, null as a dash)."""

from django import template

register = template.Library()


@register.filter
def percent(value, digits=1):
    """0.8571 -> "85.7 %"; None -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f} %"


@register.filter
def figure(value):
    """None -> "—", anything else as it is."""
    return "—" if value is None or value == "" else value


@register.filter
def raw(value):
    """The machine value for data-value attributes: None -> ""."""
    return "" if value is None else value


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None

"""Show a KPI by its kind: counts with separators, rates as percentages, money in yuan; none as "—"."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()
DASH = "—"


def _number(value, places: str) -> str:
    quantized = Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    return f"{quantized:,}"


@register.filter
def kpi_value(value, kind: str = "count") -> str:
    if value is None or value == "":
        return DASH
    if kind == "text":
        return str(value)
    if kind == "rate":
        return _number(Decimal(value) * 100, "0.1") + "%"
    if kind == "money":
        return "¥" + _number(value, "1")
    if kind in ("hours", "days", "score"):
        suffix = {"hours": _(" h"), "days": _(" d"), "score": ""}[kind]
        return _number(value, "0.1") + suffix
    return _number(value, "1")


@register.filter
def kpi_delta(value, kind: str = "count") -> str:
    """A change with its sign; rates change by percentage points."""
    if value is None:
        return DASH
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    magnitude = abs(Decimal(value))
    if kind == "rate":
        return sign + _number(magnitude * 100, "0.1") + _(" pt")
    return sign + kpi_value(magnitude, kind)


@register.filter
def kpi_tone(tile_delta, lower_is_better=False) -> str:
    """The colour of a change: better green, worse red, none grey."""
    if tile_delta is None or tile_delta == 0:
        return "text-secondary"
    better = tile_delta < 0 if lower_is_better else tile_delta > 0
    return "text-success" if better else "text-danger"


@register.filter
def percent_width(share) -> str:
    if share is None:
        return "0"
    return str(min(100, max(0, int(Decimal(share) * 100))))

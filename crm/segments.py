"""Customer segments 客户细分: criteria checked once (a contradiction is refused with a message per field)
and turned into one queryset of the rooftop's customers. Visits and spend come from the service app's
repair orders, leads' grades from the sales app, reached through the relations they declare on Customer
(crm imports neither)."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Customer, Dealership, Segment, User, Vehicle

# name: (kind, label) — the criteria a segment may hold, in the order the builder shows them
CRITERIA = {
    "vehicle_model": ("text", "Vehicle model starts with"),
    "vehicle_age_min": ("int", "Vehicle age from (years)"),
    "vehicle_age_max": ("int", "Vehicle age up to (years)"),
    "mileage_min": ("int", "Mileage from (km)"),
    "mileage_max": ("int", "Mileage up to (km)"),
    "visits_since": ("date", "Visits counted from"),
    "visits_until": ("date", "Visits counted until"),
    "visits_min": ("int", "At least this many visits"),
    "visits_max": ("int", "At most this many visits"),
    "last_visit_after": ("date", "Last visit after"),
    "last_visit_before": ("date", "Last visit before"),
    "spend_min": ("money", "Spent at least (¥)"),
    "spend_max": ("money", "Spent at most (¥)"),
    "grade": ("grades", "Lead grade"),
    "tag": ("text", "Tag"),
    "consent": ("bool", "Marketing consent"),
}
PAIRS = (
    ("vehicle_age_min", "vehicle_age_max"),
    ("mileage_min", "mileage_max"),
    ("visits_since", "visits_until"),
    ("visits_min", "visits_max"),
    ("last_visit_after", "last_visit_before"),
    ("spend_min", "spend_max"),
)
GRADES = ("H", "A", "B", "C")


def criteria_clean(raw: dict) -> dict:
    """The criteria as typed values, empty ones dropped; ValidationError naming each bad or contradictory
    field (a minimum above its maximum, a period that ends before it starts, an unknown criterion)."""
    cleaned, errors = {}, {}
    for name, value in (raw or {}).items():
        if name not in CRITERIA:
            errors[name] = _("This is not a segment criterion.")
            continue
        if value in (None, "", []):
            continue
        kind = CRITERIA[name][0]
        try:
            cleaned[name] = _typed(kind, value)
        except (ValueError, InvalidOperation, TypeError):
            errors[name] = _("Enter a valid value.")
    for low, high in PAIRS:
        if low in cleaned and high in cleaned and cleaned[low] > cleaned[high]:
            errors[high] = _("This cannot be below %(other)s.") % {"other": _(CRITERIA[low][1]).lower()}
    if ("visits_min" in cleaned or "visits_max" in cleaned) and "visits_since" not in cleaned:
        errors["visits_since"] = _("Say from when visits are counted.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _typed(kind: str, value):
    if kind == "int":
        number = int(value)
        if number < 0:
            raise ValueError
        return number
    if kind == "money":
        amount = Decimal(str(value))
        if amount < 0:
            raise ValueError
        return amount
    if kind == "date":
        return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes", "on"):
            return True
        if str(value).lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError
    if kind == "grades":
        grades = [value] if isinstance(value, str) else list(value)
        if not grades or any(grade not in GRADES for grade in grades):
            raise ValueError
        return sorted(set(grades))
    text = str(value).strip()
    if not text or len(text) > 80:
        raise ValueError
    return text


def _related(name: str):
    """The model another app relates to Customer as ``name`` (repair orders, leads), without importing it."""
    return Customer._meta.get_field(name).related_model


def _start(day: datetime.date, zone) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def segment_customers(
    *, criteria: dict, dealership: Dealership, today: datetime.date | None = None
) -> QuerySet[Customer]:
    """The rooftop's customers matching every criterion (already cleaned). One statement: each
    criterion is an EXISTS or a correlated aggregate on the customer's own rows."""
    zone = dealership.zone
    today = today or timezone.localdate(timezone.now(), zone)
    rows = Customer.objects.filter(dealership=dealership)
    vehicle = Q()
    if "vehicle_model" in criteria:
        vehicle &= Q(model__istartswith=criteria["vehicle_model"])
    if "vehicle_age_min" in criteria:
        vehicle &= Q(purchased_on__lte=_years_before(today, criteria["vehicle_age_min"]))
    if "vehicle_age_max" in criteria:
        vehicle &= Q(purchased_on__gt=_years_before(today, criteria["vehicle_age_max"] + 1))
    if "mileage_min" in criteria:
        vehicle &= Q(odometer_km__gte=criteria["mileage_min"])
    if "mileage_max" in criteria:
        vehicle &= Q(odometer_km__lte=criteria["mileage_max"])
    if vehicle:
        rows = rows.filter(Exists(Vehicle.objects.filter(vehicle, owner=OuterRef("pk"))))
    visits = _related("repair_orders").objects.filter(customer=OuterRef("pk")).exclude(status="cancelled")
    if "visits_since" in criteria:
        period = visits.filter(checked_in_at__gte=_start(criteria["visits_since"], zone))
        if "visits_until" in criteria:
            period = period.filter(checked_in_at__lt=_start(criteria["visits_until"] + datetime.timedelta(1), zone))
        count = Subquery(
            period.order_by().values("customer").annotate(n=Count("pk")).values("n"), output_field=IntegerField()
        )
        rows = rows.annotate(visit_count=Coalesce(count, 0))
        if "visits_min" in criteria:
            rows = rows.filter(visit_count__gte=criteria["visits_min"])
        if "visits_max" in criteria:
            rows = rows.filter(visit_count__lte=criteria["visits_max"])
    if "last_visit_after" in criteria or "last_visit_before" in criteria:
        last = Subquery(visits.order_by().values("customer").annotate(last=Max("checked_in_at")).values("last"))
        rows = rows.annotate(last_visit_at=last)
        if "last_visit_after" in criteria:
            rows = rows.filter(last_visit_at__gte=_start(criteria["last_visit_after"], zone))
        if "last_visit_before" in criteria:
            rows = rows.filter(last_visit_at__lt=_start(criteria["last_visit_before"], zone))
    if "spend_min" in criteria or "spend_max" in criteria:
        paid = Subquery(
            visits.order_by().values("customer").annotate(total=Sum("payments__amount")).values("total"),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        )
        rows = rows.annotate(
            spend=Coalesce(paid, Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))
        )
        if "spend_min" in criteria:
            rows = rows.filter(spend__gte=criteria["spend_min"])
        if "spend_max" in criteria:
            rows = rows.filter(spend__lte=criteria["spend_max"])
    if "grade" in criteria:
        leads = _related("leads").objects.filter(customer=OuterRef("pk"), grade__in=criteria["grade"])
        rows = rows.filter(Exists(leads))
    if "tag" in criteria:
        rows = rows.filter(tags__contains=[criteria["tag"]])
    if "consent" in criteria:
        rows = rows.filter(marketing_consent=criteria["consent"])
    return rows


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def segment_of(*, user: User, segment_id: int, action: str = "view") -> Segment:
    return Segment.objects.for_user(user, action).select_related("dealership").get(pk=segment_id)


def saved_segment_customers(segment: Segment) -> QuerySet[Customer]:
    """A saved segment's customers as they are now (its criteria were checked when it was saved)."""
    return segment_customers(criteria=criteria_clean(segment.criteria), dealership=segment.dealership)

"""Customer segments 客户细分: criteria checked once (a contradiction is refused with a message per field)
and turned into one queryset of the rooftop's customers. Visits and spend come from the service app's
repair orders, leads' grades from the sales app, reached through the relations they declare on Customer
(crm imports neither)."""

from __future__ import annotations

import csv
import datetime
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .choices import Channel
from .models import Customer, Dealership, ExportLog, Segment, User, Vehicle
from .querysets import user_dealership_ids, user_may

# name: (kind, label) — the criteria a segment may hold, in the order the builder shows them
CRITERIA = {
    "vehicle_model": ("text", gettext_noop("Vehicle model starts with")),
    "vehicle_age_min": ("int", gettext_noop("Vehicle age from (years)")),
    "vehicle_age_max": ("int", gettext_noop("Vehicle age up to (years)")),
    "mileage_min": ("int", gettext_noop("Mileage from (km)")),
    "mileage_max": ("int", gettext_noop("Mileage up to (km)")),
    "visits_since": ("date", gettext_noop("Visits counted from")),
    "visits_until": ("date", gettext_noop("Visits counted until")),
    "visits_min": ("int", gettext_noop("At least this many visits")),
    "visits_max": ("int", gettext_noop("At most this many visits")),
    "last_visit_after": ("date", gettext_noop("Last visit after")),
    "last_visit_before": ("date", gettext_noop("Last visit before")),
    "spend_min": ("money", gettext_noop("Spent at least (¥)")),
    "spend_max": ("money", gettext_noop("Spent at most (¥)")),
    "grade": ("grades", gettext_noop("Lead grade")),
    "tag": ("text", gettext_noop("Tag")),
    "consent": ("bool", gettext_noop("Marketing consent")),
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
    return _narrow(Customer.objects.filter(dealership=dealership), criteria=criteria, zone=zone, today=today)


def _narrow(rows: QuerySet[Customer], *, criteria: dict, zone, today: datetime.date | None) -> QuerySet[Customer]:
    """``rows`` less the customers failing a criterion, dates read in ``zone``."""
    today = today or timezone.localdate(timezone.now(), zone)
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


# --- the builder, saved segments and the audited export --------------------------------------------


def segment_filter(
    rows: QuerySet[Customer], *, criteria: dict, rooftops, today: datetime.date | None = None
) -> QuerySet[Customer]:
    """``rows`` (any of ``rooftops``' customers, already filtered) narrowed to those matching every
    criterion (already cleaned), each customer's dates read in its rooftop's time zone. Rooftops sharing a
    zone (the usual case) cost nothing more than one rooftop: the criteria join the list's own statement."""
    zones: dict[str, list[int]] = {}
    for rooftop in rooftops:
        zones.setdefault(rooftop.time_zone, []).append(rooftop.pk)
    if len(zones) <= 1:
        zone = zoneinfo.ZoneInfo(next(iter(zones), timezone.get_current_timezone_name()))
        return _narrow(rows, criteria=criteria, zone=zone, today=today)
    in_zone = Q()
    for name, rooftop_ids in zones.items():
        matching = _narrow(
            Customer.objects.filter(dealership_id__in=rooftop_ids),
            criteria=criteria,
            zone=zoneinfo.ZoneInfo(name),
            today=today,
        )
        in_zone |= Q(pk__in=matching.values("pk"))
    return rows.filter(in_zone)


def criteria_json(criteria: dict) -> dict:
    """Cleaned criteria as JSON values (what a Segment and an ExportLog store; ``criteria_clean`` reads
    them back)."""
    stored = {}
    for name, value in criteria.items():
        if isinstance(value, datetime.date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        stored[name] = value
    return stored


def criteria_summary(criteria: dict) -> list[tuple[str, str]]:
    """(label, value) of each criterion, in the builder's order, for people to read."""
    rows = []
    for name, (kind, label) in CRITERIA.items():
        if name not in criteria:
            continue
        value = criteria[name]
        if kind == "bool":
            shown = _("yes") if _typed("bool", value) else _("no")
        elif kind == "grades":
            shown = ", ".join(value if isinstance(value, list) else [value])
        elif kind == "money":
            shown = f"¥{value}"
        else:
            shown = str(value)
        rows.append((_(label), shown))
    return rows


@transaction.atomic
def segment_save(*, actor: User, dealership: Dealership | int, name: str, criteria: dict) -> Segment:
    """Save a segment at a rooftop where ``actor`` may add segments. Refused, with nothing saved and a
    message per field, when the name is empty or taken at the rooftop, or a criterion is unknown, invalid
    or contradicts another, or there is none (a segment is targeted, never the whole customer base)."""
    from .services import dealership_for_write

    dealership = dealership_for_write(actor=actor, dealership=dealership, model=Segment)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif len(name) > Segment._meta.get_field("name").max_length:
        errors["name"] = [_("A name has at most 100 characters.")]
    try:
        cleaned = criteria_clean(criteria)
    except ValidationError as error:
        errors.update(error.message_dict)
    else:
        if not cleaned:
            errors["criteria"] = [_("Choose at least one criterion: a segment is a part of your customers.")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Segment.objects.create(
                dealership=dealership, name=name, criteria=criteria_json(cleaned), created_by=actor
            )
    except IntegrityError:  # crm_segment_name: the rooftop already has one by that name
        raise ValidationError(
            {
                "name": _("%(dealership)s already has a segment called “%(name)s”.")
                % {"dealership": dealership, "name": name}
            }
        ) from None


EXPORT_CHUNK = 500


def _cell(text: str) -> str:
    """Text a spreadsheet shows as typed: a leading = + - @ would start a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def segment_export_csv(
    *, actor: User, dealership: Dealership, criteria: dict, segment: Segment | None = None
) -> Iterator[str]:
    """The CSV lines of the segment's customers who consented to marketing (name, mobile, channel,
    contact time, tags, vehicles). Refusals come before the first line, with nothing logged: a role without
    ``crm.export_customer`` or another rooftop (PermissionDenied), bad criteria, and a segment with no
    customers or none who consented (ValidationError with the message to show). The lines are read in one
    transaction that also writes the ExportLog (who, when, which segment, its criteria, how many rows);
    a download cut short still commits its log, with the rows sent."""
    if not user_may(actor, "export", Customer) or dealership.pk not in user_dealership_ids(actor):
        raise PermissionDenied(_("You may not export this dealership's customers."))
    cleaned = criteria_clean(criteria)
    everyone = segment_customers(criteria=cleaned, dealership=dealership)
    consenting = everyone.filter(marketing_consent=True)
    if not consenting.exists():
        if everyone.exists():
            raise ValidationError(
                _("None of this segment's customers consented to marketing, so there is nothing to export."),
                code="no_consent",
            )
        raise ValidationError(_("No customer is in this segment, so there is nothing to export."), code="empty")
    header = [
        _("Name"),
        _("Mobile"),
        _("Email"),
        _("Preferred channel"),
        _("Contact time"),
        _("Tags"),
        _("Vehicles"),
        _("Dealership"),
    ]
    channels = {value: str(label) for value, label in Channel.choices}
    rows = consenting.order_by("pk").prefetch_related(
        Prefetch("vehicles", queryset=Vehicle.objects.order_by("-purchased_on", "-id"))
    )
    return _export_lines(
        actor=actor,
        dealership=dealership,
        segment=segment,
        criteria=criteria_json(cleaned),
        rows=rows,
        header=header,
        channels=channels,
    )


def _export_lines(*, actor, dealership, segment, criteria, rows, header, channels) -> Iterator[str]:
    writer = csv.writer(_Echo())
    with transaction.atomic():
        log = ExportLog.objects.create(
            dealership=dealership, user=actor, segment=segment, criteria=criteria, row_count=0
        )
        sent = 0
        try:
            yield "\ufeff" + writer.writerow(header)  # the BOM: spreadsheets then read the Chinese names right
            for customer in rows.iterator(chunk_size=EXPORT_CHUNK):
                window = (
                    f"{customer.contact_from:%H:%M}–{customer.contact_until:%H:%M}" if customer.contact_from else ""
                )
                vehicles = "; ".join(
                    " ".join(part for part in (vehicle.model, vehicle.plate) if part)
                    for vehicle in customer.vehicles.all()
                )
                sent += 1  # counted when handed over: a row the client may have received is in the log
                yield writer.writerow(
                    [
                        _cell(customer.full_name),
                        customer.mobile,  # E.164, checked when saved: never a formula
                        _cell(customer.email),
                        channels.get(customer.preferred_channel, customer.preferred_channel),
                        window,
                        _cell(", ".join(customer.tags)),
                        _cell(vehicles),
                        dealership.code,
                    ]
                )
        except GeneratorExit:  # the client went away: the log still says who took which rows
            pass
        ExportLog.objects.filter(pk=log.pk).update(row_count=sent)

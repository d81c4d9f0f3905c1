"""Retention 入库率 and lost customers 流失客户, per rooftop, as of the rooftop's local today.

Definitions (N is the rooftop's ``CareSettings.lost_after_months``, default 12):

* **Visit**: a repair order of the vehicle that is not cancelled, at the moment it was checked in.
* **Cutoff**: today − N calendar months (the 31st becomes the month's last day); the window is
  from the start of the cutoff day, in the rooftop's time zone, until now.
* **On file since** (``known_since``): the purchase date when known; otherwise the earlier of the
  first visit and the day the vehicle was recorded. A car sold to us and never seen counts from its
  purchase date, one that came in from elsewhere from the day we first saw it.
* **Base** (保有车辆): the rooftop's vehicles that have a current owner and have been on file since
  the cutoff or earlier, so each has had the whole window to come back. Vehicles without an owner
  (sold on, owner unknown) cannot be won back and are left out; vehicles on file for less than N
  months are counted apart as ``newer``, neither returned nor lost.
* **Returned**: a base vehicle with a visit inside the window. **Lost**: a base vehicle without one
  (never seen, or last seen before the cutoff).
* **Return rate 入库率** = returned / base; **lost rate** = lost / base (the two add up to 1), each
  with 4 decimal places, rounded half up; ``None`` when the base is empty.
* A **lost customer** is the current owner of a lost vehicle. The breakdowns count vehicles (the
  model and the sales channel belong to the vehicle), so a customer with two lost cars counts twice.

The figures come from one GROUP BY (make, model, sales channel) statement; the totals and both
breakdowns are sums of its rows. The page reads the figures and one page of lost vehicles in a single
pass over the vehicles (``retention_overview``). Repair orders are read through the relation the
service app declares on Vehicle: crm imports neither service nor sales.
"""

from __future__ import annotations

import calendar
import datetime
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, DateField, ExpressionWrapper, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Least, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import SalesChannel
from .models import CareSettings, Dealership, Segment, User, Vehicle
from .querysets import user_dealership_ids, user_may

RATE_PLACES = Decimal("0.0001")


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` calendar months earlier; a day the month lacks becomes its last day."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rate(part, whole, places: Decimal = RATE_PLACES) -> Decimal | None:
    """part / whole rounded half up (a share to 4 places unless told); ``None`` for an empty whole."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(places, rounding=ROUND_HALF_UP)


def percent(share: Decimal | None) -> Decimal | None:
    """A rate as a percentage with one decimal (0.3750 → 37.5), for pages."""
    return None if share is None else (share * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RetentionWindow:
    """The rooftop, its N months and the day the figures are taken on."""

    dealership: Dealership
    months: int
    today: datetime.date

    @property
    def cutoff(self) -> datetime.date:
        return months_before(self.today, self.months)

    @property
    def cutoff_start(self) -> datetime.datetime:
        """The first moment of the window: the cutoff day's midnight at the rooftop."""
        return datetime.datetime.combine(self.cutoff, datetime.time.min, tzinfo=self.dealership.zone)


def retention_window(*, dealership: Dealership, today: datetime.date | None = None) -> RetentionWindow:
    """The window for ``dealership``: its own N months (``CareSettings``), today at the rooftop."""
    months = CareSettings.of(dealership).lost_after_months
    return RetentionWindow(
        dealership=dealership,
        months=months,
        today=today or timezone.localdate(timezone.now(), dealership.zone),
    )


def user_rooftop(*, user: User, dealership_id: int | str | None = None) -> Dealership:
    """The rooftop asked for, or the user's first; ``Dealership.DoesNotExist`` (a 404) when it is not
    one of theirs."""
    allowed = user_dealership_ids(user)
    if dealership_id in (None, ""):
        if not allowed:
            raise Dealership.DoesNotExist
        dealership_id = allowed[0]
    try:
        dealership_id = int(dealership_id)
    except (TypeError, ValueError):
        raise Dealership.DoesNotExist from None
    if dealership_id not in allowed:
        raise Dealership.DoesNotExist
    return Dealership.objects.get(pk=dealership_id)


def _visits():
    repair_order = Vehicle._meta.get_field("repair_orders").related_model
    return repair_order.objects.filter(vehicle=OuterRef("pk")).exclude(status="cancelled").order_by().values("vehicle")


def vehicles_with_visits(window: RetentionWindow) -> QuerySet[Vehicle]:
    """The rooftop's owned vehicles with ``last_visit_at`` and ``known_since`` (see the module)."""
    zone = window.dealership.zone
    first_visit = Subquery(_visits().annotate(first=Min("checked_in_at")).values("first"))
    known_since = Coalesce(
        "purchased_on",
        Least(TruncDate(first_visit, tzinfo=zone), TruncDate("created_at", tzinfo=zone)),
        output_field=DateField(),
    )
    return (
        Vehicle.objects.filter(dealership=window.dealership, owner__isnull=False)
        .annotate(last_visit_at=Subquery(_visits().annotate(last=Max("checked_in_at")).values("last")))
        .annotate(known_since=ExpressionWrapper(known_since, output_field=DateField()))
    )


def _returned(window: RetentionWindow) -> Q:
    return Q(last_visit_at__gte=window.cutoff_start)


def _lost(window: RetentionWindow) -> Q:
    # Spelt out: NOT (last_visit_at >= …) would drop the vehicles never seen (a NULL last visit).
    return Q(last_visit_at__isnull=True) | Q(last_visit_at__lt=window.cutoff_start)


def lost_vehicles(window: RetentionWindow) -> QuerySet[Vehicle]:
    """The base's lost vehicles with their owners, the most recently seen first (the easiest to win
    back); ``last_seen_on`` is the last visit's day, or the day the vehicle came on file."""
    last_seen = Coalesce(
        TruncDate("last_visit_at", tzinfo=window.dealership.zone), "known_since", output_field=DateField()
    )
    return (
        vehicles_with_visits(window)
        .filter(_lost(window), known_since__lte=window.cutoff)
        .annotate(last_seen_on=last_seen)
        .select_related("owner")
        .order_by("-last_seen_on", "-pk")
    )


@dataclass
class Tally:
    """One line of the figures: how many base vehicles returned and how many are lost."""

    key: str
    label: str
    base: int = 0
    returned: int = 0

    @property
    def lost(self) -> int:
        return self.base - self.returned

    @property
    def return_rate(self) -> Decimal | None:
        return rate(self.returned, self.base)

    @property
    def lost_rate(self) -> Decimal | None:
        return rate(self.lost, self.base)

    @property
    def return_percent(self) -> Decimal | None:
        return percent(self.return_rate)

    @property
    def lost_percent(self) -> Decimal | None:
        return percent(self.lost_rate)

    def add(self, base: int, returned: int) -> None:
        self.base += base
        self.returned += returned


@dataclass
class RetentionFigures:
    window: RetentionWindow
    total: Tally
    newer: int = 0
    by_model: list[Tally] = field(default_factory=list)
    by_channel: list[Tally] = field(default_factory=list)


def retention_figures(window: RetentionWindow) -> RetentionFigures:
    """The return rate and the lost vehicles in total, by model (most lost first) and by sales
    channel (in the choices' order, channels without vehicles left out): one statement."""
    in_base = Q(known_since__lte=window.cutoff)
    rows = (
        vehicles_with_visits(window)
        .order_by()
        .values("make", "model", "sales_channel")
        .annotate(
            owned=Count("pk"),
            base=Count("pk", filter=in_base),
            returned=Count("pk", filter=in_base & _returned(window)),
        )
    )
    return _figures(window, rows)


def _figures(window: RetentionWindow, rows) -> RetentionFigures:
    """The figures from the (make, model, sales channel) groups' owned, base and returned counts."""
    total = Tally("all", _("All vehicles"))
    figures = RetentionFigures(window=window, total=total)
    models: dict[str, Tally] = {}
    channels = {value: Tally(value, label) for value, label in SalesChannel.choices}
    for row in rows:
        figures.newer += row["owned"] - row["base"]
        if not row["base"]:
            continue
        name = f"{row['make']} {row['model']}".strip()
        models.setdefault(name, Tally(name, name)).add(row["base"], row["returned"])
        channel = row["sales_channel"]
        channels.setdefault(channel, Tally(channel, channel)).add(row["base"], row["returned"])
        total.add(row["base"], row["returned"])
    figures.by_model = sorted(models.values(), key=lambda tally: (-tally.lost, -tally.base, tally.label))
    figures.by_channel = [tally for tally in channels.values() if tally.base]
    return figures


# The retention page in one pass over the rooftop's vehicles: each vehicle's visits are read once into
# a materialized CTE (``vehicles_with_visits``, compiled by the ORM), which both the figures and one
# page of lost vehicles read. Three statements of their own (figures, the lost count, the page) would
# each read every vehicle's visits again; the lost count is the figures' base less returned.
OVERVIEW_SQL = """
WITH vehicle AS MATERIALIZED ({vehicles}),
figures AS (
    SELECT make, model, sales_channel, count(*) AS owned,
        count(*) FILTER (WHERE known_since <= %s) AS base,
        count(*) FILTER (WHERE known_since <= %s AND last_visit_at >= %s) AS returned
    FROM vehicle GROUP BY make, model, sales_channel
),
lost AS (
    SELECT id, last_visit_at, coalesce((last_visit_at AT TIME ZONE %s)::date, known_since) AS last_seen_on
    FROM vehicle
    WHERE known_since <= %s AND (last_visit_at IS NULL OR last_visit_at < %s)
    ORDER BY last_seen_on DESC, id DESC LIMIT %s OFFSET %s
)
SELECT make, model, sales_channel, owned, base, returned, NULL::bigint, NULL::timestamptz, NULL::date
FROM figures
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, id, last_visit_at, last_seen_on FROM lost
"""


def retention_overview(
    window: RetentionWindow, *, page_number: int = 1, per_page: int = 25
) -> tuple[RetentionFigures, list[Vehicle]]:
    """The figures and one page of ``lost_vehicles`` (same order, same ``last_visit_at`` and
    ``last_seen_on``, owners joined): one statement over the vehicles, then the page's rows by id."""
    columns = ("id", "make", "model", "sales_channel", "last_visit_at", "known_since")
    inner, inner_params = vehicles_with_visits(window).order_by().values(*columns).query.sql_with_params()
    start = window.cutoff_start
    params = [
        *inner_params,
        *(window.cutoff, window.cutoff, start),
        *(window.dealership.time_zone, window.cutoff, start, per_page, (page_number - 1) * per_page),
    ]
    with connection.cursor() as cursor:
        cursor.execute(OVERVIEW_SQL.replace("{vehicles}", inner), params)
        rows = cursor.fetchall()
    groups = [
        dict(zip(("make", "model", "sales_channel", "owned", "base", "returned"), row[:6], strict=True))
        for row in rows
        if row[6] is None
    ]
    found = {row[6]: (row[7], row[8]) for row in rows if row[6] is not None}
    page = list(Vehicle.objects.filter(pk__in=found).select_related("owner"))
    for vehicle in page:
        vehicle.last_visit_at, vehicle.last_seen_on = found[vehicle.pk]
    page.sort(key=lambda vehicle: (vehicle.last_seen_on, vehicle.pk), reverse=True)
    return _figures(window, groups), page


# --- the win-back segment ---------------------------------------------------------------


def winback_criteria(window: RetentionWindow) -> dict:
    """Segment criteria (``crm.segments``) for the lost customers, as near as they can say it: no visit
    since the cutoff (customers never seen included) and a vehicle bought at least ⌈N / 12⌉ years ago.

    The segment works per customer and by purchase date, so it differs from the lost list in three
    ways: a customer who came back with another car is not called; a lost vehicle without a purchase
    date is not found; and when N is not a whole number of years, cars bought within the rounded-up
    years are left for later (never a customer who is not lost).
    """
    return {
        "visits_since": window.cutoff.isoformat(),
        "visits_max": 0,
        "vehicle_age_min": math.ceil(window.months / 12),
    }


@transaction.atomic
def winback_segment_create(*, actor: User, dealership: Dealership, today: datetime.date | None = None) -> Segment:
    """Save today's win-back segment of the rooftop (saving again the same day updates it), for a
    campaign to call or message; PermissionDenied without ``crm.add_segment`` there."""
    if not user_may(actor, "add", Segment) or dealership.pk not in user_dealership_ids(actor):
        raise PermissionDenied(_("You may not save segments at this dealership."))
    window = retention_window(dealership=dealership, today=today)
    name = _("Win-back %(day)s: no visit for %(months)d months") % {"day": window.today, "months": window.months}
    segment, _created = Segment.objects.update_or_create(
        dealership=dealership,
        name=name[:100],
        defaults={"criteria": winback_criteria(window)},
        create_defaults={"criteria": winback_criteria(window), "created_by": actor},
    )
    return segment

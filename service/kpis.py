"""Service KPIs (DESIGN §6), one function per KPI over the period's counters.

Metrics (counted per rooftop, local day, advisor unless said otherwise):

* ``ro_opened``: repair orders checked in that day, not cancelled; dim ``appointment`` / ``walk_in``.
* ``ro_comeback``: of those, the ones flagged a comeback (back within the rooftop's comeback window).
* ``appointments``: appointments starting that day; dim = their status.
* ``ro_delivered``: orders delivered that day; dim ``on_time`` (delivered by the promised time),
  ``late``, or ``no_promise``; total = hours from check-in to delivery.
* ``ro_discount``: order-level discounts of the orders delivered that day (total, money).
* ``labour_sold``: approved labour lines of the orders delivered that day; total = flat-rate hours.
* ``labour_revenue`` / ``parts_revenue``: approved lines of the orders delivered that day; total =
  amount less the line's discount, before tax (all pay types: warranty and internal work is sold too).
* ``extra_labour`` / ``extra_parts``: additional work decided that day; dim ``approved`` / ``declined``.
* ``clocked``: technicians' finished clock entries started that day, per technician; total = hours.

Definitions of the KPIs are in each function's docstring; a ratio of an empty period is ``None``
(shown as "—").
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count

from crm.choices import Role
from crm.models import BusinessHours, Holiday, User
from crm.retention import rate
from dms.rollups import Facts, metric

from .choices import OPEN_STATUSES, AppointmentStatus
from .models import RepairOrder

RO = "service_repairorder"
RO_DATES = (
    "SELECT x.dealership_id, x.checked_in_at AS ts FROM {rows} x",
    "SELECT x.dealership_id, x.delivered_at AS ts FROM {rows} x",
)
LINE_DELIVERED = (
    "SELECT r.dealership_id, r.delivered_at AS ts FROM {rows} x JOIN service_repairorder r ON r.id = x.repair_order_id"
)
LINE_DECIDED = (
    "SELECT r.dealership_id, x.decided_at AS ts FROM {rows} x JOIN service_repairorder r ON r.id = x.repair_order_id"
)

metric(
    "ro_opened",
    table=RO,
    date="t.checked_in_at",
    staff="t.advisor_id",
    dim="CASE WHEN t.appointment_id IS NULL THEN 'walk_in' ELSE 'appointment' END",
    where="t.status <> 'cancelled'",
    sources={RO: RO_DATES},
)
metric(
    "ro_comeback",
    table=RO,
    date="t.checked_in_at",
    staff="t.advisor_id",
    where="t.status <> 'cancelled' AND t.is_comeback",
    sources={RO: RO_DATES},
)
metric("appointments", table="service_appointment", date="t.starts_at", staff="t.advisor_id", dim="t.status")
metric(
    "ro_delivered",
    table=RO,
    date="t.delivered_at",
    staff="t.advisor_id",
    dim="CASE WHEN t.promised_at IS NULL THEN 'no_promise' WHEN t.delivered_at <= t.promised_at THEN 'on_time' ELSE 'late' END",
    total="sum(extract(epoch FROM t.delivered_at - t.checked_in_at) / 3600)",
    where="t.status = 'delivered'",
    sources={RO: RO_DATES},
)
metric(
    "ro_discount",
    table=RO,
    date="t.delivered_at",
    staff="t.advisor_id",
    total="sum(t.discount_amount)",
    where="t.status = 'delivered'",
    sources={RO: RO_DATES},
)
for _name, _table, _total in (
    ("labour_sold", "service_labourline", "sum(l.hours)"),
    ("labour_revenue", "service_labourline", "sum(l.hours * l.rate - l.discount_amount)"),
    ("parts_revenue", "service_partline", "sum(l.quantity * l.unit_price - l.discount_amount)"),
):
    metric(
        _name,
        table=RO,
        date="t.delivered_at",
        staff="t.advisor_id",
        n="count(l.id)",
        total=_total,
        after=f"JOIN {_table} l ON l.repair_order_id = t.id AND l.status = 'approved'",
        where="t.status = 'delivered'",
        sources={RO: RO_DATES, _table: (LINE_DELIVERED,)},
    )
for _name, _table in (("extra_labour", "service_labourline"), ("extra_parts", "service_partline")):
    metric(
        _name,
        table=_table,
        # the order by its key for each line of the day (OFFSET 0 keeps the planner from reading the
        # rooftop's every order and hashing them instead)
        joins="CROSS JOIN LATERAL (SELECT r.dealership_id, r.advisor_id FROM service_repairorder r"
        " WHERE r.id = t.repair_order_id OFFSET 0) r",
        rooftop="r.dealership_id",
        date="t.decided_at",
        staff="r.advisor_id",
        dim="t.status",
        where="t.is_additional AND t.status IN ('approved', 'declined')",
        sources={_table: (LINE_DECIDED,), RO: RO_DATES},
    )
metric(
    "clocked",
    table="service_timeentry",
    joins="CROSS JOIN LATERAL (SELECT r.dealership_id FROM service_job j JOIN service_repairorder r"
    " ON r.id = j.repair_order_id WHERE j.id = t.job_id OFFSET 0) r",
    rooftop="r.dealership_id",
    date="t.started_at",
    staff="t.technician_id",
    total="sum(extract(epoch FROM t.ended_at - t.started_at) / 3600)",
    where="t.ended_at IS NOT NULL",
    sources={
        "service_timeentry": (
            "SELECT r.dealership_id, x.started_at AS ts FROM {rows} x JOIN service_job j ON j.id = x.job_id "
            "JOIN service_repairorder r ON r.id = j.repair_order_id",
        )
    },
)

METRICS = (
    "ro_opened",
    "ro_comeback",
    "appointments",
    "ro_delivered",
    "ro_discount",
    "labour_sold",
    "labour_revenue",
    "parts_revenue",
    "extra_labour",
    "extra_parts",
    "clocked",
)

CENTS = Decimal("0.01")
TENTHS = Decimal("0.1")



def appointment_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Repair orders opened from an appointment / all repair orders opened."""
    return rate(facts.n("ro_opened", "appointment", staff), facts.n("ro_opened", staff=staff))


def no_show_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Appointments not kept / appointments that came due (kept or not kept); cancelled and moved ones
    are neither."""
    no_show = facts.n("appointments", AppointmentStatus.NO_SHOW, staff)
    return rate(no_show, no_show + facts.n("appointments", AppointmentStatus.ARRIVED, staff))


def ros_opened(facts: Facts, staff: int | None = None) -> int:
    """Repair orders checked in during the period (not cancelled)."""
    return facts.n("ro_opened", staff=staff)


def ros_delivered(facts: Facts, staff: int | None = None) -> int:
    """Repair orders delivered during the period."""
    return facts.n("ro_delivered", staff=staff)


def cycle_time_hours(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Mean hours from check-in to delivery of the orders delivered in the period."""
    return rate(facts.total("ro_delivered", staff=staff), facts.n("ro_delivered", staff=staff), TENTHS)


def on_time_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Orders delivered by their promised time / delivered orders that had a promised time."""
    on_time = facts.n("ro_delivered", "on_time", staff)
    return rate(on_time, on_time + facts.n("ro_delivered", "late", staff))


def first_time_fix_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """1 − comebacks (orders opened in the period within the comeback window of an earlier delivery)
    / orders delivered in the period."""
    delivered = facts.n("ro_delivered", staff=staff)
    share = rate(facts.n("ro_comeback", staff=staff), delivered)
    return None if share is None else max(Decimal("0"), 1 - share)


def labour_hours_sold(facts: Facts, staff: int | None = None) -> Decimal:
    """Flat-rate hours of the approved labour lines of the orders delivered in the period."""
    return facts.total("labour_sold", staff=staff).quantize(CENTS)


def labour_revenue(facts: Facts, staff: int | None = None) -> Decimal:
    """Labour sold on the orders delivered in the period, after line discounts, before tax."""
    return facts.total("labour_revenue", staff=staff).quantize(CENTS)


def parts_revenue(facts: Facts, staff: int | None = None) -> Decimal:
    """Parts sold on the orders delivered in the period, after line discounts, before tax."""
    return facts.total("parts_revenue", staff=staff).quantize(CENTS)


def average_ro_value(facts: Facts, staff: int | None = None) -> Decimal | None:
    """(Labour + parts revenue − order discounts) / orders delivered in the period."""
    net = labour_revenue(facts, staff) + parts_revenue(facts, staff) - facts.total("ro_discount", staff=staff)
    return rate(net, facts.n("ro_delivered", staff=staff), CENTS)


def extra_work_approval_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Additional-work lines the customer approved / those decided (approved or declined) in the period."""
    approved = facts.n("extra_labour", "approved", staff) + facts.n("extra_parts", "approved", staff)
    decided = approved + facts.n("extra_labour", "declined", staff) + facts.n("extra_parts", "declined", staff)
    return rate(approved, decided)


def available_hours(
    dealership_ids: Sequence[int], periods: dict[str, tuple[datetime.date, datetime.date]]
) -> dict[str, dict[int, Decimal]]:
    """Each rooftop's opening hours over each period (business hours, less holidays): one technician's
    available hours. Two queries, whatever the number of periods."""
    hours: dict[int, dict[int, Decimal]] = {rooftop: {} for rooftop in dealership_ids}
    for row in BusinessHours.objects.filter(dealership_id__in=dealership_ids):
        opens = datetime.datetime.combine(datetime.date.min, row.opens_at)
        closes = datetime.datetime.combine(datetime.date.min, row.closes_at)
        hours[row.dealership_id][row.weekday] = Decimal((closes - opens).total_seconds()) / 3600
    holidays = Holiday.objects.filter(
        dealership_id__in=dealership_ids, closed_on__gte=min(p[0] for p in periods.values())
    )
    closed = set(
        holidays.filter(closed_on__lte=max(p[1] for p in periods.values())).values_list("dealership_id", "closed_on")
    )
    out: dict[str, dict[int, Decimal]] = {}
    for label, (first, last) in periods.items():
        out[label] = {}
        for rooftop, by_weekday in hours.items():
            total = Decimal("0")
            day = first
            while day <= last:
                if (rooftop, day) not in closed:
                    total += by_weekday.get(day.weekday(), Decimal("0"))
                day += datetime.timedelta(days=1)
            out[label][rooftop] = total
    return out


def technicians(dealership_ids: Sequence[int]) -> dict[int, set[int]]:
    """The active technicians of each rooftop (a technician of two rooftops is available at both)."""
    out: dict[int, set[int]] = {rooftop: set() for rooftop in dealership_ids}
    rows = User.objects.filter(
        is_active=True, groups__name=Role.TECHNICIAN, dealerships__in=dealership_ids
    ).values_list("dealerships", "pk")
    for rooftop, user_id in rows:
        if rooftop in out:
            out[rooftop].add(user_id)
    return out


def technician_utilisation(
    facts: Facts, available: dict[int, Decimal], staff: dict[int, set[int]], technician: int | None = None
) -> Decimal | None:
    """Hours clocked on jobs / hours available (each technician's rooftop opening hours in the period)."""
    if technician is not None:
        whole = sum((hours for rooftop, hours in available.items() if technician in staff.get(rooftop, ())), Decimal(0))
        return rate(facts.total("clocked", staff=technician), whole)
    whole = sum((hours * len(staff.get(rooftop, ())) for rooftop, hours in available.items()), Decimal(0))
    return rate(facts.total("clocked"), whole)


def work_in_progress(dealership_ids: Sequence[int], advisor: int | None = None) -> dict[str, int]:
    """Open repair orders now, by state (a snapshot, not a period figure). One query on the open-order index."""
    orders = RepairOrder.objects.filter(dealership_id__in=dealership_ids, status__in=OPEN_STATUSES)
    if advisor is not None:
        orders = orders.filter(advisor_id=advisor)
    counts = dict(orders.values_list("status").annotate(count=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in OPEN_STATUSES}

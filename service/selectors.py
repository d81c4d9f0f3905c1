"""What the service pages and API read: every list a bounded number of queries whatever its length."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from . import pricing
from .choices import BOARD_STATUSES, HOLDING_STATUSES, LineStatus, RepairOrderStatus
from .models import Appointment, DeclinedWork, Job, LabourLine, RepairOrder, TimeEntry


def appointment_list(*, user, action: str = "view") -> QuerySet[Appointment]:
    return Appointment.objects.for_user(user, action).select_related("customer", "vehicle", "advisor", "dealership")


def appointments_between(
    *, user, start: datetime.datetime, end: datetime.datetime, advisor_id: int | None = None, dealership_id=None
) -> list[Appointment]:
    rows = appointment_list(user=user).filter(starts_at__gte=start, starts_at__lt=end)
    if advisor_id:
        rows = rows.filter(advisor_id=advisor_id)
    if dealership_id:
        rows = rows.filter(dealership_id=dealership_id)
    return list(rows.order_by("starts_at", "pk"))


def repair_order_list(*, user, action: str = "view") -> QuerySet[RepairOrder]:
    return RepairOrder.objects.for_user(user, action).select_related("customer", "vehicle", "advisor", "dealership")


def _lines_prefetch(photos: bool = False):
    lookups = [
        Prefetch("labour_lines", queryset=LabourLine.objects.select_related("technician").order_by("pk")),
        Prefetch("part_lines"),
    ]
    return [*lookups, "labour_lines__photos", "part_lines__photos"] if photos else lookups


def repair_order_detail(*, user, repair_order_id: int) -> RepairOrder:
    """One order with its lines, jobs and clocked time, checks, payments, events and walk-around, and
    its totals (``order.totals``) and amount paid (``order.paid``)."""
    order = (
        repair_order_list(user=user)
        .select_related("appointment", "updated_by")
        .prefetch_related(
            *_lines_prefetch(photos=True),
            Prefetch(
                "jobs",
                queryset=Job.objects.select_related("technician").prefetch_related(
                    Prefetch("time_entries", queryset=TimeEntry.objects.order_by("started_at"))
                ),
            ),
            "quality_checks__inspector",
            "payments",
            "events__actor",
            "damage_marks",
        )
        .get(pk=repair_order_id)
    )
    attach_totals(order)
    return order


def attach_totals(order: RepairOrder) -> RepairOrder:
    labour, parts = list(order.labour_lines.all()), list(order.part_lines.all())
    for line in labour:
        line.amount, line.decision_key = pricing.labour_amount(line) - line.discount_amount, f"labour:{line.pk}"
    for line in parts:
        line.amount, line.decision_key = pricing.part_amount(line) - line.discount_amount, f"part:{line.pk}"
    order.totals = pricing.totals(order, labour, parts)
    paid = getattr(order, "paid_total", None)
    order.paid = paid if paid is not None else sum((p.amount for p in order.payments.all()), Decimal("0.00"))
    order.balance = order.totals.customer_due - order.paid
    return order


def with_money(orders: QuerySet[RepairOrder], limit: int | None = None) -> list[RepairOrder]:
    """Orders with their totals, for lists: lines and payments in 3 queries whatever the page length."""
    orders = orders.prefetch_related(*_lines_prefetch()).annotate(paid_total=Sum("payments__amount"))
    rows = list(orders[:limit] if limit else orders)
    for order in rows:
        order.paid_total = order.paid_total or Decimal("0.00")
        attach_totals(order)
    return rows


def board(*, user, dealership_id: int | None = None, now: datetime.datetime | None = None) -> dict[str, list]:
    """The workshop board 维修进度看板: open, approved orders by column, with their technicians, hours
    planned and clocked, and ``at_risk`` when the promised time will not hold."""
    now = now or timezone.now()
    rows = repair_order_list(user=user).filter(status__in=BOARD_STATUSES)
    if dealership_id:
        rows = rows.filter(dealership_id=dealership_id)
    rows = rows.prefetch_related(
        Prefetch(
            "jobs",
            queryset=Job.objects.select_related("technician").prefetch_related(
                Prefetch("time_entries", queryset=TimeEntry.objects.order_by("started_at"))
            ),
        ),
        Prefetch("labour_lines", queryset=LabourLine.objects.filter(status=LineStatus.PROPOSED), to_attr="pending"),
    ).order_by("promised_at", "pk")
    columns: dict[str, list] = {status: [] for status in BOARD_STATUSES}
    for order in rows:
        planned = sum((job.planned_hours for job in order.jobs.all()), Decimal("0"))
        clocked = Decimal("0")
        working = []
        for job in order.jobs.all():
            for entry in job.time_entries.all():
                end = entry.ended_at or now
                clocked += Decimal((end - entry.started_at).total_seconds() / 3600).quantize(Decimal("0.01"))
                if entry.ended_at is None:
                    working.append(job.technician)
        order.planned_hours, order.clocked_hours, order.working = planned, clocked, working
        remaining = max(Decimal("0"), planned - clocked) if order.status != RepairOrderStatus.READY else Decimal("0")
        order.late = bool(order.promised_at and order.promised_at < now and order.status != RepairOrderStatus.READY)
        order.at_risk = bool(
            order.promised_at
            and not order.late
            and order.status != RepairOrderStatus.READY
            and (
                now + datetime.timedelta(hours=float(remaining)) > order.promised_at
                or (
                    order.status == RepairOrderStatus.WAITING_PARTS
                    and order.promised_at - now < datetime.timedelta(hours=2)
                )
            )
        )
        columns[order.status].append(order)
    return columns


def vehicle_history(*, user, vehicle_id: int, limit: int = 20) -> list[RepairOrder]:
    return with_money(repair_order_list(user=user).filter(vehicle_id=vehicle_id).order_by("-checked_in_at"), limit)


def customer_history(*, user, customer_id: int, limit: int = 20) -> list[RepairOrder]:
    return with_money(repair_order_list(user=user).filter(customer_id=customer_id).order_by("-checked_in_at"), limit)


def upcoming_appointments(*, user, customer_id=None, vehicle_id=None, limit: int = 10) -> list[Appointment]:
    rows = appointment_list(user=user).filter(status__in=HOLDING_STATUSES, starts_at__gte=timezone.now())
    if customer_id:
        rows = rows.filter(customer_id=customer_id)
    if vehicle_id:
        rows = rows.filter(vehicle_id=vehicle_id)
    return list(rows.order_by("starts_at")[:limit])


def open_declined_work(*, user, vehicle_id: int) -> list[DeclinedWork]:
    return list(
        DeclinedWork.objects.for_user(user)
        .filter(vehicle_id=vehicle_id, recaptured_on__isnull=True)
        .select_related("repair_order")
    )


MAINTENANCE_OPERATION = ("MAINT", "定期保养 / scheduled maintenance", Decimal("1.5"))


def suggestions(order: RepairOrder) -> list[dict]:
    """Work the vehicle's record suggests for this visit: maintenance due by date or mileage, and work
    declined before (to recapture). Each with the reason to tell the customer."""
    vehicle = order.vehicle
    found = []
    today = timezone.localdate(timezone.now(), order.dealership.zone)
    lines = {line.description for line in order.labour_lines.all()}
    due_date = vehicle.next_service_on and vehicle.next_service_on <= today + datetime.timedelta(days=14)
    due_km = vehicle.next_service_km and order.odometer_km >= vehicle.next_service_km - 500
    if (due_date or due_km) and MAINTENANCE_OPERATION[1] not in lines:
        reason = []
        if due_date:
            reason.append(f"{vehicle.next_service_on:%Y-%m-%d}")
        if due_km:
            reason.append(f"{vehicle.next_service_km} km")
        code, description, hours = MAINTENANCE_OPERATION
        found.append({"code": code, "description": description, "hours": hours, "reason": " / ".join(reason)})
    for work in DeclinedWork.objects.filter(vehicle=vehicle, recaptured_on__isnull=True).exclude(repair_order=order):
        if work.description not in lines:
            found.append(
                {
                    "code": "RECAP",
                    "description": work.description,
                    "hours": None,
                    "reason": f"¥{work.amount}",
                    "declined_on": work.recommended_at,
                }
            )
    return found

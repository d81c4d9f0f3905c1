"""Scans that turn what the records say into calls.

* ``scan_maintenance_due`` (daily): vehicles whose next maintenance falls due within two weeks, or
  within 1,000 km, and that are not booked yet, get a proactive appointment call 主动预约; work the
  customer declined on an earlier visit rides along on the call.
* ``scan_no_shows`` (every few minutes): appointments past their slot with no arrival get a care
  call 预约逾时关怀.
* ``scan_birthdays`` (daily): consenting customers get a birthday greeting 生日祝福 on the day.

``followup`` never imports ``service``: the service app plugs in here from its ``AppConfig.ready()``
with ``register_booked_vehicles`` (which vehicles already have an appointment coming),
``register_declined_work`` (what each vehicle's customer declined) and ``register_no_show_source``
(which appointments were missed).
"""

from __future__ import annotations

import calendar as calendar_module
import dataclasses
import datetime
from collections.abc import Callable, Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from crm.choices import Channel, Role
from crm.models import Customer, Dealership, Vehicle

from .calendar import RooftopCalendar
from .choices import FollowUpKind, FollowUpStatus
from .models import FollowUp
from .services import followup_cancel_pending, followup_schedule

MAINTENANCE_LOOKAHEAD = datetime.timedelta(days=14)
MAINTENANCE_KM_MARGIN = 1_000
# A vehicle whose owner was called about maintenance lately (whatever came of it) is left alone.
MAINTENANCE_QUIET = datetime.timedelta(days=30)
CALL_WINDOW = datetime.timedelta(days=2)
CHUNK = 1_000


@dataclasses.dataclass(frozen=True)
class NoShow:
    appointment: models.Model
    customer: Customer
    starts_at: datetime.datetime
    advisor_id: int | None = None
    # Run in the same transaction as the care call: the source records the no-show on its side.
    mark: Callable[[], None] | None = None


booked_vehicle_hooks: list[Callable[[list[int]], set[int]]] = []
declined_work_hooks: list[Callable[[list[int]], dict[int, list[str]]]] = []
no_show_sources: list[Callable[[datetime.datetime], Iterable[NoShow]]] = []


def _register(hooks: list, hook: Callable) -> Callable:
    if hook not in hooks:
        hooks.append(hook)
    return hook


def register_booked_vehicles(hook: Callable[[list[int]], set[int]]) -> Callable:
    """``hook(vehicle_ids)`` returns the ids of those vehicles that already have an appointment coming."""
    return _register(booked_vehicle_hooks, hook)


def register_declined_work(hook: Callable[[list[int]], dict[int, list[str]]]) -> Callable:
    """``hook(vehicle_ids)`` returns, per vehicle id, the work its customer declined and may book now."""
    return _register(declined_work_hooks, hook)


def register_no_show_source(source: Callable[[datetime.datetime], Iterable[NoShow]]) -> Callable:
    """``source(now)`` yields the appointments past their slot with no arrival."""
    return _register(no_show_sources, source)


def maintenance_due_vehicles(*, today: datetime.date, now: datetime.datetime) -> models.QuerySet[Vehicle]:
    """Owned vehicles due by date or by mileage, with no maintenance call in the quiet period."""
    recent_call = FollowUp.objects.filter(
        kind=FollowUpKind.MAINTENANCE_DUE,
        subject_type=ContentType.objects.get_for_model(Vehicle),
        subject_id=OuterRef("pk"),
        created_at__gte=now - MAINTENANCE_QUIET,
    ).exclude(status=FollowUpStatus.CANCELLED)
    return (
        Vehicle.objects.filter(owner__isnull=False)
        .alias(km_left=F("next_service_km") - F("odometer_km"))
        .filter(
            Q(next_service_on__isnull=False, next_service_on__lte=today + MAINTENANCE_LOOKAHEAD)
            | Q(next_service_km__isnull=False, km_left__lte=MAINTENANCE_KM_MARGIN)
        )
        .exclude(Exists(recent_call))
        .order_by("pk")
    )


def scan_maintenance_due(*, now: datetime.datetime | None = None) -> int:
    """Put a proactive appointment call in the queue for every vehicle due and not booked; returns calls made."""
    now = now or timezone.now()
    vehicle_type = ContentType.objects.get_for_model(Vehicle)
    calendars: dict[int, RooftopCalendar] = {}
    created = 0
    due = maintenance_due_vehicles(today=timezone.localdate(now), now=now).select_related("owner", "dealership")
    last_pk = 0
    while True:
        vehicles = list(due.filter(pk__gt=last_pk)[:CHUNK])
        if not vehicles:
            return created
        last_pk = vehicles[-1].pk
        ids = [vehicle.pk for vehicle in vehicles]
        booked = set().union(*(hook(ids) for hook in booked_vehicle_hooks))
        declined: dict[int, list[str]] = {}
        for hook in declined_work_hooks:
            for vehicle_id, items in hook(ids).items():
                declined.setdefault(vehicle_id, []).extend(items)
        rows = []
        for vehicle in vehicles:
            if vehicle.pk in booked:
                continue
            calendar = calendars.setdefault(vehicle.dealership_id, RooftopCalendar.of(vehicle.dealership))
            due_at = calendar.next_contact_time(now, vehicle.owner)
            rows.append(
                FollowUp(
                    dealership_id=vehicle.dealership_id,
                    kind=FollowUpKind.MAINTENANCE_DUE,
                    customer_id=vehicle.owner_id,
                    subject_type=vehicle_type,
                    subject_id=vehicle.pk,
                    due_at=due_at,
                    window_ends_at=due_at + CALL_WINDOW,
                    team=Role.CUSTOMER_SPECIALIST.value,
                    data={
                        "vehicle": str(vehicle),
                        "due_on": vehicle.next_service_on.isoformat() if vehicle.next_service_on else None,
                        "due_km": vehicle.next_service_km,
                        "odometer_km": vehicle.odometer_km,
                        "declined_work": declined.get(vehicle.pk, []),
                    },
                )
            )
        # One live row per (kind, vehicle): a scan that runs twice, or alongside another, adds nothing.
        created += len(FollowUp.objects.bulk_create(rows, ignore_conflicts=True, batch_size=CHUNK))


def scan_no_shows(*, now: datetime.datetime | None = None) -> int:
    """A care call for every missed appointment the registered sources report; returns calls made."""
    now = now or timezone.now()
    made = 0
    for source in no_show_sources:
        for missed in source(now):
            with transaction.atomic():
                made += schedule_no_show_care(missed, now=now)
                if missed.mark is not None:
                    missed.mark()
    return made


def schedule_no_show_care(missed: NoShow, *, now: datetime.datetime) -> int:
    """The care call for one missed appointment, once ever; its confirmation call is moot now."""
    subject_type = ContentType.objects.get_for_model(missed.appointment)
    already = (
        FollowUp.objects.filter(
            kind=FollowUpKind.NO_SHOW_CARE, subject_type=subject_type, subject_id=missed.appointment.pk
        )
        .exclude(status=FollowUpStatus.CANCELLED)
        .exists()
    )
    if already:
        return 0
    followup_cancel_pending(
        subject=missed.appointment,
        kinds=[FollowUpKind.APPOINTMENT_CONFIRMATION, FollowUpKind.APPOINTMENT_REMINDER],
    )
    calendar = RooftopCalendar.of(missed.customer.dealership)
    due_at = calendar.next_contact_time(now, missed.customer)
    followup_schedule(
        kind=FollowUpKind.NO_SHOW_CARE,
        subject=missed.appointment,
        customer=missed.customer,
        due_at=due_at,
        window_ends_at=due_at + datetime.timedelta(days=1),
        team=Role.CUSTOMER_SPECIALIST.value,
        data={"starts_at": missed.starts_at.isoformat(), "responsible_id": missed.advisor_id},
    )
    return 1


def _born_today(today: datetime.date) -> Q:
    """Customers whose birthday is ``today``; those born on 29 February celebrate on the 28th in other years."""
    born = Q(born_on__month=today.month, born_on__day=today.day)
    if today.month == 2 and today.day == 28 and not calendar_module.isleap(today.year):
        born |= Q(born_on__month=2, born_on__day=29)
    return born


def scan_birthdays(*, now: datetime.datetime | None = None) -> int:
    """Daily: a birthday greeting for every consenting customer whose birthday is today at their rooftop,
    due at the first moment of the day inside its hours and the customer's window; returns greetings made.

    The greeting's subject is the customer and its data says ``birthday_year``: a unique index on the two
    (``followup_birthday_once_a_year``) keeps it to once a year, whether the scan runs again or twice at once.
    """
    now = now or timezone.now()
    made = 0
    customer_type = ContentType.objects.get_for_model(Customer)
    for dealership in Dealership.objects.prefetch_related("business_hours", "holidays").order_by("pk"):
        today = timezone.localdate(now, dealership.zone)
        greeted = FollowUp.objects.filter(
            kind=FollowUpKind.GREETING, customer=OuterRef("pk"), data__birthday_year=today.year
        )
        customers = (
            Customer.objects.filter(_born_today(today), dealership=dealership, marketing_consent=True)
            .filter(~Q(mobile="") | Q(preferred_channel=Channel.EMAIL, email__gt=""))
            .exclude(Exists(greeted))
            .order_by("pk")
        )
        calendar = RooftopCalendar.of(dealership)
        start = max(now, datetime.datetime.combine(today, datetime.time.min, tzinfo=calendar.zone))
        last_pk = 0
        while True:
            batch = list(customers.filter(pk__gt=last_pk)[:CHUNK])
            if not batch:
                break
            last_pk = batch[-1].pk
            rows = [
                FollowUp(
                    dealership=dealership,
                    kind=FollowUpKind.GREETING,
                    customer=customer,
                    subject_type=customer_type,
                    subject_id=customer.pk,
                    due_at=calendar.next_contact_time(start, customer),
                    data={"occasion": "birthday", "birthday_year": today.year},
                )
                for customer in batch
            ]
            FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
            made += len(rows)
    return made

"""The service process as functions: book, check in, estimate, approve, dispatch, clock, check, settle,
deliver. Each runs in one transaction, checks the actor's role and rooftop, and raises
``ValidationError`` for bad data (400) or ``dms.errors.Conflict`` when the order's state forbids the
step (409); nothing is half-applied. The follow-ups they promise go through ``followup.services``."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import Role, SurveyKind
from crm.loyalty import points_award
from crm.models import Customer, Dealership, User, Vehicle
from crm.querysets import user_dealership_ids
from crm.services import odometer_record
from dms.errors import Conflict
from followup import services as followup
from followup.calendar import RooftopCalendar

from . import photos, pricing
from .choices import (
    HOLDING_STATUSES,
    AppointmentStatus,
    ApprovalChannel,
    LineStatus,
    PaymentMethod,
    PayType,
    RepairOrderStatus,
    ServiceType,
)
from .models import (
    Appointment,
    DamageMark,
    DeclinedWork,
    Job,
    LabourLine,
    LinePhoto,
    Part,
    PartLine,
    Payment,
    QualityCheck,
    RepairOrder,
    RepairOrderCounter,
    RepairOrderEvent,
    ServiceSettings,
    StockMovement,
    TimeEntry,
)

S = RepairOrderStatus
FRONT_DESK = (Role.SERVICE_ADVISOR, Role.MANAGER, Role.ADMINISTRATOR)
WORKSHOP = (Role.TECHNICIAN, Role.SERVICE_ADVISOR, Role.MANAGER, Role.ADMINISTRATOR)
NEXT_FREE_SLOTS = 3


def _require(actor: User, roles, what: str) -> None:
    if not actor.has_role(*roles):
        raise PermissionDenied(_("Your role may not %(what)s.") % {"what": what})


def _rooftop(actor: User, dealership: Dealership) -> None:
    if dealership.pk not in user_dealership_ids(actor):
        raise PermissionDenied(_("You do not work at this dealership."))


# --- appointments ----------------------------------------------------------------------------


def _slot_bounds(settings: ServiceSettings, calendar: RooftopCalendar, starts_at: datetime.datetime):
    local = starts_at.astimezone(calendar.zone)
    minutes = local.hour * 60 + local.minute
    if local.second or local.microsecond or minutes % settings.slot_minutes:
        raise ValidationError(
            {"starts_at": _("Appointments start on a %(minutes)s-minute slot.") % {"minutes": settings.slot_minutes}}
        )
    ends_at = starts_at + datetime.timedelta(minutes=settings.slot_minutes)
    window = calendar.window(local.date(), None)
    if window is None or starts_at < window[0] or ends_at > window[1]:
        raise ValidationError({"starts_at": _("The workshop is closed at that time.")})
    return starts_at, ends_at


def _held(dealership_id: int, starts_at, ends_at, exclude_pk=None) -> int:
    rows = Appointment.objects.filter(
        dealership_id=dealership_id, status__in=HOLDING_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    return rows.count()


def next_free_slots(
    *, dealership: Dealership, after: datetime.datetime, count: int = NEXT_FREE_SLOTS, days: int = 14
) -> list[datetime.datetime]:
    """The next ``count`` slot starts at or after ``after`` with a bay free, inside business hours."""
    settings = ServiceSettings.of(dealership)
    calendar = RooftopCalendar.of(dealership)
    step = datetime.timedelta(minutes=settings.slot_minutes)
    local_day = after.astimezone(calendar.zone).date()
    held = {}
    horizon_end = after + datetime.timedelta(days=days + 1)
    for start, end in Appointment.objects.filter(
        dealership=dealership, status__in=HOLDING_STATUSES, starts_at__lt=horizon_end, ends_at__gt=after
    ).values_list("starts_at", "ends_at"):
        cursor = start
        while cursor < end:
            held[cursor] = held.get(cursor, 0) + 1
            cursor += step
    found = []
    for offset in range(days + 1):
        window = calendar.window(local_day + datetime.timedelta(days=offset), None)
        if window is None:
            continue
        slot = window[0]
        while slot + step <= window[1] and len(found) < count:
            if slot >= after and held.get(slot, 0) < settings.bays:
                found.append(slot)
            slot += step
        if len(found) >= count:
            break
    return found


def _lock_slot(dealership_id: int, starts_at: datetime.datetime) -> None:
    """Serialise bookings of one rooftop's slot (a transaction-scoped advisory lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [dealership_id, int(starts_at.timestamp() // 60)])


def _check_capacity(settings, dealership, starts_at, ends_at, exclude_pk=None) -> None:
    _lock_slot(dealership.pk, starts_at)
    if _held(dealership.pk, starts_at, ends_at, exclude_pk) >= settings.bays:
        offers = next_free_slots(dealership=dealership, after=starts_at)
        zone = dealership.zone
        raise ValidationError(
            {
                "starts_at": _("Every bay is booked at that time. Next free: %(slots)s.")
                % {"slots": ", ".join(slot.astimezone(zone).strftime("%m-%d %H:%M") for slot in offers) or "—"}
            },
            code="full",
        )


@transaction.atomic
def appointment_book(
    *,
    actor: User,
    vehicle: Vehicle,
    starts_at: datetime.datetime,
    service_type: str,
    customer: Customer | None = None,
    advisor: User | None = None,
    concern: str = "",
    parts_to_reserve: str = "",
) -> Appointment:
    """Book a slot for a vehicle; a full slot is refused with the next free ones offered. The reminder
    and the confirmation call are promised in the same transaction."""
    _require(actor, (*FRONT_DESK, Role.CUSTOMER_SPECIALIST), _("book appointments"))
    dealership = vehicle.dealership
    _rooftop(actor, dealership)
    customer = customer or vehicle.owner
    errors = {}
    if customer is None or customer.dealership_id != dealership.pk:
        errors["customer"] = _("Choose the customer of this dealership who brings the car.")
    if service_type not in ServiceType.values:
        errors["service_type"] = _("Choose maintenance, repair or quick service.")
    if starts_at <= timezone.now():
        errors["starts_at"] = _("Choose a time in the future.")
    if advisor is not None and not advisor.dealerships.filter(pk=dealership.pk).exists():
        errors["advisor"] = _("This advisor does not work at this dealership.")
    if errors:
        raise ValidationError(errors)
    settings = ServiceSettings.of(dealership)
    starts_at, ends_at = _slot_bounds(settings, RooftopCalendar.of(dealership), starts_at)
    _check_capacity(settings, dealership, starts_at, ends_at)
    appointment = Appointment.objects.create(
        dealership=dealership,
        customer=customer,
        vehicle=vehicle,
        advisor=advisor,
        service_type=service_type,
        starts_at=starts_at,
        ends_at=ends_at,
        concern=concern.strip(),
        parts_to_reserve=parts_to_reserve.strip(),
        created_by=actor,
    )
    followup.schedule_for_appointment(appointment=appointment, customer=customer, starts_at=starts_at)
    return appointment


def _appointment_for_change(actor: User, appointment_id: int, version: int | None) -> Appointment:
    _require(actor, (*FRONT_DESK, Role.CUSTOMER_SPECIALIST), _("change appointments"))
    appointment = (
        Appointment.objects.for_user(actor, "change")
        .select_for_update(of=("self",))
        .select_related("dealership", "customer")
        .get(pk=appointment_id)
    )
    if version is not None and version != appointment.version:
        raise Conflict(
            _("This appointment was changed at %(time)s; reload and try again.")
            % {"time": timezone.localtime(appointment.updated_at).strftime("%H:%M:%S")}
        )
    return appointment


@transaction.atomic
def appointment_reschedule(
    *, actor: User, appointment_id: int, starts_at: datetime.datetime, version: int | None = None
) -> Appointment:
    """Move a booking: the old one is kept as 'rescheduled', pointing at the new one; reminders move."""
    old = _appointment_for_change(actor, appointment_id, version)
    if old.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
        raise Conflict(_("A %(status)s appointment cannot be moved.") % {"status": old.get_status_display()})
    old.status = AppointmentStatus.RESCHEDULED
    old.version += 1
    old.save(update_fields=["status", "version", "updated_at"])
    followup.appointment_cancelled(appointment=old)
    new = appointment_book(
        actor=actor,
        vehicle=old.vehicle,
        customer=old.customer,
        starts_at=starts_at,
        service_type=old.service_type,
        advisor=old.advisor,
        concern=old.concern,
        parts_to_reserve=old.parts_to_reserve,
    )
    old.rescheduled_to = new
    old.save(update_fields=["rescheduled_to"])
    return new


@transaction.atomic
def appointment_set_status(*, actor: User, appointment_id: int, status: str, version: int | None = None) -> Appointment:
    """Confirm or cancel a booking; cancelling frees the bay and drops its reminders."""
    appointment = _appointment_for_change(actor, appointment_id, version)
    allowed = {
        AppointmentStatus.CONFIRMED: (AppointmentStatus.BOOKED,),
        AppointmentStatus.CANCELLED: (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED),
    }
    if status not in allowed:
        raise ValidationError({"status": _("Confirm or cancel; arrival is recorded at check-in.")})
    if appointment.status not in allowed[status]:
        raise Conflict(
            _("A %(status)s appointment cannot be %(target)s.")
            % {"status": appointment.get_status_display(), "target": AppointmentStatus(status).label.lower()}
        )
    appointment.status = status
    appointment.version += 1
    appointment.save(update_fields=["status", "version", "updated_at"])
    if status == AppointmentStatus.CANCELLED:
        followup.appointment_cancelled(appointment=appointment)
    return appointment


# --- check-in and the repair order -----------------------------------------------------------


def _next_number(dealership: Dealership, year: int) -> tuple[int, str]:
    """The next gap-free number of ``dealership`` in ``year``: the counter row is locked until commit."""
    RepairOrderCounter.objects.get_or_create(dealership=dealership, year=year)
    counter = RepairOrderCounter.objects.select_for_update().get(dealership=dealership, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last, f"{dealership.code}-{year}-{counter.last:06d}"


def is_comeback(vehicle: Vehicle, *, now: datetime.datetime, days: int) -> bool:
    return RepairOrder.objects.filter(
        vehicle=vehicle, status=S.DELIVERED, delivered_at__gte=now - datetime.timedelta(days=days)
    ).exists()


def _event(repair_order: RepairOrder, actor: User, from_status: str, to_status: str, note: str = "") -> None:
    RepairOrderEvent.objects.create(
        repair_order=repair_order, actor=actor, from_status=from_status, to_status=to_status, note=note
    )


@transaction.atomic
def repair_order_open(
    *,
    actor: User,
    vehicle: Vehicle,
    concern: str,
    odometer_km: int,
    service_type: str = ServiceType.REPAIR,
    customer: Customer | None = None,
    appointment: Appointment | None = None,
    odometer_correction_reason: str = "",
    fuel_level: int = 50,
    valuables: str = "",
    warning_lights: str = "",
    pay_type: str = PayType.CUSTOMER,
    promised_at: datetime.datetime | None = None,
) -> RepairOrder:
    """Check a vehicle in 接车: an arriving appointment or a walk-in. Records the walk-around and the
    odometer (below the last reading only as a correction with a reason), flags a comeback 返修, and
    numbers the order."""
    _require(actor, FRONT_DESK, _("check vehicles in"))
    dealership = vehicle.dealership
    _rooftop(actor, dealership)
    now = timezone.now()
    customer = customer or (appointment.customer if appointment else vehicle.owner)
    errors: dict[str, Any] = {}
    if customer is None or customer.dealership_id != dealership.pk:
        errors["customer"] = _("Choose the customer of this dealership who brings the car.")
    if not concern.strip():
        errors["concern"] = _("Write down the customer's concern in their own words.")
    if service_type not in ServiceType.values:
        errors["service_type"] = _("Choose maintenance, repair or quick service.")
    if pay_type not in PayType.values:
        errors["pay_type"] = _("Choose warranty, customer pay or internal.")
    if not 0 <= fuel_level <= 100:
        errors["fuel_level"] = _("Fuel level is 0 to 100%.")
    if promised_at is not None and promised_at <= now:
        errors["promised_at"] = _("The promised time must be in the future.")
    if appointment is not None:
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.vehicle_id != vehicle.pk:
            errors["appointment"] = _("This appointment is for another vehicle.")
        elif appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            errors["appointment"] = _("This appointment is %(status)s.") % {"status": appointment.get_status_display()}
    if errors:
        raise ValidationError(errors)
    if vehicle.odometer_km is None or odometer_km != vehicle.odometer_km:
        try:
            odometer_record(
                actor=actor,
                vehicle_id=vehicle.pk,
                reading_km=odometer_km,
                read_on=timezone.localdate(now, dealership.zone),
                correction_reason=odometer_correction_reason,
            )
        except ValidationError as error:
            raise ValidationError({"odometer_km": error.message_dict.get("reading_km", error.messages)}) from None
    settings = ServiceSettings.of(dealership)
    year = timezone.localtime(now, dealership.zone).year
    sequence, number = _next_number(dealership, year)
    repair_order = RepairOrder.objects.create(
        dealership=dealership,
        number=number,
        year=year,
        sequence=sequence,
        customer=customer,
        vehicle=vehicle,
        appointment=appointment,
        advisor=actor if actor.has_role(Role.SERVICE_ADVISOR) else (appointment.advisor if appointment else None),
        service_type=service_type,
        pay_type=pay_type,
        is_comeback=is_comeback(vehicle, now=now, days=settings.comeback_days),
        odometer_km=odometer_km,
        fuel_level=fuel_level,
        valuables=valuables.strip(),
        warning_lights=warning_lights.strip(),
        concern=concern.strip(),
        promised_at=promised_at,
        tax_rate=settings.tax_rate,
        checked_in_at=now,
        created_by=actor,
        updated_by=actor,
    )
    if appointment is not None:
        Appointment.objects.filter(pk=appointment.pk).update(
            status=AppointmentStatus.ARRIVED, version=F("version") + 1, updated_at=now
        )
        followup.followup_cancel_pending(subject=appointment)  # here already: no confirmation call
    _event(repair_order, actor, "", S.ESTIMATE)
    return repair_order


def _order_for_change(actor: User, repair_order_id: int, version: int | None = None) -> RepairOrder:
    repair_order = (
        RepairOrder.objects.for_user(actor, "change")
        .select_for_update(of=("self",))
        .select_related("dealership", "customer", "vehicle", "updated_by")
        .get(pk=repair_order_id)
    )
    if version is not None and version != repair_order.version:
        raise Conflict(
            _("%(user)s changed this repair order at %(time)s; reload to see their change.")
            % {
                "user": repair_order.updated_by or _("someone"),
                "time": timezone.localtime(repair_order.updated_at, repair_order.dealership.zone).strftime("%H:%M:%S"),
            },
            code="stale",
        )
    return repair_order


def _save(repair_order: RepairOrder, actor: User, *fields: str) -> None:
    repair_order.version += 1
    repair_order.updated_by = actor
    repair_order.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def _move(repair_order: RepairOrder, actor: User, to_status: str, *fields: str, note: str = "") -> None:
    from_status = repair_order.status
    repair_order.status = to_status
    _save(repair_order, actor, "status", *fields)
    _event(repair_order, actor, from_status, to_status, note)


def _illegal(repair_order: RepairOrder, action: str) -> Conflict:
    return Conflict(
        _("A repair order that is '%(status)s' cannot %(action)s.")
        % {"status": repair_order.get_status_display(), "action": action},
        code="illegal_transition",
    )


EDITABLE = (S.ESTIMATE, S.APPROVED, S.IN_PROGRESS, S.WAITING_PARTS)


@transaction.atomic
def repair_order_update(*, actor: User, repair_order_id: int, data: dict[str, Any], version: int | None) -> RepairOrder:
    """Edit the order's terms (promised time, payment method, old parts, wash, discount, diagnosis)."""
    _require(actor, FRONT_DESK, _("edit repair orders"))
    repair_order = _order_for_change(actor, repair_order_id, version)
    if repair_order.status not in EDITABLE:
        raise _illegal(repair_order, _("be edited"))
    fields = ("promised_at", "payment_method", "old_parts", "free_wash", "discount_amount", "diagnosis", "pay_type")
    changed = [name for name in fields if name in data and getattr(repair_order, name) != data[name]]
    if "promised_at" in changed and data["promised_at"] is not None and data["promised_at"] <= timezone.now():
        raise ValidationError({"promised_at": _("The promised time must be in the future.")})
    for name in changed:
        setattr(repair_order, name, data[name])
    try:
        repair_order.full_clean(exclude=["customer", "vehicle", "dealership", "appointment", "advisor"])
    except ValidationError as error:
        raise ValidationError({k: v for k, v in error.message_dict.items() if k in fields} or error.messages) from None
    if changed:
        _save(repair_order, actor, *changed)
    return repair_order


# --- lines, approval and additional work --------------------------------------------------------


def _is_within_tolerance(repair_order: RepairOrder, amount: Decimal, promised_at) -> bool:
    settings = ServiceSettings.of(repair_order.dealership)
    if amount > settings.approval_tolerance_amount:
        return False
    if promised_at is None or repair_order.promised_at is None:
        return True
    return promised_at - repair_order.promised_at <= datetime.timedelta(minutes=settings.approval_tolerance_minutes)


def _add_line(actor, repair_order, line, *, promised_at=None) -> None:
    """Lines on an estimate are part of it; after approval they are additional work 追加项目: pending the
    customer's answer, unless within the agreed tolerance (then approved, recorded as implied)."""
    if repair_order.status not in EDITABLE:
        raise _illegal(repair_order, _("take new lines"))
    line.repair_order = repair_order
    line.added_by = actor
    if repair_order.status != S.ESTIMATE:
        line.is_additional = True
        amount = (pricing.labour_amount(line) if isinstance(line, LabourLine) else pricing.part_amount(line)) - (
            line.discount_amount
        )
        if _is_within_tolerance(repair_order, amount, promised_at):
            line.status = LineStatus.APPROVED
            line.decided_channel = ApprovalChannel.IMPLIED
            line.decided_at = timezone.now()
            line.decided_by_name = _("within the agreed tolerance")
        else:
            line.status = LineStatus.PROPOSED
    try:
        line.full_clean(exclude=["repair_order", "part", "technician", "added_by"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    line.save()
    _save(repair_order, actor)


@transaction.atomic
def labour_line_add(
    *,
    actor: User,
    repair_order_id: int,
    operation_code: str,
    description: str,
    hours: Decimal,
    pay_type: str = "",
    discount_amount: Decimal = pricing.ZERO,
    technician: User | None = None,
    note: str = "",
    version: int | None = None,
) -> LabourLine:
    _require(actor, WORKSHOP, _("add work to repair orders"))
    repair_order = _order_for_change(actor, repair_order_id, version)
    if technician is not None and (
        not technician.has_role(Role.TECHNICIAN)
        or not technician.dealerships.filter(pk=repair_order.dealership_id).exists()
    ):
        raise ValidationError({"technician": _("Choose a technician of this dealership.")})
    line = LabourLine(
        operation_code=operation_code.strip(),
        description=description.strip(),
        hours=hours,
        rate=repair_order.dealership.labour_rate_amount,
        pay_type=pay_type or repair_order.pay_type,
        discount_amount=discount_amount,
        technician=technician,
        note=note,
    )
    _add_line(actor, repair_order, line)
    return line


@transaction.atomic
def part_line_add(
    *,
    actor: User,
    repair_order_id: int,
    part_number: str,
    quantity: Decimal,
    description: str = "",
    unit_price: Decimal | None = None,
    pay_type: str = "",
    discount_amount: Decimal = pricing.ZERO,
    note: str = "",
    version: int | None = None,
) -> PartLine:
    """A parts line; a catalogue part brings its description and price and says whether it is in stock."""
    _require(actor, WORKSHOP, _("add parts to repair orders"))
    repair_order = _order_for_change(actor, repair_order_id, version)
    part = Part.objects.filter(dealership=repair_order.dealership, part_number=part_number.strip().upper()).first()
    if part is None and (unit_price is None or not description.strip()):
        raise ValidationError(
            {
                "part_number": _("%(number)s is not in the catalogue: give its description and price.")
                % {"number": part_number}
            }
        )
    line = PartLine(
        part=part,
        part_number=part.part_number if part else part_number.strip().upper(),
        description=description.strip() or part.description,
        quantity=quantity,
        unit_price=unit_price if unit_price is not None else part.unit_price,
        pay_type=pay_type or repair_order.pay_type,
        discount_amount=discount_amount,
        to_order=part is None or part.stock_on_hand < quantity,
        note=note,
    )
    _add_line(actor, repair_order, line)
    return line


@transaction.atomic
def repair_order_approve(
    *, actor: User, repair_order_id: int, approved_by_name: str, channel: str, version: int | None = None
) -> RepairOrder:
    """The customer approves the estimate (name, time, channel): only then may work start."""
    _require(actor, FRONT_DESK, _("record the customer's approval"))
    repair_order = _order_for_change(actor, repair_order_id, version)
    if repair_order.status != S.ESTIMATE:
        raise _illegal(repair_order, _("be approved"))
    errors = {}
    if not approved_by_name.strip():
        errors["approved_by_name"] = _("Who approved it? Their name as they signed.")
    if channel not in (ApprovalChannel.IN_PERSON, ApprovalChannel.PHONE, ApprovalChannel.LINK):
        errors["channel"] = _("How did the customer approve: in person, by phone or by the link?")
    if not repair_order.labour_lines.exists() and not repair_order.part_lines.exists():
        errors["__all__"] = _("Add the work to the estimate before asking for approval.")
    if errors:
        raise ValidationError(errors)
    repair_order.approved_by_name = approved_by_name.strip()
    repair_order.approved_at = timezone.now()
    repair_order.approval_channel = channel
    _move(repair_order, actor, S.APPROVED, "approved_by_name", "approved_at", "approval_channel")
    return repair_order


@transaction.atomic
def additional_work_decide(
    *,
    actor: User | None,
    repair_order_id: int,
    decisions: dict[str, bool],
    decided_by_name: str,
    channel: str,
    promised_at: datetime.datetime | None = None,
    version: int | None = None,
) -> RepairOrder:
    """Record the customer's answer to pending lines ("labour:12" / "part:7" → approved?). A declined
    line is kept by name on the vehicle, to be offered again."""
    if actor is not None:
        _require(actor, FRONT_DESK, _("record the customer's decision"))
        repair_order = _order_for_change(actor, repair_order_id, version)
    else:  # the customer, through a signed approval link
        repair_order = (
            RepairOrder.objects.select_for_update(of=("self",)).select_related("dealership").get(pk=repair_order_id)
        )
    if repair_order.status not in EDITABLE or repair_order.status == S.ESTIMATE:
        raise _illegal(repair_order, _("take decisions on additional work"))
    if not decided_by_name.strip() or channel not in (
        ApprovalChannel.IN_PERSON,
        ApprovalChannel.PHONE,
        ApprovalChannel.LINK,
    ):
        raise ValidationError({"decided_by_name": _("Who decided, and how?")})
    if not decisions:
        raise ValidationError({"decisions": _("Approve or decline at least one line.")})
    pending = {
        **{f"labour:{line.pk}": line for line in repair_order.labour_lines.filter(status=LineStatus.PROPOSED)},
        **{f"part:{line.pk}": line for line in repair_order.part_lines.filter(status=LineStatus.PROPOSED)},
    }
    unknown = set(decisions) - set(pending)
    if unknown or not decisions:
        raise Conflict(_("These lines are not awaiting a decision: %(lines)s.") % {"lines": ", ".join(sorted(unknown))})
    now = timezone.now()
    for key, approved in decisions.items():
        line = pending[key]
        line.status = LineStatus.APPROVED if approved else LineStatus.DECLINED
        line.decided_by_name, line.decided_at, line.decided_channel = decided_by_name.strip(), now, channel
        line.save(update_fields=["status", "decided_by_name", "decided_at", "decided_channel"])
        if not approved:
            amount = (
                pricing.labour_amount(line) if isinstance(line, LabourLine) else pricing.part_amount(line)
            ) - line.discount_amount
            DeclinedWork.objects.create(
                dealership=repair_order.dealership,
                vehicle_id=repair_order.vehicle_id,
                repair_order=repair_order,
                description=line.description,
                amount=pricing.cents(amount * (1 + repair_order.tax_rate)),
                recommended_at=line.created_at,
            )
    fields = []
    if promised_at is not None:
        repair_order.promised_at = promised_at
        fields.append("promised_at")
    _save(repair_order, actor, *fields) if actor else repair_order.save(update_fields=[*fields, "updated_at"])
    return repair_order


# --- workshop ----------------------------------------------------------------------------


@transaction.atomic
def job_dispatch(*, actor: User, repair_order_id: int, technician: User, planned_hours: Decimal, bay: str = "") -> Job:
    """派工: give the work to a technician (and a bay)."""
    _require(actor, FRONT_DESK, _("dispatch jobs"))
    repair_order = _order_for_change(actor, repair_order_id)
    if repair_order.status in (S.DELIVERED, S.CANCELLED, S.READY):
        raise _illegal(repair_order, _("be dispatched"))
    if (
        not technician.has_role(Role.TECHNICIAN)
        or not technician.dealerships.filter(pk=repair_order.dealership_id).exists()
    ):
        raise ValidationError({"technician": _("Choose a technician of this dealership.")})
    if planned_hours <= 0:
        raise ValidationError({"planned_hours": _("Plan more than zero hours.")})
    job = Job.objects.create(repair_order=repair_order, technician=technician, planned_hours=planned_hours, bay=bay)
    _save(repair_order, actor)
    return job


@transaction.atomic
def clock_on(*, actor: User, job_id: int) -> TimeEntry:
    """A technician starts work on their job; the order must be approved; one open job per technician."""
    job = Job.objects.filter(pk=job_id, repair_order__dealership_id__in=user_dealership_ids(actor)).first()
    if job is None:
        raise Job.DoesNotExist
    if job.technician_id != actor.pk:
        raise PermissionDenied(_("This job is dispatched to another technician."))
    repair_order = _order_for_change(actor, job.repair_order_id)
    if repair_order.status not in (S.APPROVED, S.IN_PROGRESS, S.WAITING_PARTS):
        raise _illegal(
            repair_order,
            _("be worked on (the customer has not approved it yet)")
            if repair_order.status == S.ESTIMATE
            else _("be worked on"),
        )
    try:
        with transaction.atomic():
            entry = TimeEntry.objects.create(job=job, technician=actor, started_at=timezone.now())
    except IntegrityError:
        raise Conflict(_("You are clocked on another job: clock off there first.")) from None
    if repair_order.status != S.IN_PROGRESS:
        _move(repair_order, actor, S.IN_PROGRESS)
    return entry


@transaction.atomic
def clock_off(*, actor: User, job_id: int) -> TimeEntry:
    entry = TimeEntry.objects.select_for_update().filter(job_id=job_id, technician=actor, ended_at__isnull=True).first()
    if entry is None:
        raise Conflict(_("You are not clocked on this job."))
    entry.ended_at = timezone.now()
    entry.save(update_fields=["ended_at"])
    return entry


@transaction.atomic
def repair_order_transition(
    *, actor: User, repair_order_id: int, to_status: str, version: int | None = None, note: str = ""
) -> RepairOrder:
    """The workshop's moves: waiting for parts and back, work done → quality check, cancel.
    Approval, quality results and delivery have their own functions."""
    repair_order = _order_for_change(actor, repair_order_id, version)
    moves = {
        S.WAITING_PARTS: ((S.IN_PROGRESS,), WORKSHOP),
        S.IN_PROGRESS: ((S.WAITING_PARTS,), WORKSHOP),
        S.QUALITY_CHECK: ((S.IN_PROGRESS,), WORKSHOP),
        S.CANCELLED: ((S.ESTIMATE, S.APPROVED), FRONT_DESK),
    }
    if to_status not in moves:
        raise ValidationError({"to_status": _("Use the approval, quality check or delivery step for that.")})
    sources, roles = moves[to_status]
    _require(actor, roles, _("move repair orders to '%(status)s'") % {"status": S(to_status).label})
    if repair_order.status not in sources:
        raise _illegal(repair_order, _("go to '%(status)s'") % {"status": S(to_status).label})
    if to_status == S.QUALITY_CHECK:
        TimeEntry.objects.filter(job__repair_order=repair_order, ended_at__isnull=True).update(ended_at=timezone.now())
    _move(repair_order, actor, to_status, note=note)
    return repair_order


@transaction.atomic
def quality_check_record(*, actor: User, repair_order_id: int, passed: bool, reason: str = "") -> RepairOrder:
    """质检: pass → ready (the customer is told); fail with a reason → back to repair, counted as rework."""
    _require(actor, (Role.SERVICE_ADVISOR, Role.MANAGER, Role.ADMINISTRATOR), _("record quality checks"))
    repair_order = _order_for_change(actor, repair_order_id)
    if repair_order.status != S.QUALITY_CHECK:
        raise _illegal(repair_order, _("be quality-checked"))
    if not passed and not reason.strip():
        raise ValidationError({"reason": _("Say what failed, for the technician.")})
    QualityCheck.objects.create(repair_order=repair_order, inspector=actor, passed=passed, reason=reason.strip())
    if not passed:
        repair_order.rework_count += 1
        _move(repair_order, actor, S.IN_PROGRESS, "rework_count", note=reason.strip())
        return repair_order
    repair_order.ready_at = timezone.now()
    _move(repair_order, actor, S.READY, "ready_at")
    total = pricing.totals(repair_order).customer_due
    followup.notify_vehicle_ready(
        subject=repair_order,
        customer=repair_order.customer,
        data={"number": repair_order.number, "total": f"¥{total}"},
    )
    return repair_order


# --- parts stock ------------------------------------------------------------------------------


@transaction.atomic
def part_issue(*, actor: User, part_line_id: int, quantity: Decimal | None = None) -> PartLine:
    """Issue stock to an order's approved parts line; stock never goes below zero, silently or not."""
    _require(actor, WORKSHOP, _("issue parts"))
    line = (
        PartLine.objects.select_for_update(of=("self",))
        .select_related("repair_order", "part")
        .get(pk=part_line_id, repair_order__dealership_id__in=user_dealership_ids(actor))
    )
    _order_for_change(actor, line.repair_order_id)  # the change permission, the order's lock, its version
    if line.repair_order.status not in (S.APPROVED, S.IN_PROGRESS, S.WAITING_PARTS):
        raise _illegal(line.repair_order, _("take parts from stock"))
    quantity = quantity if quantity is not None else line.quantity - line.issued_quantity
    if line.part is None:
        raise ValidationError({"part": _("This part is not in the catalogue; receive it into stock first.")})
    if line.status != LineStatus.APPROVED:
        raise Conflict(_("Only approved lines take parts from stock."))
    if quantity <= 0 or line.issued_quantity + quantity > line.quantity:
        raise ValidationError({"quantity": _("Issue between 0 and the line's open quantity.")})
    taken = Part.objects.filter(pk=line.part_id, stock_on_hand__gte=quantity).update(
        stock_on_hand=F("stock_on_hand") - quantity
    )
    if not taken:
        on_hand = Part.objects.get(pk=line.part_id).stock_on_hand
        raise ValidationError(
            {"quantity": _("Only %(on_hand)s in stock; order the rest.") % {"on_hand": on_hand}}, code="stock"
        )
    StockMovement.objects.create(
        part_id=line.part_id, quantity=-quantity, repair_order=line.repair_order, actor=actor, reason="issue"
    )
    line.issued_quantity += quantity
    line.to_order = False
    line.save(update_fields=["issued_quantity", "to_order"])
    _save(line.repair_order, actor)
    return line


# --- settlement and delivery --------------------------------------------------------------------


def amount_paid(repair_order: RepairOrder) -> Decimal:
    return repair_order.payments.aggregate(total=Sum("amount"))["total"] or pricing.ZERO


@transaction.atomic
def payment_record(*, actor: User, repair_order_id: int, amount: Decimal, method: str) -> Payment:
    _require(actor, FRONT_DESK, _("take payments"))
    repair_order = _order_for_change(actor, repair_order_id)
    if repair_order.status != S.READY:
        raise _illegal(repair_order, _("be paid yet"))
    due = pricing.totals(repair_order).customer_due - amount_paid(repair_order)
    if due <= 0:
        raise Conflict(_("Nothing is due on this order."))
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("Choose how the customer paid.")})
    if amount <= 0 or amount > due:
        raise ValidationError({"amount": _("Take between ¥0.01 and the ¥%(due)s still due.") % {"due": due}})
    payment = Payment.objects.create(repair_order=repair_order, amount=amount, method=method, received_by=actor)
    if amount == due:
        repair_order.paid_at = timezone.now()
        _save(repair_order, actor, "paid_at")
    return payment


@transaction.atomic
def repair_order_deliver(
    *,
    actor: User,
    repair_order_id: int,
    next_service_on: datetime.date | None = None,
    next_service_km: int | None = None,
    version: int | None = None,
) -> RepairOrder:
    """交车: only a checked, paid order. Sets the vehicle's next maintenance and promises the 2-day call."""
    _require(actor, FRONT_DESK, _("deliver vehicles"))
    repair_order = _order_for_change(actor, repair_order_id, version)
    if repair_order.status != S.READY:
        raise _illegal(repair_order, _("be delivered (it has not passed its quality check)"))
    due = pricing.totals(repair_order).customer_due - amount_paid(repair_order)
    if due > 0:
        raise Conflict(_("¥%(due)s is still due: take the payment before delivering.") % {"due": due}, code="unpaid")
    now = timezone.now()
    settings = ServiceSettings.of(repair_order.dealership)
    vehicle = Vehicle.objects.select_for_update().get(pk=repair_order.vehicle_id)
    if repair_order.service_type == ServiceType.MAINTENANCE or next_service_on or next_service_km:
        vehicle.next_service_on = next_service_on or (
            timezone.localdate(now, repair_order.dealership.zone)
            + datetime.timedelta(days=settings.maintenance_interval_days)
        )
        vehicle.next_service_km = next_service_km or repair_order.odometer_km + settings.maintenance_interval_km
        vehicle.version += 1
        vehicle.save(update_fields=["next_service_on", "next_service_km", "version", "updated_at"])
    repair_order.delivered_at = now
    if repair_order.paid_at is None:
        repair_order.paid_at = now  # nothing was due from the customer (warranty, internal)
    _move(repair_order, actor, S.DELIVERED, "delivered_at", "paid_at")
    DeclinedWork.objects.filter(vehicle=vehicle, recaptured_on__isnull=True).filter(
        description__in=repair_order.labour_lines.filter(status=LineStatus.APPROVED).values("description")
    ).update(recaptured_on=repair_order)
    followup.schedule_after_service_delivery(
        repair_order=repair_order, customer=repair_order.customer, delivered_at=now, advisor=repair_order.advisor
    )
    followup.survey_after_delivery(
        subject=repair_order,
        customer=repair_order.customer,
        kind=SurveyKind.SERVICE_VISIT,
        staff=repair_order.advisor,
        delivered_at=now,
    )
    points_award(subject=repair_order, customer=repair_order.customer, paid_amount=amount_paid(repair_order))
    return repair_order


# --- photos -----------------------------------------------------------------------------------


@transaction.atomic
def damage_mark_add(
    *, actor: User, repair_order_id: int, panel: str, damage: str, note: str = "", photo=None
) -> DamageMark:
    """One damage on the walk-around, by panel, with its photo (checked to be an image)."""
    _require(actor, FRONT_DESK, _("record the walk-around"))
    repair_order = _order_for_change(actor, repair_order_id)
    if repair_order.status in (S.DELIVERED, S.CANCELLED):
        raise _illegal(repair_order, _("take walk-around records"))
    mark = DamageMark(repair_order=repair_order, panel=panel, damage=damage, note=note.strip())
    try:
        mark.full_clean(exclude=["repair_order", "photo"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    if photo is not None:
        mark.photo = photos.checked_photo(photo)
    mark.save()
    return mark


@transaction.atomic
def line_photo_add(*, actor: User, repair_order_id: int, line_key: str, photo) -> LinePhoto:
    """A photo of what was found, on a line ("labour:12" / "part:7"), for the customer to see."""
    _require(actor, WORKSHOP, _("add photos to repair orders"))
    repair_order = _order_for_change(actor, repair_order_id)
    kind, _sep, line_id = line_key.partition(":")
    lines = {"labour": repair_order.labour_lines, "part": repair_order.part_lines}
    line = lines[kind].filter(pk=line_id).first() if kind in lines and line_id.isdigit() else None
    if line is None:
        raise ValidationError({"line": _("Choose a line of this order.")})
    if photo is None:
        raise ValidationError({"photo": _("Take or choose a photo.")})
    return LinePhoto.objects.create(
        repair_order=repair_order,
        labour_line=line if kind == "labour" else None,
        part_line=line if kind == "part" else None,
        photo=photos.checked_photo(photo),
        uploaded_by=actor,
    )

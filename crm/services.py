"""Every write to customers and vehicles: one service, one transaction, checks before changes."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dms.errors import Conflict

from . import hooks
from .choices import COMPLAINT_NEXT, ComplaintCategory, ComplaintSource, ComplaintStatus, Role, Severity
from .models import (
    Complaint,
    ComplaintEvent,
    Customer,
    Dealership,
    OdometerReading,
    User,
    Vehicle,
    VehicleOwnership,
)
from .querysets import user_dealership_ids, user_may
from .validators import phone_normalize, plate_validate, vin_validate

# The fields staff edit on forms and through the API, in the order the form shows them.
CUSTOMER_INPUT_FIELDS = (
    "kind",
    "salutation",
    "full_name",
    "mobile",
    "other_phone",
    "email",
    "preferred_channel",
    "contact_from",
    "contact_until",
    "marketing_consent",
    "born_on",
    "source",
    "address",
    "tags",
    "notes",
)
CUSTOMER_FIELDS = (*CUSTOMER_INPUT_FIELDS, "owner")
VEHICLE_FIELDS = (
    "vin",
    "plate",
    "make",
    "model",
    "trim",
    "year",
    "colour",
    "purchased_on",
    "warranty_ends_on",
    "next_service_on",
    "next_service_km",
    "sales_channel",
)


class StaleVersionError(ValidationError):
    """The record changed since the editor loaded it; their save would overwrite someone's change."""


def dealership_for_write(*, actor: User, dealership: Dealership | int, model) -> Dealership:
    """The rooftop ``actor`` may add ``model`` rows to, else PermissionDenied (403)."""
    dealership_id = dealership.pk if isinstance(dealership, Dealership) else dealership
    if not user_may(actor, "add", model) or dealership_id not in user_dealership_ids(actor):
        raise PermissionDenied(_("You may not add records to this dealership."))
    return dealership if isinstance(dealership, Dealership) else Dealership.objects.get(pk=dealership_id)


# --- customers --------------------------------------------------------------------------


def customer_normalize(*, dealership: Dealership, data: dict[str, Any]) -> dict[str, Any]:
    """Normalise the phones to E.164 in the rooftop's region; raise one error with every field's message."""
    errors: dict[str, list] = {}
    cleaned = dict(data)
    for name, mobile_only in (("mobile", True), ("other_phone", False)):
        if name in cleaned:
            try:
                cleaned[name] = phone_normalize(
                    cleaned[name] or "", region=dealership.phone_region, mobile_only=mobile_only
                )
            except ValidationError as error:
                errors.setdefault(name, []).extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _duplicate_mobile_error(*, dealership: Dealership, mobile: str, exclude_pk: int | None) -> ValidationError | None:
    if not mobile:
        return None
    existing = Customer.objects.filter(dealership=dealership, mobile=mobile).exclude(pk=exclude_pk).first()
    if existing is None:
        return None
    return ValidationError(
        {
            "mobile": ValidationError(
                _("%(name)s already has this mobile number at this dealership: %(url)s"),
                code="duplicate",
                params={
                    "name": existing.full_name,
                    "url": reverse("crm:customer-detail", args=[existing.pk]),
                    "id": existing.pk,
                },
            )
        }
    )


def _save_customer(customer: Customer, *, update_fields: list[str] | None = None) -> None:
    customer.full_clean(validate_constraints=False)
    duplicate = _duplicate_mobile_error(dealership=customer.dealership, mobile=customer.mobile, exclude_pk=customer.pk)
    if duplicate:
        raise duplicate
    try:
        with transaction.atomic():
            customer.save(update_fields=update_fields)
    except IntegrityError:
        # A concurrent insert won the race; the constraint refused ours. Say which record it was.
        duplicate = _duplicate_mobile_error(
            dealership=customer.dealership, mobile=customer.mobile, exclude_pk=customer.pk
        )
        if duplicate:
            raise duplicate from None
        raise


@transaction.atomic
def customer_create(*, actor: User, dealership: Dealership | int, data: dict[str, Any]) -> Customer:
    """Create a customer in ``dealership`` with normalised phones; a duplicate mobile is refused."""
    dealership = dealership_for_write(actor=actor, dealership=dealership, model=Customer)
    cleaned = customer_normalize(dealership=dealership, data=data)
    customer = Customer(
        dealership=dealership, updated_by=actor, **{k: v for k, v in cleaned.items() if k in CUSTOMER_FIELDS}
    )
    if customer.marketing_consent:
        customer.marketing_consent_at = timezone.now()
    if customer.owner_id is None and actor.has_perm("crm.add_customer"):
        customer.owner = actor
    _save_customer(customer)
    return customer


@transaction.atomic
def customer_update(*, actor: User, customer_id: int, data: dict[str, Any], version: int | None = None) -> Customer:
    """Change the given fields; refused if someone else saved the customer since ``version`` was read."""
    customer = (
        Customer.objects.for_user(actor, "change")
        .select_for_update(of=("self",))
        .select_related("dealership")
        .get(pk=customer_id)
    )
    if version is not None and version != customer.version:
        raise StaleVersionError(
            _("%(user)s changed this customer at %(time)s; reload to see their change, then edit again."),
            code="stale",
            params={
                "user": customer.updated_by or _("someone"),
                "time": timezone.localtime(customer.updated_at).strftime("%H:%M:%S"),
            },
        )
    cleaned = customer_normalize(dealership=customer.dealership, data=data)
    changed = []
    for name, value in cleaned.items():
        if name in CUSTOMER_FIELDS and getattr(customer, name) != value:
            setattr(customer, name, value)
            changed.append(name)
    if "marketing_consent" in changed:
        customer.marketing_consent_at = timezone.now() if customer.marketing_consent else None
        changed.append("marketing_consent_at")
    if not changed:
        return customer
    customer.version += 1  # the row is locked, so this cannot lose a concurrent increment
    customer.updated_by = actor
    _save_customer(customer, update_fields=[*changed, "version", "updated_by", "updated_at"])
    return customer


# --- vehicles ---------------------------------------------------------------------------


def vehicle_normalize(*, dealership: Dealership, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list] = {}
    cleaned = dict(data)
    if "vin" in cleaned:
        try:
            cleaned["vin"] = vin_validate(
                cleaned["vin"] or "", check_digit_required=dealership.vin_check_digit_required
            )
        except ValidationError as error:
            errors["vin"] = error.error_list
    if "plate" in cleaned:
        try:
            cleaned["plate"] = plate_validate(cleaned["plate"] or "", rule=dealership.plate_rule)
        except ValidationError as error:
            errors["plate"] = error.error_list
    if errors:
        raise ValidationError(errors)
    return cleaned


def _duplicate_vehicle_error(vehicle: Vehicle) -> ValidationError | None:
    errors = {}
    others = Vehicle.objects.filter(dealership_id=vehicle.dealership_id).exclude(pk=vehicle.pk)
    for name in ("vin", "plate"):
        value = getattr(vehicle, name)
        existing = others.filter(**{name: value}).first() if value else None
        if existing:
            errors[name] = ValidationError(
                _("This %(field)s is already on %(vehicle)s: %(url)s"),
                code="duplicate",
                params={
                    "field": Vehicle._meta.get_field(name).verbose_name,
                    "vehicle": existing,
                    "url": existing.get_absolute_url(),
                },
            )
    return ValidationError(errors) if errors else None


def _save_vehicle(vehicle: Vehicle, *, update_fields: list[str] | None = None) -> None:
    vehicle.full_clean(validate_constraints=False, exclude=["owner"])
    duplicate = _duplicate_vehicle_error(vehicle)
    if duplicate:
        raise duplicate
    try:
        with transaction.atomic():
            vehicle.save(update_fields=update_fields)
    except IntegrityError:
        duplicate = _duplicate_vehicle_error(vehicle)
        if duplicate:
            raise duplicate from None
        raise


@transaction.atomic
def vehicle_create(
    *,
    actor: User,
    dealership: Dealership | int,
    data: dict[str, Any],
    owner: Customer | None = None,
    odometer_km: int | None = None,
) -> Vehicle:
    """Create a vehicle with a validated VIN and normalised plate, optionally with its owner and odometer."""
    dealership = dealership_for_write(actor=actor, dealership=dealership, model=Vehicle)
    cleaned = vehicle_normalize(dealership=dealership, data=data)
    if owner is not None and owner.dealership_id != dealership.pk:
        raise ValidationError({"owner": _("The owner must be a customer of the same dealership.")})
    vehicle = Vehicle(dealership=dealership, **{k: v for k, v in cleaned.items() if k in VEHICLE_FIELDS})
    _save_vehicle(vehicle)
    if owner is not None:
        _ownership_start(vehicle=vehicle, customer=owner, on=vehicle.purchased_on or timezone.localdate(), actor=actor)
    if odometer_km is not None:
        odometer_record(actor=actor, vehicle_id=vehicle.pk, reading_km=odometer_km, read_on=timezone.localdate())
        vehicle.refresh_from_db(fields=["odometer_km"])
    return vehicle


@transaction.atomic
def vehicle_update(*, actor: User, vehicle_id: int, data: dict[str, Any], version: int | None = None) -> Vehicle:
    vehicle = (
        Vehicle.objects.for_user(actor, "change")
        .select_for_update(of=("self",))
        .select_related("dealership")
        .get(pk=vehicle_id)
    )
    if version is not None and version != vehicle.version:
        raise StaleVersionError(
            _("This vehicle was changed at %(time)s by someone else; reload to see the change, then edit again."),
            code="stale",
            params={"time": timezone.localtime(vehicle.updated_at).strftime("%H:%M:%S")},
        )
    cleaned = vehicle_normalize(dealership=vehicle.dealership, data=data)
    changed = [name for name, value in cleaned.items() if name in VEHICLE_FIELDS and getattr(vehicle, name) != value]
    if not changed:
        return vehicle
    for name in changed:
        setattr(vehicle, name, cleaned[name])
    vehicle.version += 1
    _save_vehicle(vehicle, update_fields=[*changed, "version", "updated_at"])
    return vehicle


def _ownership_start(*, vehicle: Vehicle, customer: Customer, on: datetime.date, actor: User) -> VehicleOwnership:
    vehicle.owner = customer
    vehicle.save(update_fields=["owner", "updated_at"])
    return VehicleOwnership.objects.create(
        dealership_id=vehicle.dealership_id,
        vehicle=vehicle,
        customer=customer,
        started_on=on,
        created_by=actor,
    )


@transaction.atomic
def vehicle_change_owner(*, actor: User, vehicle_id: int, customer_id: int, on: datetime.date | None = None) -> Vehicle:
    """Give the vehicle a new owner; the previous ownership is closed and the service history stays with the car."""
    vehicle = Vehicle.objects.for_user(actor, "change").select_for_update(of=("self",)).get(pk=vehicle_id)
    customer = (
        Customer.objects.for_user(actor).filter(dealership_id=vehicle.dealership_id).filter(pk=customer_id).first()
    )
    if customer is None:
        raise ValidationError({"customer": _("Choose a customer of the vehicle's dealership.")})
    if vehicle.owner_id == customer.pk:
        raise ValidationError({"customer": _("%(name)s already owns this vehicle.") % {"name": customer.full_name}})
    on = on or timezone.localdate()
    current = VehicleOwnership.objects.filter(vehicle=vehicle, ended_on__isnull=True).first()
    if current is None and vehicle.owner_id is not None:
        # An owner recorded without an ownership row (imported data): keep them in the history.
        started_on = min(vehicle.purchased_on or on, on)
        current = VehicleOwnership.objects.create(
            dealership_id=vehicle.dealership_id,
            vehicle=vehicle,
            customer_id=vehicle.owner_id,
            started_on=started_on,
            created_by=actor,
        )
    if current is not None:
        if on < current.started_on:
            raise ValidationError({"on": _("The change cannot be before the current owner's start date.")})
        current.ended_on = on
        current.save(update_fields=["ended_on"])
    _ownership_start(vehicle=vehicle, customer=customer, on=on, actor=actor)
    return vehicle


@transaction.atomic
def odometer_record(
    *,
    actor: User,
    vehicle_id: int,
    reading_km: int,
    read_on: datetime.date,
    correction_reason: str = "",
) -> OdometerReading:
    """Record a reading; one below the last reading is refused unless it is an explicit correction with a reason."""
    vehicle = Vehicle.objects.for_user(actor).select_for_update(of=("self",)).get(pk=vehicle_id)
    if not user_may(actor, "add", OdometerReading):
        raise PermissionDenied(_("You may not record odometer readings."))
    if reading_km < 0:
        raise ValidationError({"reading_km": _("An odometer reading cannot be negative.")})
    if vehicle.odometer_km is not None and reading_km < vehicle.odometer_km and not correction_reason.strip():
        raise ValidationError(
            {
                "reading_km": _(
                    "%(reading)s km is below the last reading (%(last)s km); give a correction reason to record it."
                )
                % {"reading": reading_km, "last": vehicle.odometer_km}
            }
        )
    reading = OdometerReading(
        dealership_id=vehicle.dealership_id,
        vehicle=vehicle,
        reading_km=reading_km,
        read_on=read_on,
        correction_reason=correction_reason.strip(),
        recorded_by=actor,
    )
    reading.full_clean(exclude=["vehicle", "dealership", "recorded_by"])
    reading.save()
    vehicle.odometer_km = reading_km
    vehicle.save(update_fields=["odometer_km", "updated_at"])
    return reading


# --- complaints -----------------------------------------------------------------------

COMPLAINT_DUE = {
    "low": datetime.timedelta(days=3),
    "medium": datetime.timedelta(days=1),
    "high": datetime.timedelta(hours=4),
}


@transaction.atomic
def complaint_open(
    *,
    customer: Customer,
    source: str,
    description: str,
    actor: User | None = None,
    severity: str = "medium",
    owner: User | None = None,
    category: str = ComplaintCategory.OTHER,
    subject: Any = None,
) -> Complaint:
    """Open a complaint 投诉, due by its severity. The call-back that confirms the customer is satisfied
    is promised once the solution is implemented (``complaint_advance``)."""
    errors = {}
    if source not in ComplaintSource.values:
        errors["source"] = _("Where did the complaint come from?")
    if severity not in Severity.values:
        errors["severity"] = _("Choose the severity.")
    if category not in ComplaintCategory.values:
        errors["category"] = _("Choose a category.")
    if not (description or "").strip():
        errors["description"] = _("Write down what the customer said.")
    if owner is not None and not owner.dealerships.filter(pk=customer.dealership_id).exists():
        errors["owner"] = _("Choose someone of this dealership.")
    if errors:
        raise ValidationError(errors)
    complaint = Complaint.objects.create(
        dealership_id=customer.dealership_id,
        customer=customer,
        source=source,
        severity=severity,
        category=category,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=subject.pk if subject is not None else None,
        description=description.strip(),
        owner=owner,
        due_at=timezone.now() + COMPLAINT_DUE[severity],
        created_by=actor,
        updated_by=actor,
    )
    ComplaintEvent.objects.create(complaint=complaint, actor=actor, to_status=complaint.status, note=description)
    return complaint


def _complaint_for_change(actor: User, complaint_id: int, version: int | None = None) -> Complaint:
    complaint = (
        Complaint.objects.for_user(actor, "change")
        .select_for_update(of=("self",))
        .select_related("dealership", "customer")
        .get(pk=complaint_id)
    )
    if version is not None and version != complaint.version:
        raise Conflict(
            _("%(user)s changed this complaint at %(time)s; reload to see their change.")
            % {
                "user": complaint.updated_by or _("someone"),
                "time": timezone.localtime(complaint.updated_at, complaint.dealership.zone).strftime("%H:%M:%S"),
            },
            code="stale",
        )
    return complaint


def _complaint_save(complaint: Complaint, actor: User | None, *fields: str) -> None:
    complaint.version += 1
    complaint.updated_by = actor
    complaint.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def _complaint_move(complaint: Complaint, actor: User | None, to_status: str, note: str, *fields: str) -> None:
    before = complaint.status
    complaint.status = to_status
    if to_status == ComplaintStatus.CLOSED:
        complaint.closed_at = timezone.now()
        fields = (*fields, "closed_at")
    _complaint_save(complaint, actor, "status", *fields)
    ComplaintEvent.objects.create(
        complaint=complaint, actor=actor, from_status=before, to_status=to_status, note=(note or "").strip()
    )


@transaction.atomic
def complaint_advance(
    *,
    actor: User,
    complaint_id: int,
    to_status: str,
    note: str = "",
    solution: str = "",
    version: int | None = None,
) -> Complaint:
    """Move a complaint one step on (or back to investigating). The solution is written when it is agreed;
    implementing it promises the call-back through the follow-up engine."""
    complaint = _complaint_for_change(actor, complaint_id, version)
    if to_status not in COMPLAINT_NEXT.get(complaint.status, ()):
        raise Conflict(
            _("A complaint that is %(status)s cannot become %(to)s.")
            % {
                "status": complaint.get_status_display(),
                "to": dict(ComplaintStatus.choices).get(to_status, to_status),
            }
        )
    fields = []
    if to_status == ComplaintStatus.SOLUTION_AGREED:
        if not solution.strip():
            raise ValidationError({"solution": _("Write down the solution agreed with the customer.")})
        complaint.solution = solution.strip()
        fields.append("solution")
    going_back = to_status == ComplaintStatus.INVESTIGATING and complaint.status != ComplaintStatus.RECEIVED
    if (to_status == ComplaintStatus.CALLBACK_DONE or going_back) and not note.strip():
        raise ValidationError({"note": _("Say what the customer said, or why.")})
    _complaint_move(complaint, actor, to_status, note or solution, *fields)
    if to_status == ComplaintStatus.IMPLEMENTED:
        hooks.schedule_complaint_callback(complaint, timezone.now())
    return complaint


@transaction.atomic
def complaint_assign(*, actor: User, complaint_id: int, owner: User, version: int | None = None) -> Complaint:
    """Give the complaint to the person who handles it."""
    complaint = _complaint_for_change(actor, complaint_id, version)
    if not complaint.is_open:
        raise Conflict(_("This complaint is closed."))
    if not owner.is_active or not owner.dealerships.filter(pk=complaint.dealership_id).exists():
        raise ValidationError({"owner": _("Choose someone of this dealership.")})
    before = complaint.owner
    complaint.owner = owner
    _complaint_save(complaint, actor, "owner")
    ComplaintEvent.objects.create(
        complaint=complaint,
        actor=actor,
        from_status=complaint.status,
        to_status=complaint.status,
        note=_("Owner: %(before)s → %(after)s") % {"before": before or "—", "after": owner},
    )
    return complaint


@transaction.atomic
def complaint_callback_result(*, complaint_id: int, actor: User, satisfied: bool, note: str = "") -> Complaint:
    """What the customer said on the call-back: satisfied → call-back done; still unhappy → back to
    investigating, due again by its severity. The follow-up engine calls this when the call is recorded."""
    complaint = Complaint.objects.select_for_update(of=("self",)).select_related("dealership").get(pk=complaint_id)
    if complaint.status != ComplaintStatus.IMPLEMENTED:
        ComplaintEvent.objects.create(
            complaint=complaint, actor=actor, from_status=complaint.status, to_status=complaint.status, note=note
        )
        return complaint
    if satisfied:
        _complaint_move(complaint, actor, ComplaintStatus.CALLBACK_DONE, note or _("Satisfied on the call-back."))
    else:
        complaint.due_at = timezone.now() + COMPLAINT_DUE[complaint.severity]
        complaint.escalated_at = None
        _complaint_move(
            complaint,
            actor,
            ComplaintStatus.INVESTIGATING,
            note or _("Still unhappy on the call-back."),
            "due_at",
            "escalated_at",
        )
    return complaint


ESCALATABLE = (
    ComplaintStatus.RECEIVED,
    ComplaintStatus.INVESTIGATING,
    ComplaintStatus.SOLUTION_AGREED,
    ComplaintStatus.IMPLEMENTED,
)


def complaints_escalate_overdue(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Every open complaint past its due time goes to its rooftop's manager, once; returns how many.
    Two runs at once take different rows (``SKIP LOCKED``)."""
    now = now or timezone.now()
    with transaction.atomic():
        overdue = list(
            Complaint.objects.filter(due_at__lt=now, escalated_at__isnull=True, status__in=ESCALATABLE)
            .select_for_update(skip_locked=True)
            .order_by("due_at")[:batch]
        )
        managers: dict[int, User | None] = {}
        for complaint in overdue:
            if complaint.dealership_id not in managers:
                managers[complaint.dealership_id] = (
                    User.objects.filter(
                        dealerships=complaint.dealership_id, groups__name=Role.MANAGER.value, is_active=True
                    )
                    .order_by("pk")
                    .first()
                )
            manager = managers[complaint.dealership_id]
            complaint.escalated_at, complaint.escalated_to = now, manager
            complaint.save(update_fields=["escalated_at", "escalated_to", "updated_at"])
            ComplaintEvent.objects.create(
                complaint=complaint,
                from_status=complaint.status,
                to_status=complaint.status,
                note=_("Overdue: escalated to %(manager)s.") % {"manager": manager or _("no manager")},
            )
            if manager is not None:
                transaction.on_commit(
                    lambda user_id=manager.pk, complaint_id=complaint.pk: notify_escalation(
                        user_id=user_id, complaint_id=complaint_id
                    )
                )
    return len(overdue)


def notify_escalation(*, user_id: int, complaint_id: int) -> None:
    """Email the manager about an overdue complaint (the console backend in development)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    complaint = Complaint.objects.select_related("customer").filter(pk=complaint_id).first()
    if user is None or complaint is None or not user.email:
        return
    send_mail(
        subject=_("Overdue complaint from %(name)s") % {"name": complaint.customer.full_name},
        message=_("This complaint is past its due time (%(status)s): %(text)s")
        % {"status": complaint.get_status_display(), "text": complaint.description},
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
        fail_silently=True,
    )

"""Every write to customers and vehicles: one service, one transaction, checks before changes."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

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
) -> Complaint:
    """Open a complaint, due by its severity; the caller schedules the call-back through the follow-up engine."""
    complaint = Complaint.objects.create(
        dealership_id=customer.dealership_id,
        customer=customer,
        source=source,
        severity=severity,
        description=description,
        owner=owner,
        due_at=timezone.now() + COMPLAINT_DUE[severity],
        created_by=actor,
    )
    ComplaintEvent.objects.create(complaint=complaint, actor=actor, to_status=complaint.status, note=description)
    return complaint

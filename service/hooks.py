"""What the service department tells the follow-up scans (registered in ``ServiceConfig.ready``):
which vehicles are already booked, what their customers declined, which appointments were missed."""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from followup.scans import NoShow

from .choices import HOLDING_STATUSES, AppointmentStatus
from .models import Appointment, DeclinedWork, RepairOrder

# An appointment is missed when the customer has not arrived this long after its start.
NO_SHOW_GRACE = datetime.timedelta(minutes=30)


def booked_vehicles(vehicle_ids: list[int]) -> set[int]:
    return set(
        Appointment.objects.filter(
            vehicle_id__in=vehicle_ids, status__in=HOLDING_STATUSES, starts_at__gte=timezone.now()
        ).values_list("vehicle_id", flat=True)
    )


def declined_work(vehicle_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for vehicle_id, description, amount in DeclinedWork.objects.filter(
        vehicle_id__in=vehicle_ids, recaptured_on__isnull=True
    ).values_list("vehicle_id", "description", "amount"):
        found.setdefault(vehicle_id, []).append(f"{description} (¥{amount})")
    return found


def missed_appointments(now: datetime.datetime):
    """Booked or confirmed appointments whose customer has not arrived ``NO_SHOW_GRACE`` after the start."""
    missed = Appointment.objects.filter(
        status__in=(AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED), starts_at__lt=now - NO_SHOW_GRACE
    ).select_related("customer__dealership")
    for appointment in missed.order_by("pk")[:500]:
        yield NoShow(
            appointment=appointment,
            customer=appointment.customer,
            starts_at=appointment.starts_at,
            advisor_id=appointment.advisor_id,
            mark=_marker(appointment.pk),
        )


def _marker(appointment_id: int):
    def mark() -> None:
        Appointment.objects.filter(
            pk=appointment_id, status__in=(AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
        ).update(status=AppointmentStatus.NO_SHOW, updated_at=timezone.now())

    return mark


def booking_link(followup, back: str) -> str | None:
    """The booking page for the vehicle a call is about (its order's, appointment's, or the customer's car)."""
    from urllib.parse import urlencode

    from crm.models import Vehicle

    subject = followup.subject
    vehicle_id = getattr(subject, "vehicle_id", None) or (subject.pk if isinstance(subject, Vehicle) else None)
    if vehicle_id is None:
        vehicle_id = Vehicle.objects.filter(owner_id=followup.customer_id).values_list("pk", flat=True).first()
    if vehicle_id is None:
        return None
    return f"{reverse('service:appointment-book', args=[vehicle_id])}?{urlencode({'next': back})}"


def subject_link(followup) -> str | None:
    """A call about a repair order (the 2-day follow-up) opens the order."""
    if ContentType.objects.get_for_id(followup.subject_type_id).model_class() is RepairOrder:
        return reverse("service:repair-order-detail", args=[followup.subject_id])
    return None

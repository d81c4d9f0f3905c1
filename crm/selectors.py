"""Reads with their joins and counts applied, always scoped to the user's rooftops."""

from django.db.models import Case, Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.text import capfirst

from .choices import OPEN_COMPLAINT_STATUSES
from .models import Complaint, ComplaintEvent, Customer, OdometerReading, Vehicle, VehicleOwnership


def with_vehicle_count(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Annotate each customer's current vehicles as a correlated count: no GROUP BY over the whole list."""
    counts = Vehicle.objects.filter(owner=OuterRef("pk")).order_by().values("owner").annotate(n=Count("pk")).values("n")
    return customers.annotate(vehicle_count=Coalesce(Subquery(counts), 0))


def customer_list(*, user, action: str = "view") -> QuerySet[Customer]:
    return with_vehicle_count(Customer.objects.for_user(user, action).select_related("dealership", "owner"))


def customer_detail(*, user, customer_id: int) -> Customer:
    """One customer with their vehicles and ownership history; a 404 outside the user's rooftops."""
    return (
        Customer.objects.for_user(user)
        .select_related("dealership", "owner", "updated_by")
        .prefetch_related(
            Prefetch("vehicles", queryset=Vehicle.objects.order_by("-purchased_on", "-id")),
            Prefetch(
                "ownerships",
                queryset=VehicleOwnership.objects.select_related("vehicle").order_by("-started_on", "-id"),
            ),
        )
        .get(pk=customer_id)
    )


def vehicle_list(*, user) -> QuerySet[Vehicle]:
    return Vehicle.objects.for_user(user).select_related("dealership", "owner")


def vehicle_detail(*, user, vehicle_id: int) -> Vehicle:
    return (
        Vehicle.objects.for_user(user)
        .select_related("dealership", "owner")
        .prefetch_related(
            Prefetch(
                "ownerships",
                queryset=VehicleOwnership.objects.select_related("customer").order_by("-started_on", "-id"),
            ),
            Prefetch(
                "odometer_readings",
                queryset=OdometerReading.objects.select_related("recorded_by").order_by("-read_on", "-id"),
            ),
        )
        .get(pk=vehicle_id)
    )


# --- complaints -----------------------------------------------------------------------


def complaint_list(*, user, action: str = "view") -> QuerySet[Complaint]:
    """Open complaints first, the soonest due on top; then the closed ones, newest first. One statement
    per page: the customer, owner, rooftop and subject type are joined."""
    is_open = Q(status__in=OPEN_COMPLAINT_STATUSES)
    return (
        Complaint.objects.for_user(user, action)
        .select_related("dealership", "customer", "owner", "escalated_to", "subject_type")
        .alias(closed_rank=Case(When(is_open, then=Value(0)), default=Value(1)))
        .order_by("closed_rank", Case(When(is_open, then=F("due_at"))).asc(), "-created_at", "-id")
    )


def complaint_detail(*, user, complaint_id: int) -> Complaint:
    """One complaint with its events and their actors; a 404 outside the user's rooftops."""
    return (
        complaint_list(user=user)
        .select_related("updated_by", "created_by")
        .prefetch_related(Prefetch("events", queryset=ComplaintEvent.objects.select_related("actor")))
        .get(pk=complaint_id)
    )


def complaint_subject(*, user, complaint: Complaint) -> dict | None:
    """What the complaint is about (a repair order, a sales order…) as a label and, when the user may
    open it, its page. crm never imports the app the subject belongs to."""
    if complaint.subject_type_id is None:
        return None
    model = complaint.subject_type.model_class()
    if model is None:
        return None
    rows = model._default_manager.all()
    if hasattr(rows, "for_user"):
        rows = rows.for_user(user)
    subject = rows.filter(pk=complaint.subject_id).first()
    kind = capfirst(model._meta.verbose_name)
    if subject is None:
        return {"label": f"{kind} #{complaint.subject_id}", "url": None}
    url = subject.get_absolute_url() if hasattr(subject, "get_absolute_url") else None
    return {"label": f"{kind} {subject}", "url": url}


def customer_complaints(*, user, customer_id: int, limit: int = 10) -> tuple[list[Complaint], int]:
    """The customer's latest complaints for the 360 page (open ones first) and how many there are."""
    rows = complaint_list(user=user).filter(customer_id=customer_id)
    latest = list(rows[:limit])
    return latest, len(latest) if len(latest) < limit else rows.count()

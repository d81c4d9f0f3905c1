"""Reads with their joins and counts applied, always scoped to the user's rooftops."""

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import Customer, OdometerReading, Vehicle, VehicleOwnership


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

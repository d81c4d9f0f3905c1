"""Home page per role, the header search, and the health check."""

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm.choices import Role
from crm.models import Customer, Dealership, Vehicle
from crm.privacy import list_phone
from crm.querysets import user_dealership_ids
from crm.search import search as search_records

from .tasks import HEARTBEAT_CACHE_KEY


def _count(rows):
    """A per-rooftop count as a subquery, so several counts don't multiply each other's joins."""
    per_rooftop = (
        rows.filter(dealership=OuterRef("pk")).order_by().values("dealership").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(per_rooftop), 0)


@login_required
def home(request):
    user = request.user
    rooftop_ids = user_dealership_ids(user)
    context = {"rooftops": Dealership.objects.filter(pk__in=rooftop_ids)}
    if user.has_role(Role.MANAGER, Role.ADMINISTRATOR):
        month_start = timezone.localdate().replace(day=1)
        context["rooftop_stats"] = Dealership.objects.filter(pk__in=rooftop_ids).annotate(
            customer_count=_count(Customer.objects.all()),
            new_customer_count=_count(Customer.objects.filter(created_at__date__gte=month_start)),
            vehicle_count=_count(Vehicle.objects.all()),
        )
    if user.has_role(Role.SALES_CONSULTANT, Role.SERVICE_ADVISOR, Role.CUSTOMER_SPECIALIST):
        context["my_customers"] = (
            Customer.objects.for_user(user).filter(owner=user).select_related("dealership").order_by("-updated_at")[:10]
        )
        context["show_phones"] = user.has_perm("crm.view_customer_phone")
    return render(request, "dms/home.html", context)


@require_GET
@login_required
def search(request):
    """The header search box: customers and vehicles as you type (an htmx partial)."""
    results = search_records(request.user, request.GET.get("q", ""))
    rows = [
        {
            "kind": "customer",
            "url": customer.get_absolute_url(),
            "title": customer.full_name,
            "detail": list_phone(request.user, customer.mobile),  # masked; no digits for technicians
            "rooftop": customer.dealership.code,
        }
        for customer in results.customers
    ] + [
        {
            "kind": "vehicle",
            "url": vehicle.get_absolute_url(),
            "title": vehicle.plate or vehicle.vin,
            "detail": f"{vehicle.make} {vehicle.model} · {vehicle.vin}",
            "owner": vehicle.owner.full_name if vehicle.owner else "",
            "owner_url": vehicle.owner.get_absolute_url() if vehicle.owner else "",
            "rooftop": vehicle.dealership.code,
        }
        for vehicle in results.vehicles
    ]
    return render(request, "dms/partials/search_results.html", {"results": results, "rows": rows})


def health(request):
    """Liveness for load balancers and compose: the database answers; the last worker heartbeat is shown."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": True, "worker_heartbeat": cache.get(HEARTBEAT_CACHE_KEY)})

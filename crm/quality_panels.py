"""The customer 360's data-quality panel: the completeness score with what is missing, the customers
who look like duplicates, and the way to merge one. Registered from ``CrmConfig.ready()`` by
``register()``."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import panels, quality
from .models import Customer

DUPLICATES_SHOWN = 5


def possible_duplicates(customer: Customer) -> list[Customer]:
    """Other customers of the rooftop with the same name, or one's mobile the other's other phone:
    each an indexed look-up (name per rooftop, mobile per rooftop, other phone), at most a few."""
    same = Q(full_name=customer.full_name)
    if customer.mobile:
        same |= Q(other_phone=customer.mobile)
    if customer.other_phone:
        same |= Q(mobile=customer.other_phone) | Q(other_phone=customer.other_phone)
    return list(
        Customer.objects.filter(same, dealership_id=customer.dealership_id)
        .exclude(pk=customer.pk)
        .only("pk", "full_name", "created_at", "dealership_id")
        .order_by("-created_at", "-id")[:DUPLICATES_SHOWN]
    )


def panel_context(request, customer: Customer) -> dict:
    """The score from the customer and their prefetched vehicles (no query), and one query for the
    possible duplicates."""
    return {
        "completeness": quality.customer_completeness(customer),
        "duplicates": possible_duplicates(customer),
        "full_score": quality.FULL_SCORE,
    }


def register() -> None:
    panels.register(
        panels.customer_panels,
        panels.Panel(
            key="data-quality",
            title=_("Data quality"),
            template="retention/partials/quality_panel.html",
            context=panel_context,
            order=15,
            permission="crm.change_customer",
        ),
    )

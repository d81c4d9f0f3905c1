"""Loyalty 会员积分: points for paid invoices (the rooftop's points per ¥100, rounded down), a balance that is
the sum of the ledger, and the tier the balance reaches. Service and sales delivery call ``points_award``
in their own transaction; the ledger's unique (subject, reason) makes a second call for the same invoice
a no-op."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Sum

from .models import CareSettings, Customer, LoyaltyTier, PointsEntry

PAID_INVOICE = "paid_invoice"


def points_for(paid_amount: Decimal, points_per_100_yuan: int) -> int:
    """floor(paid / 100 × rate): ¥1,999 at 1 point per ¥100 earns 19."""
    if paid_amount is None or paid_amount <= 0:
        return 0
    return int((Decimal(paid_amount) * points_per_100_yuan / 100).to_integral_value(rounding=ROUND_FLOOR))


def points_award(*, subject: models.Model, customer: Customer, paid_amount: Decimal) -> PointsEntry | None:
    """Credit ``customer`` for the invoice ``subject`` (a delivered repair order or sales order) once: a
    second call for the same subject, concurrent or later, adds nothing. None when nothing is earned."""
    settings = CareSettings.of(customer.dealership)
    points = points_for(paid_amount, settings.points_per_100_yuan)
    if points <= 0:
        return None
    subject_type = ContentType.objects.get_for_model(subject)
    entry = PointsEntry(
        dealership_id=customer.dealership_id,
        customer=customer,
        points=points,
        reason=PAID_INVOICE,
        subject_type=subject_type,
        subject_id=subject.pk,
    )
    PointsEntry.objects.bulk_create([entry], ignore_conflicts=True)
    return PointsEntry.objects.get(subject_type=subject_type, subject_id=subject.pk, reason=PAID_INVOICE)


def points_balance(customer: Customer) -> int:
    return PointsEntry.objects.filter(customer=customer).aggregate(total=Sum("points"))["total"] or 0


def customer_tier(customer: Customer, balance: int | None = None) -> LoyaltyTier | None:
    """The highest tier of the customer's rooftop whose threshold the balance reaches, or None."""
    balance = points_balance(customer) if balance is None else balance
    return (
        LoyaltyTier.objects.filter(dealership_id=customer.dealership_id, threshold__lte=balance)
        .order_by("-threshold")
        .first()
    )

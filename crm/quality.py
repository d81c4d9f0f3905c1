"""Customer data quality: a completeness score out of 100 per customer, computed in SQL so the records
to fix can be ordered by it, and the same rule in Python for one customer on the 360 page.

The items and their weights (they add up to 100):

====================  ======  ===========================================================================
item                  weight  complete when
====================  ======  ===========================================================================
mobile                30      a mobile number is recorded (calls, SMS and WeChat all need it)
vehicle               25      the customer currently owns a vehicle whose VIN has its 17 characters
                              (service reminders and the vehicle's history hang on it)
channel               15      "my way, at my time": a contact window (from/until) is recorded and the
                              preferred channel can reach them (email → an email address; SMS and
                              WeChat → a mobile; phone → a mobile or another phone)
address               15      an address is recorded
consent               15      the customer's marketing consent is recorded, with the time it was given
====================  ======  ===========================================================================

A "no" to marketing cannot be told apart from "never asked" in the records (``marketing_consent``
is a plain boolean whose time is cleared when it is withdrawn), so only a recorded "yes" completes
the consent item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from .choices import Channel
from .models import Customer, Vehicle

VIN_LENGTH = 17
FULL_SCORE = 100


def _reaches_by_channel() -> Q:
    has_mobile = ~Q(mobile="")
    return (
        (Q(preferred_channel=Channel.EMAIL) & ~Q(email=""))
        | (Q(preferred_channel__in=[Channel.SMS, Channel.WECHAT]) & has_mobile)
        | (Q(preferred_channel=Channel.PHONE) & (has_mobile | ~Q(other_phone="")))
    )


def _has_vehicle_with_vin() -> Exists:
    vehicles = Vehicle.objects.alias(vin_length=Length("vin")).filter(owner=OuterRef("pk"), vin_length=VIN_LENGTH)
    return Exists(vehicles)


def _reaches_in_python(customer: Customer) -> bool:
    if customer.preferred_channel == Channel.EMAIL:
        return bool(customer.email)
    if customer.preferred_channel in (Channel.SMS, Channel.WECHAT):
        return bool(customer.mobile)
    return bool(customer.mobile or customer.other_phone)


@dataclass(frozen=True)
class QualityItem:
    key: str
    label: str
    fix: str  # what to record, as the list and the panel say it
    weight: int
    condition: Callable[[], Q | Exists]  # SQL: true when the item is complete
    check: Callable[[Customer, list[Vehicle]], bool]  # the same rule for one loaded customer


ITEMS: tuple[QualityItem, ...] = (
    QualityItem(
        "mobile", _("Mobile"), _("Record a mobile number"), 30, lambda: ~Q(mobile=""), lambda c, v: bool(c.mobile)
    ),
    QualityItem(
        "vehicle",
        _("Vehicle with VIN"),
        _("Add the customer's vehicle with its VIN"),
        25,
        _has_vehicle_with_vin,
        lambda c, vehicles: any(len(vehicle.vin or "") == VIN_LENGTH for vehicle in vehicles),
    ),
    QualityItem(
        "channel",
        _("Preferred channel and time"),
        _("Ask how and when they like to be contacted"),
        15,
        lambda: Q(contact_from__isnull=False, contact_until__isnull=False) & _reaches_by_channel(),
        lambda c, v: c.contact_from is not None and c.contact_until is not None and _reaches_in_python(c),
    ),
    QualityItem(
        "address", _("Address"), _("Record the address"), 15, lambda: ~Q(address=""), lambda c, v: bool(c.address)
    ),
    QualityItem(
        "consent",
        _("Marketing consent"),
        _("Ask for and record marketing consent"),
        15,
        lambda: Q(marketing_consent=True, marketing_consent_at__isnull=False),
        lambda c, v: c.marketing_consent and c.marketing_consent_at is not None,
    ),
)
ITEMS_BY_KEY = {item.key: item for item in ITEMS}
assert sum(item.weight for item in ITEMS) == FULL_SCORE  # a weight edit must keep the scale


def with_completeness(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Annotate ``has_<item>`` for each item and ``completeness`` (0–100), all in the one statement."""
    flags = {f"has_{item.key}": ExpressionWrapper(item.condition(), output_field=BooleanField()) for item in ITEMS}
    score = sum(
        (Case(When(**{f"has_{item.key}": True}, then=Value(item.weight)), default=Value(0)) for item in ITEMS),
        Value(0),
    )
    return customers.annotate(**flags).annotate(completeness=ExpressionWrapper(score, output_field=IntegerField()))


def missing_items(customer: Customer) -> list[QualityItem]:
    """The items an annotated customer (``with_completeness``) lacks, heaviest first."""
    return [item for item in ITEMS if not getattr(customer, f"has_{item.key}")]


@dataclass(frozen=True)
class Completeness:
    score: int
    missing: list[QualityItem]

    @property
    def is_complete(self) -> bool:
        return self.score == FULL_SCORE


def customer_completeness(customer: Customer, vehicles: list[Vehicle] | None = None) -> Completeness:
    """One loaded customer's score by the same rules, without a query when their vehicles are
    prefetched (as on the 360 page)."""
    if vehicles is None:
        vehicles = list(customer.vehicles.all())
    missing = [item for item in ITEMS if not item.check(customer, vehicles)]
    return Completeness(score=FULL_SCORE - sum(item.weight for item in missing), missing=missing)


def records_to_fix(
    customers: QuerySet[Customer], *, missing: str = "", include_complete: bool = False
) -> QuerySet[Customer]:
    """The customers by completeness, lowest first (the newest first among equals); complete ones left
    out unless asked for; ``missing`` keeps those lacking that item."""
    rows = with_completeness(customers)
    if not include_complete:
        rows = rows.filter(completeness__lt=FULL_SCORE)
    if missing in ITEMS_BY_KEY:
        rows = rows.filter(**{f"has_{missing}": False})
    return rows.order_by("completeness", "-created_at", "-id")

"""The sales funnel: leads with their stage, grade and history, activities, test drives on demo cars,
stock vehicles, versioned quotes and orders. Every row carries its rooftop; money is ``Decimal``."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from crm.models import Customer, Dealership, User, Vehicle
from crm.querysets import DealershipQuerySet

from .choices import (
    LIVE_ORDER_STATUSES,
    OPEN_STAGES,
    ActivityKind,
    Grade,
    LeadSource,
    LostReview,
    OrderStatus,
    Stage,
    StockStatus,
    TestDriveStatus,
    Timeframe,
)

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class SalesSettings(models.Model):
    """A rooftop's follow-up cadence per grade, the consultants' discount limit and the test-drive slot."""

    dealership = models.OneToOneField(Dealership, on_delete=models.CASCADE, related_name="sales_settings")
    cadence_h = models.PositiveSmallIntegerField(_("follow up H leads every (days)"), default=2)
    cadence_a = models.PositiveSmallIntegerField(_("follow up A leads every (days)"), default=3)
    cadence_b = models.PositiveSmallIntegerField(_("follow up B leads every (days)"), default=7)
    cadence_c = models.PositiveSmallIntegerField(_("follow up C leads every (days)"), default=14)
    discount_limit = models.DecimalField(
        _("largest discount a consultant may give"), **MONEY, default=Decimal("5000.00")
    )
    test_drive_minutes = models.PositiveSmallIntegerField(_("test drive (minutes)"), default=30)

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")

    def __str__(self) -> str:
        return str(self.dealership)

    @classmethod
    def of(cls, dealership: Dealership) -> SalesSettings:
        settings, _ = cls.objects.get_or_create(dealership=dealership)
        return settings

    def cadence_days(self, grade: str) -> int:
        return {"H": self.cadence_h, "A": self.cadence_a, "B": self.cadence_b, "C": self.cadence_c}[grade]


class LostReason(models.Model):
    """A reason a lead can be closed as lost; each rooftop keeps its own list."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="lost_reasons")
    name = models.CharField(_("reason"), max_length=60)
    active = models.BooleanField(default=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["dealership", "name"], name="lost_reason_per_rooftop")]

    def __str__(self) -> str:
        return self.name


class Lead(models.Model):
    """A prospect 潜在客户 and where they are in the funnel."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="leads")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="leads", verbose_name=_("customer"))
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="leads", verbose_name=_("consultant"))
    source = models.CharField(_("source"), max_length=12, choices=LeadSource.choices)
    referrer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("referred by"),
    )
    model_of_interest = models.CharField(_("model of interest"), max_length=80, blank=True)
    budget = models.DecimalField(_("budget"), **MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)])
    intended_use = models.CharField(_("intended use"), max_length=120, blank=True)
    timeframe = models.CharField(_("purchase timeframe"), max_length=10, choices=Timeframe.choices, blank=True)
    trade_in = models.CharField(_("trade-in"), max_length=120, blank=True, help_text=_("The car they would trade in."))
    finance_need = models.BooleanField(_("wants finance"), default=False)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.NEW)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    next_followup_on = models.DateField(_("next follow-up"), null=True, blank=True)
    lost_review = models.CharField(_("lost review"), max_length=10, choices=LostReview.choices, blank=True)
    lost_reason = models.ForeignKey(LostReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    lost_note = models.TextField(_("why lost"), blank=True)
    stage_before_lost = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["owner", "next_followup_on"], condition=Q(stage__in=OPEN_STAGES), name="lead_today"),
            models.Index(fields=["dealership", "stage", "grade", "source"], name="lead_list"),
            models.Index(fields=["customer"], name="lead_customer"),
            models.Index(fields=["dealership", "lost_review"], condition=~Q(lost_review=""), name="lead_lost_review"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.model_of_interest or '—'}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("sales:lead-detail", args=[self.pk])


class LeadEvent(models.Model):
    """The lead's history: every stage, grade, owner or review change, who made it and when."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    field = models.CharField(max_length=16)
    from_value = models.CharField(max_length=40, blank=True)
    to_value = models.CharField(max_length=40)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.field}: {self.from_value} → {self.to_value}"


class Activity(models.Model):
    """A call, showroom visit, presentation or message, with what came of it and the next step."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind"), max_length=14, choices=ActivityKind.choices)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    occurred_at = models.DateTimeField(_("at"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    party_size = models.PositiveSmallIntegerField(_("party size"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="activity_lead"),
            models.Index(fields=["dealership", "kind", "-occurred_at"], name="activity_visit_log"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("occurred_at")), name="activity_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} {self.occurred_at:%Y-%m-%d}"


class DemoVehicle(models.Model):
    """A rooftop's test-drive car."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="demo_vehicles")
    model = models.CharField(_("model"), max_length=80)
    plate = models.CharField(_("plate"), max_length=16)
    vin = models.CharField(_("VIN"), max_length=17)
    active = models.BooleanField(_("in service"), default=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["model", "plate"]
        constraints = [models.UniqueConstraint(fields=["dealership", "vin"], name="demo_vehicle_vin")]

    def __str__(self) -> str:
        return f"{self.model} {self.plate}"


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.Field()


class TestDrive(models.Model):
    """试乘试驾: a demo car booked for a slot; two bookings of one car never overlap (a database rule)."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="test_drives")
    demo_vehicle = models.ForeignKey(DemoVehicle, on_delete=models.PROTECT, related_name="test_drives")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    licence_number = models.CharField(_("driving licence number"), max_length=20)
    licence_expires_on = models.DateField(_("licence valid until"))
    status = models.CharField(
        _("status"), max_length=10, choices=TestDriveStatus.choices, default=TestDriveStatus.BOOKED
    )
    feedback = models.TextField(_("feedback"), blank=True)
    booked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["dealership", "starts_at"], name="test_drive_day")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="test_drive_ends_after"),
            ExclusionConstraint(
                name="test_drive_no_double_booking",
                expressions=[
                    ("demo_vehicle", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=~Q(status=TestDriveStatus.CANCELLED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.demo_vehicle_id} {self.starts_at:%Y-%m-%d %H:%M}"


class StockVehicle(models.Model):
    """A new car the rooftop has (or has coming) to sell."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="stock_vehicles")
    vin = models.CharField(_("VIN"), max_length=17)
    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=80)
    trim = models.CharField(_("trim"), max_length=80, blank=True)
    colour = models.CharField(_("colour"), max_length=40, blank=True)
    options = models.CharField(_("options"), max_length=300, blank=True)
    list_price = models.DecimalField(_("list price"), **MONEY, validators=[MinValueValidator(ZERO)])
    status = models.CharField(_("status"), max_length=12, choices=StockStatus.choices, default=StockStatus.IN_STOCK)
    arrived_on = models.DateField(_("in stock since"), null=True, blank=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["model", "vin"]
        constraints = [models.UniqueConstraint(fields=["dealership", "vin"], name="stock_vin_per_rooftop")]
        indexes = [models.Index(fields=["dealership", "status", "model"], name="stock_list")]

    def __str__(self) -> str:
        return f"{self.model} {self.vin}"

    def days_in_stock(self, today: datetime.date) -> int | None:
        """Days since it arrived, while it is still the rooftop's to sell."""
        if self.arrived_on is None or self.status not in (StockStatus.IN_STOCK, StockStatus.RESERVED):
            return None
        return (today - self.arrived_on).days


class Quote(models.Model):
    """报价: one version of an offer; a new version supersedes the last. Money in ``Decimal``."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="quotes")
    version = models.PositiveSmallIntegerField()
    stock_vehicle = models.ForeignKey(StockVehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    model = models.CharField(_("model"), max_length=80)
    list_price = models.DecimalField(_("list price"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY, default=ZERO)
    discount_approved_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    accessories = models.CharField(_("accessories"), max_length=300, blank=True)
    accessories_price = models.DecimalField(_("accessories price"), **MONEY, default=ZERO)
    trade_in_value = models.DecimalField(_("trade-in valuation"), **MONEY, default=ZERO)
    insurance = models.DecimalField(_("insurance"), **MONEY, default=ZERO)
    down_payment = models.DecimalField(_("down payment"), **MONEY, null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    annual_rate = models.DecimalField(
        _("annual rate"), max_digits=6, decimal_places=4, null=True, blank=True, help_text=_("0.0399 is 3.99% a year.")
    )
    monthly_payment = models.DecimalField(_("monthly payment"), **MONEY, null=True, blank=True)
    total = models.DecimalField(_("total"), **MONEY)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["lead", "-version"]
        constraints = [models.UniqueConstraint(fields=["lead", "version"], name="quote_version_per_lead")]

    def __str__(self) -> str:
        return f"{self.lead_id} v{self.version}"


class Order(models.Model):
    """成交: the contract from an accepted quote, its deposit and payments, the reserved car, the delivery."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="sales_orders")
    number = models.CharField(_("contract number"), max_length=32)
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sales_orders")
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="order")
    stock_vehicle = models.ForeignKey(StockVehicle, on_delete=models.PROTECT, related_name="orders")
    consultant = models.ForeignKey(User, on_delete=models.PROTECT, related_name="sales_orders")
    total = models.DecimalField(_("total"), **MONEY)
    deposit = models.DecimalField(_("deposit"), **MONEY, validators=[MinValueValidator(ZERO)])
    paid = models.DecimalField(_("paid"), **MONEY, default=ZERO)
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.CONTRACTED)
    delivery_at = models.DateTimeField(_("delivery appointment"), null=True, blank=True)
    pdi_checklist = models.JSONField(_("PDI checklist"), default=dict, blank=True)
    documents_checklist = models.JSONField(_("documents checklist"), default=dict, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_advisor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attending service advisor"),
    )
    vehicle = models.ForeignKey(Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dealership", "number"], name="sales_order_number"),
            # one car, one live order: two orders racing for a VIN, exactly one wins
            models.UniqueConstraint(
                fields=["stock_vehicle"], condition=Q(status__in=LIVE_ORDER_STATUSES), name="one_live_order_per_car"
            ),
            models.CheckConstraint(condition=Q(deposit__lte=F("total")), name="deposit_within_total"),
        ]
        indexes = [models.Index(fields=["dealership", "status", "-created_at"], name="sales_order_list")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("sales:order-detail", args=[self.pk])

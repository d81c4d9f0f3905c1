"""The service department: appointments, repair orders with their lines, parts stock, workshop jobs,
quality checks and payments. Every row carries its rooftop; money is ``Decimal``, never float."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.models import Customer, Dealership, User, Vehicle
from crm.querysets import DealershipQuerySet

from .choices import (
    HOLDING_STATUSES,
    OPEN_STATUSES,
    AppointmentStatus,
    ApprovalChannel,
    Damage,
    LineStatus,
    OldParts,
    Panel,
    PaymentMethod,
    PayType,
    RepairOrderStatus,
    ServiceType,
)

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class ServiceSettings(models.Model):
    """A rooftop's workshop: bays per appointment slot, tax, and the tolerance within which extra work
    needs no call (the customer agreed to it in advance)."""

    dealership = models.OneToOneField(Dealership, on_delete=models.CASCADE, related_name="service_settings")
    slot_minutes = models.PositiveSmallIntegerField(
        _("appointment slot (minutes)"), default=60, validators=[MinValueValidator(15), MaxValueValidator(240)]
    )
    bays = models.PositiveSmallIntegerField(
        _("bays per slot"), default=4, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    tax_rate = models.DecimalField(
        _("tax rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.1300"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("0.13 is 13% VAT, added to the net amount."),
    )
    approval_tolerance_amount = models.DecimalField(
        _("extra work approved without a call up to"), **MONEY, default=Decimal("200.00")
    )
    approval_tolerance_minutes = models.PositiveSmallIntegerField(_("…and a delay of at most (minutes)"), default=30)
    comeback_days = models.PositiveSmallIntegerField(_("comeback window (days)"), default=30)
    maintenance_interval_days = models.PositiveSmallIntegerField(_("maintenance every (days)"), default=180)
    maintenance_interval_km = models.PositiveIntegerField(_("maintenance every (km)"), default=10_000)

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")

    def __str__(self) -> str:
        return str(self.dealership)

    @classmethod
    def of(cls, dealership: Dealership) -> ServiceSettings:
        settings, _ = cls.objects.get_or_create(dealership=dealership)
        return settings


class Appointment(models.Model):
    """A booked visit 预约: a slot at a rooftop, holding one of its bays while booked or confirmed."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="appointments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="appointments")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="appointments")
    advisor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments", verbose_name=_("advisor")
    )
    service_type = models.CharField(_("service type"), max_length=16, choices=ServiceType.choices)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    concern = models.TextField(_("customer's concern"), blank=True)
    parts_to_reserve = models.TextField(_("parts to reserve"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    rescheduled_to = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rescheduled_from"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after")]
        indexes = [
            models.Index(
                fields=["dealership", "starts_at"], condition=Q(status__in=HOLDING_STATUSES), name="appointment_held"
            ),
            models.Index(fields=["dealership", "starts_at"], name="appointment_day"),
            models.Index(fields=["advisor", "starts_at"], name="appointment_advisor"),
            models.Index(fields=["vehicle", "-starts_at"], name="appointment_vehicle"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.vehicle_id}"


class RepairOrderCounter(models.Model):
    """The last repair-order number given at a rooftop in a year; locked while a number is taken, so
    numbers are gap-free (a rolled-back order gives its number back) and never doubled."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dealership", "year"], name="ro_counter_per_year")]

    def __str__(self) -> str:
        return f"{self.dealership_id}/{self.year}: {self.last}"


class RepairOrder(models.Model):
    """The repair order 任务委托书: check-in record, lines, approval, workshop progress, settlement."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="repair_orders")
    number = models.CharField(_("number"), max_length=32)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="repair_orders")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="repair_orders")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="repair_order"
    )
    advisor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="repair_orders", verbose_name=_("advisor")
    )
    service_type = models.CharField(_("service type"), max_length=16, choices=ServiceType.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=RepairOrderStatus.choices, default=RepairOrderStatus.ESTIMATE
    )
    pay_type = models.CharField(_("pay type"), max_length=10, choices=PayType.choices, default=PayType.CUSTOMER)
    is_comeback = models.BooleanField(_("comeback"), default=False, help_text=_("Back within 30 days of a delivery."))
    # Check-in 环车检查
    odometer_km = models.PositiveIntegerField(_("odometer (km)"))
    fuel_level = models.PositiveSmallIntegerField(_("fuel level (%)"), default=50, validators=[MaxValueValidator(100)])
    valuables = models.CharField(_("valuables in the car"), max_length=300, blank=True)
    warning_lights = models.CharField(_("warning lights on"), max_length=300, blank=True)
    concern = models.TextField(_("customer's concern, in their words"))
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    # The order
    promised_at = models.DateTimeField(_("promised completion"), null=True, blank=True)
    payment_method = models.CharField(
        _("payment method"), max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.WECHAT
    )
    old_parts = models.CharField(_("old parts"), max_length=10, choices=OldParts.choices, default=OldParts.RETURN)
    free_wash = models.BooleanField(_("free wash"), default=True)
    discount_amount = models.DecimalField(
        _("order discount"), **MONEY, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4)
    # The customer's approval of the estimate, before any job starts
    approved_by_name = models.CharField(_("approved by"), max_length=100, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approval_channel = models.CharField(_("approved how"), max_length=12, choices=ApprovalChannel.choices, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("reworks"), default=0)
    checked_in_at = models.DateTimeField(_("checked in at"))
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        verbose_name = _("repair order")
        verbose_name_plural = _("repair orders")
        constraints = [
            models.UniqueConstraint(fields=["dealership", "number"], name="ro_number_per_rooftop"),
            models.UniqueConstraint(fields=["dealership", "year", "sequence"], name="ro_sequence_per_year"),
        ]
        indexes = [
            models.Index(
                fields=["dealership", "status", "promised_at"],
                condition=Q(status__in=OPEN_STATUSES),
                name="ro_open",
            ),
            models.Index(fields=["dealership", "status", "advisor", "-checked_in_at"], name="ro_list"),
            # An advisor's orders of one status, newest first, across all the user's rooftops.
            models.Index(fields=["advisor", "status", "-checked_in_at", "-id"], name="ro_advisor_list"),
            # The unfiltered list, newest first: without it PostgreSQL sorts every order to show 25.
            models.Index(fields=["-checked_in_at", "-id"], name="ro_newest"),
            models.Index(fields=["vehicle", "-checked_in_at"], name="ro_vehicle_history"),
            # each vehicle's visits for the retention page and the segments (cancelled orders are no visit)
            models.Index(
                fields=["vehicle", "checked_in_at"], condition=~Q(status="cancelled"), name="ro_vehicle_visits"
            ),
            models.Index(fields=["customer", "-checked_in_at"], name="ro_customer_history"),
            # the KPI rollups read a rooftop's orders by the day they were checked in and delivered
            models.Index(fields=["dealership", "checked_in_at"], name="ro_kpi_checked_in"),
            models.Index(
                fields=["dealership", "delivered_at"], condition=Q(delivered_at__isnull=False), name="ro_kpi_delivered"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("service:repair-order-detail", args=[self.pk])


class Part(models.Model):
    """A rooftop's parts catalogue entry with its stock on hand (never below zero)."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="parts")
    part_number = models.CharField(_("part number"), max_length=40)
    description = models.CharField(_("description"), max_length=200)
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(ZERO)])
    stock_on_hand = models.DecimalField(_("in stock"), max_digits=10, decimal_places=2, default=ZERO)
    unit = models.CharField(_("unit"), max_length=10, default="件")

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["part_number"]
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        constraints = [
            models.UniqueConstraint(fields=["dealership", "part_number"], name="part_number_per_rooftop"),
            models.CheckConstraint(condition=Q(stock_on_hand__gte=0), name="part_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.part_number} {self.description}"


class Line(models.Model):
    """What labour and parts lines share: pay type, discount, and the customer's decision."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE)
    description = models.CharField(_("description"), max_length=200)
    pay_type = models.CharField(_("pay type"), max_length=10, choices=PayType.choices, default=PayType.CUSTOMER)
    discount_amount = models.DecimalField(_("discount"), **MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    status = models.CharField(_("status"), max_length=10, choices=LineStatus.choices, default=LineStatus.APPROVED)
    is_additional = models.BooleanField(_("additional work"), default=False)
    note = models.TextField(_("note"), blank=True)
    added_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_by_name = models.CharField(_("decided by"), max_length=100, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_channel = models.CharField(_("decided how"), max_length=12, choices=ApprovalChannel.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]


class LabourLine(Line):
    operation_code = models.CharField(_("operation code"), max_length=20)
    hours = models.DecimalField(
        _("flat-rate hours"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    rate = models.DecimalField(_("labour rate"), **MONEY, validators=[MinValueValidator(ZERO)])
    technician = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta(Line.Meta):
        default_related_name = "labour_lines"
        verbose_name = _("labour line")
        # the KPI rollups count additional work by the day the customer decided
        indexes = [
            models.Index(fields=["decided_at"], condition=Q(is_additional=True), name="labourline_extra_decided")
        ]

    def __str__(self) -> str:
        return f"{self.operation_code} {self.description}"


class PartLine(Line):
    part = models.ForeignKey(Part, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    part_number = models.CharField(_("part number"), max_length=40)
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(ZERO)])
    to_order = models.BooleanField(_("to order"), default=False)
    issued_quantity = models.DecimalField(_("issued"), max_digits=10, decimal_places=2, default=ZERO)

    class Meta(Line.Meta):
        default_related_name = "part_lines"
        verbose_name = _("parts line")
        indexes = [models.Index(fields=["decided_at"], condition=Q(is_additional=True), name="partline_extra_decided")]

    def __str__(self) -> str:
        return f"{self.part_number} × {self.quantity}"


class StockMovement(models.Model):
    """Every change to a part's stock: received, issued to an order, returned, counted."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="movements")
    quantity = models.DecimalField(max_digits=10, decimal_places=2)
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.part_id} {self.quantity:+}"


class DamageMark(models.Model):
    """One damage found on the walk-around 环车检查, by panel, with its photo."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="damage_marks")
    panel = models.CharField(_("panel"), max_length=20, choices=Panel.choices)
    damage = models.CharField(_("damage"), max_length=10, choices=Damage.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    photo = models.FileField(_("photo"), upload_to="walkaround/%Y/%m/", blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.panel}: {self.damage}"


class Job(models.Model):
    """Work dispatched 派工 to a technician and bay, with the hours planned and clocked."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="jobs")
    technician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("technician"))
    bay = models.CharField(_("bay"), max_length=20, blank=True)
    planned_hours = models.DecimalField(_("planned hours"), max_digits=6, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["technician", "-created_at"], name="job_technician")]

    def __str__(self) -> str:
        return f"{self.repair_order_id} → {self.technician_id}"


class TimeEntry(models.Model):
    """A technician clocked on a job; one open entry per technician at a time."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="time_entries")
    technician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        indexes = [models.Index(fields=["started_at"], name="timeentry_started")]  # clocked hours per day
        constraints = [
            models.UniqueConstraint(
                fields=["technician"], condition=Q(ended_at__isnull=True), name="one_open_clock_per_technician"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")), name="time_entry_ends_after"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.technician_id} {self.started_at:%H:%M}–{self.ended_at:%H:%M}"
            if self.ended_at
            else f"{self.technician_id} since {self.started_at:%H:%M}"
        )


class QualityCheck(models.Model):
    """质检: pass → ready for delivery; fail with a reason → back to repair, counted as rework."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="quality_checks")
    inspector = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    passed = models.BooleanField()
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.repair_order_id}: {'pass' if self.passed else 'fail'}"


class Payment(models.Model):
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    received_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.repair_order_id}: {self.amount} {self.method}"


class RepairOrderEvent(models.Model):
    """Who moved an order from which state to which, when: the order's audit trail."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    from_status = models.CharField(max_length=16, choices=RepairOrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=RepairOrderStatus.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.repair_order_id}: {self.from_status} → {self.to_status}"


class DeclinedWork(models.Model):
    """Work recommended and declined, kept by name on the vehicle so it can be offered again."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="declined_work")
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="declined_work")
    description = models.CharField(_("work"), max_length=200)
    amount = models.DecimalField(_("price"), **MONEY)
    recommended_at = models.DateTimeField(_("recommended at"))
    recaptured_on = models.ForeignKey(
        RepairOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="recaptured_work"
    )

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-recommended_at", "-id"]
        indexes = [
            models.Index(fields=["vehicle"], condition=Q(recaptured_on__isnull=True), name="declined_open"),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_id}: {self.description}"


class LinePhoto(models.Model):
    """A photo of additional work found (the worn part), shown to the customer with the line."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="line_photos")
    labour_line = models.ForeignKey(LabourLine, on_delete=models.CASCADE, null=True, blank=True, related_name="photos")
    part_line = models.ForeignKey(PartLine, on_delete=models.CASCADE, null=True, blank=True, related_name="photos")
    photo = models.FileField(upload_to="lines/%Y/%m/")
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(labour_line__isnull=False, part_line__isnull=True)
                | Q(labour_line__isnull=True, part_line__isnull=False),
                name="line_photo_one_line",
            )
        ]

    def __str__(self) -> str:
        return f"{self.repair_order_id}: {self.photo.name}"

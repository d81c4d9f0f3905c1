"""Rooftops, staff, customers and vehicles: one customer, one history, shared by sales and service."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Reverse, Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .choices import (
    OPEN_COMPLAINT_STATUSES,
    CampaignChannel,
    CampaignStatus,
    Channel,
    ComplaintCategory,
    ComplaintSource,
    ComplaintStatus,
    CustomerKind,
    CustomerSource,
    PlateRule,
    QuestionScale,
    RevealedField,
    Role,
    SalesChannel,
    Salutation,
    Severity,
    SurveyChannel,
    SurveyKind,
    SurveyStatus,
    VoucherKind,
    VoucherStatus,
    Weekday,
)
from .querysets import DealershipQuerySet, DealershipRootQuerySet, NameGrams


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone such as Asia/Shanghai."), params={"value": value})


def validate_phone_region(value: str) -> None:
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(_("%(value)s is not a phone region code such as CN."), params={"value": value})


class Dealership(models.Model):
    """A rooftop: every business row belongs to one, and staff see the rooftops they are assigned to."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    phone_region = models.CharField(
        _("default phone region"),
        max_length=2,
        default="CN",
        validators=[validate_phone_region],
        help_text=_("Numbers typed without a country code are read as numbers of this region."),
    )
    labour_rate_amount = models.DecimalField(
        _("labour rate per hour"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    vin_check_digit_required = models.BooleanField(
        _("VIN check digit required"),
        default=True,
        help_text=_("China (GB 16735) and North America require the 9th-character check digit; turn off elsewhere."),
    )
    plate_rule = models.CharField(
        _("plate format"), max_length=8, choices=PlateRule.choices, default=PlateRule.MAINLAND_CHINA
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipRootQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("dealership")
        verbose_name_plural = _("dealerships")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class BusinessHours(models.Model):
    """Opening hours of a rooftop on one weekday, in the rooftop's own time zone."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="business_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        ordering = ["dealership", "weekday"]
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        constraints = [
            models.UniqueConstraint(fields=["dealership", "weekday"], name="crm_business_hours_one_per_day"),
            models.CheckConstraint(
                condition=Q(opens_at__lt=models.F("closes_at")), name="crm_business_hours_open_before_close"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Holiday(models.Model):
    """A day a rooftop is closed although its weekday has business hours."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="holidays")
    closed_on = models.DateField(_("closed on"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["dealership", "closed_on"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["dealership", "closed_on"], name="crm_holiday_one_per_day")]

    def __str__(self) -> str:
        return f"{self.closed_on} {self.name}"


class User(AbstractUser):
    """A staff member: roles are auth groups, rooftops the ones they are assigned to."""

    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    dealerships = models.ManyToManyField(Dealership, blank=True, related_name="staff", verbose_name=_("dealerships"))

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def role_names(self) -> set[str]:
        from .authz import snapshot

        return snapshot(self)["roles"]

    def has_role(self, *roles: Role) -> bool:
        return self.is_superuser or bool(self.role_names & {str(role) for role in roles})


class Customer(models.Model):
    """A person or company the rooftop serves; the mobile number is unique within a rooftop."""

    dealership = models.ForeignKey(
        Dealership, on_delete=models.PROTECT, related_name="customers", verbose_name=_("dealership")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    full_name = models.CharField(_("full name"), max_length=200)
    salutation = models.CharField(_("salutation"), max_length=4, choices=Salutation.choices, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, help_text=_("Stored in international format."))
    other_phone = models.CharField(_("other phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE
    )
    contact_from = models.TimeField(_("contact me from"), null=True, blank=True)
    contact_until = models.TimeField(_("contact me until"), null=True, blank=True)
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    marketing_consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    born_on = models.DateField(_("birthday"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=CustomerSource.choices, default=CustomerSource.WALK_IN
    )
    owner = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        verbose_name=_("responsible staff"),
    )
    notes = models.TextField(_("notes"), blank=True)
    # database defaults too, so bulk loaders that predate these columns (benchmarks, imports) still work
    address = models.CharField(_("address"), max_length=300, blank=True, db_default="")
    id_number = models.CharField(
        _("ID number"),
        max_length=20,
        blank=True,
        db_default="",
        help_text=_("Masked everywhere but on a logged click."),
    )
    tags = ArrayField(
        models.CharField(max_length=30), verbose_name=_("tags"), default=list, db_default=Value([]), blank=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_customer_phone", _("Can see customers' full phone numbers")),
            ("export_customer", _("Can export customers who consented to CSV")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "mobile"],
                condition=~Q(mobile=""),
                name="crm_customer_unique_mobile_per_dealership",
            ),
            models.CheckConstraint(
                condition=Q(contact_from__isnull=True, contact_until__isnull=True)
                | Q(
                    contact_from__isnull=False, contact_until__isnull=False, contact_from__lt=models.F("contact_until")
                ),
                name="crm_customer_contact_window_ordered",
            ),
        ]
        indexes = [
            GinIndex(NameGrams("full_name"), name="crm_customer_name_grams"),
            models.Index(fields=["dealership", "full_name"], name="crm_customer_name"),
            # Endings (last 4 digits and longer tails) as prefixes of the reversed value.
            models.Index(OpClass(Reverse("mobile"), name="text_pattern_ops"), name="crm_customer_mobile_reversed"),
            models.Index(OpClass(Reverse("other_phone"), name="text_pattern_ops"), name="crm_customer_other_reversed"),
            models.Index(fields=["other_phone"], name="crm_customer_other_phone"),
            GinIndex(OpClass("mobile", name="gin_trgm_ops"), name="crm_customer_mobile_trgm"),
            GinIndex(OpClass("other_phone", name="gin_trgm_ops"), name="crm_customer_other_trgm"),
            # newest first with a tie-break: a segment's first page reads it in order instead of sorting
            models.Index(fields=["dealership", "-created_at", "-id"], name="crm_customer_newest"),
            models.Index(fields=["owner"], name="crm_customer_owner"),
            GinIndex(fields=["tags"], name="crm_customer_tags"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("crm:customer-detail", args=[self.pk])


class Vehicle(models.Model):
    """A vehicle known to the rooftop, with its current owner; the VIN is unique within a rooftop."""

    dealership = models.ForeignKey(
        Dealership, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("dealership")
    )
    vin = models.CharField(_("VIN"), max_length=17)
    plate = models.CharField(_("plate"), max_length=16, blank=True)
    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=80)
    trim = models.CharField(_("trim"), max_length=80, blank=True)
    year = models.PositiveSmallIntegerField(
        _("model year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1950), MaxValueValidator(2100)],
    )
    colour = models.CharField(_("colour"), max_length=40, blank=True)
    purchased_on = models.DateField(_("purchase date"), null=True, blank=True)
    warranty_ends_on = models.DateField(_("warranty ends"), null=True, blank=True)
    # When the next maintenance falls due, by date or by mileage, whichever comes first (set at each
    # service delivery); the daily maintenance-due scan calls the owner in time to book it.
    next_service_on = models.DateField(_("next maintenance due"), null=True, blank=True)
    next_service_km = models.PositiveIntegerField(
        _("next maintenance at (km)"), null=True, blank=True, validators=[MaxValueValidator(2_000_000)]
    )
    owner = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vehicles",
        verbose_name=_("current owner"),
    )
    sales_channel = models.CharField(
        _("sold through"),
        max_length=14,
        choices=SalesChannel.choices,
        default=SalesChannel.UNKNOWN,
        db_default=SalesChannel.UNKNOWN,
    )
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            models.UniqueConstraint(fields=["dealership", "vin"], name="crm_vehicle_unique_vin_per_dealership"),
            models.UniqueConstraint(
                fields=["dealership", "plate"],
                condition=~Q(plate=""),
                name="crm_vehicle_unique_plate_per_dealership",
            ),
        ]
        indexes = [
            GinIndex(OpClass("vin", name="gin_trgm_ops"), name="crm_vehicle_vin_trgm"),
            GinIndex(OpClass("plate", name="gin_trgm_ops"), name="crm_vehicle_plate_trgm"),
            models.Index(OpClass(Reverse("plate"), name="text_pattern_ops"), name="crm_vehicle_plate_reversed"),
            models.Index(OpClass(Reverse("vin"), name="text_pattern_ops"), name="crm_vehicle_vin_reversed"),
            models.Index(fields=["plate"], name="crm_vehicle_plate", opclasses=["varchar_pattern_ops"]),
            # the segments' "model starts with" (istartswith: UPPER(model) LIKE …), and its statistics
            models.Index(OpClass(Upper("model"), name="text_pattern_ops"), name="crm_vehicle_model_upper"),
            models.Index(fields=["owner"], name="crm_vehicle_owner"),
            # The daily maintenance-due scan: due by date, or by kilometres left before the next service.
            models.Index(
                fields=["next_service_on"], condition=Q(next_service_on__isnull=False), name="crm_vehicle_service_date"
            ),
            models.Index(
                F("next_service_km") - F("odometer_km"),
                condition=Q(next_service_km__isnull=False),
                name="crm_vehicle_service_km_left",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plate or self.vin} {self.make} {self.model}"

    def get_absolute_url(self) -> str:
        return reverse("crm:vehicle-detail", args=[self.pk])

    @property
    def is_under_warranty(self) -> bool:
        from django.utils import timezone

        return self.warranty_ends_on is not None and self.warranty_ends_on >= timezone.localdate()


class VehicleOwnership(models.Model):
    """Who owned a vehicle when; at most one open ownership per vehicle, so history survives a sale."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="ownerships")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="ownerships")
    started_on = models.DateField(_("owner since"))
    ended_on = models.DateField(_("owner until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["vehicle", "-started_on", "-id"]
        verbose_name = _("vehicle ownership")
        verbose_name_plural = _("vehicle ownerships")
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(ended_on__isnull=True),
                name="crm_ownership_one_open_per_vehicle",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="crm_ownership_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["customer"], name="crm_ownership_customer")]

    def __str__(self) -> str:
        return f"{self.vehicle_id} → {self.customer_id} ({self.started_on}–{self.ended_on or ''})"


class OdometerReading(models.Model):
    """One odometer reading of a vehicle, with the date it was read."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="odometer_readings")
    reading_km = models.PositiveIntegerField(_("odometer (km)"), validators=[MaxValueValidator(2_000_000)])
    read_on = models.DateField(_("read on"))
    correction_reason = models.CharField(_("correction reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["vehicle", "-read_on", "-id"]
        verbose_name = _("odometer reading")
        verbose_name_plural = _("odometer readings")
        indexes = [models.Index(fields=["vehicle", "-read_on"], name="crm_odometer_latest")]

    def __str__(self) -> str:
        return f"{self.reading_km} km ({self.read_on})"


class Complaint(models.Model):
    """A customer's complaint 投诉: received → investigating → solution agreed → implemented → call-back
    done → closed, every step an event; due by its severity, escalated to the manager when overdue."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="complaints")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("customer")
    )
    source = models.CharField(_("source"), max_length=20, choices=ComplaintSource.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(
        _("status"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    category = models.CharField(
        _("category"), max_length=20, choices=ComplaintCategory.choices, default=ComplaintCategory.OTHER
    )
    # What it is about: a repair order, a sales order, or nothing in particular.
    subject_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.BigIntegerField(null=True, blank=True)
    description = models.TextField(_("what the customer said"))
    solution = models.TextField(_("solution agreed"), blank=True)
    owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints", verbose_name=_("owner")
    )
    due_at = models.DateTimeField(_("due at"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("escalated to")
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["dealership", "status", "due_at"], name="crm_complaint_open"),
            models.Index(
                fields=["due_at"],
                condition=Q(escalated_at__isnull=True)
                & Q(status__in=["received", "investigating", "solution_agreed", "implemented"]),
                name="crm_complaint_to_escalate",
            ),
            models.Index(fields=["subject_type", "subject_id"], name="crm_complaint_subject"),
            models.Index(fields=["customer", "-created_at"], name="crm_complaint_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.description[:40]}"

    def get_absolute_url(self) -> str:
        return reverse("crm:complaint-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_COMPLAINT_STATUSES


class ComplaintEvent(models.Model):
    """Who moved a complaint from which state to which, when."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    from_status = models.CharField(max_length=20, choices=ComplaintStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ComplaintStatus.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("complaint step")
        verbose_name_plural = _("complaint steps")
        ordering = ["complaint", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.from_status} → {self.to_status}"


class Questionnaire(models.Model):
    """A rooftop's satisfaction questionnaire 满意度调查 for sales deliveries or service visits; one is in
    use per rooftop and kind (a changed one is a new questionnaire, so old answers keep their questions)."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="questionnaires")
    kind = models.CharField(_("kind"), max_length=20, choices=SurveyKind.choices)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["dealership", "kind", "-created_at"]
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "kind"], condition=Q(active=True), name="crm_one_questionnaire_in_use"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.CharField(_("question"), max_length=300)
    scale = models.CharField(_("answer"), max_length=6, choices=QuestionScale.choices, default=QuestionScale.FIVE)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["questionnaire", "position"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "position"], name="crm_question_position")]

    def __str__(self) -> str:
        return self.text

    @property
    def bounds(self) -> tuple[int, int] | None:
        return {QuestionScale.FIVE: (1, 5), QuestionScale.TEN: (0, 10)}.get(self.scale)


class SurveyResponse(models.Model):
    """One customer's survey about one delivery or visit: sent as a link (or asked on a call), answered
    once; a low score opens a complaint."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="responses")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="surveys")
    subject_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    staff = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("served by")
    )
    status = models.CharField(_("status"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.SENT)
    channel = models.CharField(_("answered by"), max_length=6, choices=SurveyChannel.choices, blank=True)
    expires_at = models.DateTimeField(_("link valid until"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    score = models.DecimalField(
        _("score (0–100)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Scored answers, as a share of the best."),
    )
    complaint = models.ForeignKey(Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "subject_type", "subject_id"], name="crm_one_survey_per_subject"
            )
        ]
        indexes = [
            models.Index(fields=["dealership", "status", "-answered_at"], name="crm_survey_results"),
            models.Index(fields=["customer", "-created_at"], name="crm_survey_customer"),
            models.Index(fields=["staff", "-answered_at"], name="crm_survey_staff"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_id} · {self.customer_id}"


class Answer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    score = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["response", "question__position"]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="crm_one_answer_per_question"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=10), name="crm_answer_range"
            ),
        ]
        indexes = [models.Index(fields=["question", "score"], name="crm_answer_distribution")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.score if self.score is not None else self.text[:20]}"


class CareSettings(models.Model):
    """A rooftop's customer-care rules: when a customer counts as lost, and loyalty points."""

    dealership = models.OneToOneField(Dealership, on_delete=models.CASCADE, related_name="care_settings")
    lost_after_months = models.PositiveSmallIntegerField(
        _("a vehicle is lost after (months without a visit)"), default=12, validators=[MinValueValidator(1)]
    )
    points_per_100_yuan = models.PositiveSmallIntegerField(_("loyalty points per ¥100 paid"), default=1)

    class Meta:
        verbose_name = _("customer-care settings")
        verbose_name_plural = _("customer-care settings")

    def __str__(self) -> str:
        return str(self.dealership)

    @classmethod
    def of(cls, dealership: Dealership) -> CareSettings:
        settings, _created = cls.objects.get_or_create(dealership=dealership)
        return settings


class LoyaltyTier(models.Model):
    """A loyalty level 会员等级 reached at a number of points, per rooftop."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="loyalty_tiers")
    name = models.CharField(_("tier"), max_length=40)
    threshold = models.PositiveIntegerField(_("from (points)"))

    objects = DealershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("loyalty tier")
        verbose_name_plural = _("loyalty tiers")
        ordering = ["dealership", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["dealership", "threshold"], name="crm_tier_threshold"),
            models.UniqueConstraint(fields=["dealership", "name"], name="crm_tier_name"),
        ]

    def __str__(self) -> str:
        return self.name


class PointsEntry(models.Model):
    """Loyalty points earned (a paid invoice) or spent; the balance is their sum. One entry per subject
    and reason, so a paid invoice never earns twice."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="points")
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=40)
    subject_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "reason"],
                condition=Q(subject_id__isnull=False),
                name="crm_points_once_per_subject",
            )
        ]
        indexes = [models.Index(fields=["customer", "-created_at"], name="crm_points_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.points:+d} {self.reason}"


class Segment(models.Model):
    """A saved customer segment 客户细分: its criteria (validated by ``crm.segments``) and a live count."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="segments")
    name = models.CharField(_("name"), max_length=100)
    criteria = models.JSONField(_("criteria"), default=dict)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [models.UniqueConstraint(fields=["dealership", "name"], name="crm_segment_name")]

    def __str__(self) -> str:
        return self.name


class ExportLog(models.Model):
    """Who exported which customers, when (the audit of every CSV export)."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="exports")
    criteria = models.JSONField(default=dict)
    row_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.row_count} · {self.created_at:%Y-%m-%d %H:%M}"


class RevealLog(models.Model):
    """A masked phone or ID number shown in full on a click: who, whose, which, when."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=12, choices=RevealedField.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("number shown")
        verbose_name_plural = _("numbers shown")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="crm_reveal_customer")]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.field} of {self.customer_id}"


class VoucherType(models.Model):
    """A kind of voucher 代金券 a rooftop issues: its value and how long it is valid."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="voucher_types")
    kind = models.CharField(_("kind"), max_length=12, choices=VoucherKind.choices)
    name = models.CharField(_("name"), max_length=100)
    value = models.DecimalField(
        _("value"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    valid_days = models.PositiveSmallIntegerField(_("valid for (days)"), default=90, validators=[MinValueValidator(1)])
    active = models.BooleanField(_("in use"), default=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("voucher type")
        verbose_name_plural = _("voucher types")
        ordering = ["dealership", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["dealership", "name"], name="crm_voucher_type_name")]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """A campaign 营销活动: a segment, an offer (a voucher type), a channel and its dates; running it
    turns the segment into calls or messages through the follow-up engine."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(_("name"), max_length=100)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns")
    offer = models.CharField(_("offer"), max_length=300, blank=True)
    voucher_type = models.ForeignKey(
        VoucherType, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=CampaignChannel.choices, default=CampaignChannel.CALL
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="crm_campaign_dates")]

    def __str__(self) -> str:
        return self.name


class Voucher(models.Model):
    """One voucher issued to one customer: single use, valid between two dates, redeemed on a repair order
    or a sales order (a conditional update: two redemptions at once, one wins)."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="vouchers")
    voucher_type = models.ForeignKey(VoucherType, on_delete=models.PROTECT, related_name="vouchers")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="vouchers")
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="vouchers")
    code = models.CharField(_("code"), max_length=20, unique=True)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=10, choices=VoucherStatus.choices, default=VoucherStatus.ISSUED)
    issued_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    redeemed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    redeemed_on_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    redeemed_on_id = models.BigIntegerField(null=True, blank=True)
    redeemed_amount = models.DecimalField(
        _("revenue of the order it was redeemed on"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="crm_voucher_dates"),
            models.CheckConstraint(
                condition=Q(status="redeemed", redeemed_at__isnull=False) | ~Q(status="redeemed"),
                name="crm_voucher_redeemed_when",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="crm_voucher_customer"),
            models.Index(fields=["campaign", "status"], name="crm_voucher_campaign"),
        ]

    def __str__(self) -> str:
        return self.code

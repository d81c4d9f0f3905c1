"""Service API shapes. Output serializers mask the customer's phone for roles without
``crm.view_customer_phone`` and leave money out (prices, totals, payments) for roles without
``service.view_payment``; input serializers only parse and scope ids to the caller's rooftops, and
``service.services`` checks and writes."""

import re
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.serializers import PhoneMaskingMixin
from crm.choices import Role
from crm.models import Customer, User, Vehicle
from crm.querysets import user_dealership_ids

from .. import pricing
from ..choices import ApprovalChannel, OldParts, PaymentMethod, PayType, RepairOrderStatus, ServiceType
from ..models import (
    Appointment,
    DamageMark,
    Job,
    LabourLine,
    Part,
    PartLine,
    Payment,
    QualityCheck,
    RepairOrder,
    RepairOrderEvent,
    TimeEntry,
)

MONEY_PERMISSION = "service.view_payment"
VERSION_HELP = "The version you read; a stale one is refused with 409."


def may_see_money(context) -> bool:
    request = context.get("request")
    return request is not None and request.user.has_perm(MONEY_PERMISSION)


class MoneyHidingMixin:
    """Leaves ``money_fields`` out for roles that may not see payments. The fields are declared
    optional, so the schema says they may be absent."""

    money_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.money_fields and not may_see_money(self.context):
            for name in self.money_fields:
                data.pop(name, None)
        return data


class MoneyField(serializers.DecimalField):
    """An amount in yuan as a decimal string; optional in the schema (absent for roles without money)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(max_digits=12, decimal_places=2, **kwargs)


class LineAmountField(MoneyField):
    """A line's amount before its discount: hours × rate, or quantity × unit price."""

    def __init__(self, amount, **kwargs):
        self.amount = amount
        super().__init__(source="*", **kwargs)

    def to_representation(self, line):
        return super().to_representation(self.amount(line))


@extend_schema_field(OpenApiTypes.INT)
class TechnicianField(serializers.PrimaryKeyRelatedField):
    """An active technician of the caller's rooftops; anyone else is 'does not exist'."""

    def get_queryset(self):
        request = self.context["request"]
        return User.objects.filter(
            groups__name=Role.TECHNICIAN.value, dealerships__in=user_dealership_ids(request.user), is_active=True
        ).distinct()


@extend_schema_field(OpenApiTypes.INT)
class StaffField(serializers.PrimaryKeyRelatedField):
    """An active staff member of the caller's rooftops."""

    def get_queryset(self):
        request = self.context["request"]
        return User.objects.filter(dealerships__in=user_dealership_ids(request.user), is_active=True).distinct()


@extend_schema_field(OpenApiTypes.INT)
class ScopedField(serializers.PrimaryKeyRelatedField):
    """A row of the caller's rooftops (``Model.objects.for_user``); another rooftop's is 'does not exist'."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.for_user(self.context["request"].user)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


# --- appointments ----------------------------------------------------------------------------


class AppointmentSerializer(PhoneMaskingMixin, serializers.ModelSerializer):
    phone_fields = ("customer_mobile",)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    customer_mobile = serializers.CharField(source="customer.mobile", read_only=True)
    vehicle_plate = serializers.CharField(source="vehicle.plate", read_only=True)
    vehicle_vin = serializers.CharField(source="vehicle.vin", read_only=True)
    advisor_name = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "dealership",
            "customer",
            "customer_name",
            "customer_mobile",
            "vehicle",
            "vehicle_plate",
            "vehicle_vin",
            "advisor",
            "advisor_name",
            "service_type",
            "starts_at",
            "ends_at",
            "concern",
            "parts_to_reserve",
            "status",
            "rescheduled_to",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_advisor_name(self, appointment):
        return str(appointment.advisor) if appointment.advisor_id else None


class AppointmentInputSerializer(serializers.Serializer):
    vehicle = ScopedField(Vehicle)
    customer = ScopedField(Customer, required=False, allow_null=True, help_text="Defaults to the vehicle's owner.")
    advisor = StaffField(required=False, allow_null=True)
    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    starts_at = serializers.DateTimeField()
    concern = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    parts_to_reserve = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


# --- repair orders: the parts of the detail ----------------------------------------------------


LINE_FIELDS = [
    "status",
    "is_additional",
    "note",
    "added_by",
    "decided_by_name",
    "decided_at",
    "decided_channel",
    "created_at",
]


class LabourLineSerializer(MoneyHidingMixin, serializers.ModelSerializer):
    money_fields = ("rate", "amount", "discount_amount")
    rate = MoneyField()
    amount = LineAmountField(pricing.labour_amount)
    discount_amount = MoneyField()
    technician_name = serializers.SerializerMethodField()

    class Meta:
        model = LabourLine
        fields = [
            "id",
            "operation_code",
            "description",
            "hours",
            "rate",
            "amount",
            "discount_amount",
            "pay_type",
            "technician",
            "technician_name",
            *LINE_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_technician_name(self, line):
        return str(line.technician) if line.technician_id else None


class PartLineSerializer(MoneyHidingMixin, serializers.ModelSerializer):
    money_fields = ("unit_price", "amount", "discount_amount")
    unit_price = MoneyField()
    amount = LineAmountField(pricing.part_amount)
    discount_amount = MoneyField()

    class Meta:
        model = PartLine
        fields = [
            "id",
            "part",
            "part_number",
            "description",
            "quantity",
            "issued_quantity",
            "to_order",
            "unit_price",
            "amount",
            "discount_amount",
            "pay_type",
            *LINE_FIELDS,
        ]
        read_only_fields = fields


class TimeEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = TimeEntry
        fields = ["id", "technician", "started_at", "ended_at"]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    technician_name = serializers.SerializerMethodField()
    time_entries = TimeEntrySerializer(many=True, read_only=True)
    is_clocked_on = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "repair_order",
            "technician",
            "technician_name",
            "bay",
            "planned_hours",
            "is_clocked_on",
            "time_entries",
            "created_at",
        ]
        read_only_fields = fields

    def get_technician_name(self, job) -> str:
        return str(job.technician)

    def get_is_clocked_on(self, job) -> bool:
        return any(entry.ended_at is None for entry in job.time_entries.all())


class QualityCheckSerializer(serializers.ModelSerializer):
    inspector_name = serializers.SerializerMethodField()

    class Meta:
        model = QualityCheck
        fields = ["id", "inspector", "inspector_name", "passed", "reason", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_inspector_name(self, check):
        return str(check.inspector) if check.inspector_id else None


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "amount", "method", "received_by", "created_at"]
        read_only_fields = fields


class RepairOrderEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = RepairOrderEvent
        fields = ["id", "actor", "actor_name", "from_status", "to_status", "note", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor_name(self, event):
        return str(event.actor) if event.actor_id else None


class DamageMarkSerializer(serializers.ModelSerializer):
    class Meta:
        model = DamageMark
        fields = ["id", "panel", "damage", "note", "photo"]
        read_only_fields = fields


class TotalsSerializer(serializers.Serializer):
    """The order's money from its approved lines (``service.pricing``), what was paid and what is due."""

    labour = MoneyField(source="totals.labour", read_only=True)
    parts = MoneyField(source="totals.parts", read_only=True)
    discount = MoneyField(source="totals.discount", read_only=True)
    net = MoneyField(source="totals.net", read_only=True)
    tax = MoneyField(source="totals.tax", read_only=True)
    total = MoneyField(source="totals.total", help_text="All payers: customer, warranty and internal.", read_only=True)
    customer_due = MoneyField(
        source="totals.customer_due", help_text="The customer-pay total, with tax.", read_only=True
    )
    proposed = MoneyField(
        source="totals.proposed", help_text="Additional work awaiting the customer's answer.", read_only=True
    )
    paid = MoneyField(read_only=True)
    balance = MoneyField(help_text="Still due from the customer.", read_only=True)


# --- repair orders ---------------------------------------------------------------------------


class RepairOrderSerializer(MoneyHidingMixin, serializers.ModelSerializer):
    """A repair order in a list; ``totals`` only for roles that may see money."""

    money_fields = ("totals",)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    vehicle_plate = serializers.CharField(source="vehicle.plate", read_only=True)
    advisor_name = serializers.SerializerMethodField()
    totals = TotalsSerializer(source="*", required=False)

    class Meta:
        model = RepairOrder
        fields = [
            "id",
            "number",
            "dealership",
            "status",
            "customer",
            "customer_name",
            "vehicle",
            "vehicle_plate",
            "advisor",
            "advisor_name",
            "service_type",
            "pay_type",
            "is_comeback",
            "promised_at",
            "checked_in_at",
            "ready_at",
            "delivered_at",
            "rework_count",
            "totals",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_advisor_name(self, repair_order):
        return str(repair_order.advisor) if repair_order.advisor_id else None


class RepairOrderDetailSerializer(PhoneMaskingMixin, RepairOrderSerializer):
    """A repair order with its check-in record, lines, jobs, checks, events and, for roles that may see
    money, its prices, totals and payments."""

    phone_fields = ("customer_mobile",)
    money_fields = ("totals", "discount_amount", "tax_rate", "payment_method", "paid_at", "payments")
    customer_mobile = serializers.CharField(source="customer.mobile", read_only=True)
    discount_amount = MoneyField(help_text="The order discount, off the customer-pay net.")
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=4, required=False)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    paid_at = serializers.DateTimeField(required=False, allow_null=True)
    labour_lines = LabourLineSerializer(many=True, read_only=True)
    part_lines = PartLineSerializer(many=True, read_only=True)
    jobs = JobSerializer(many=True, read_only=True)
    quality_checks = QualityCheckSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, required=False)
    events = RepairOrderEventSerializer(many=True, read_only=True)
    damage_marks = DamageMarkSerializer(many=True, read_only=True)

    class Meta(RepairOrderSerializer.Meta):
        fields = [
            *RepairOrderSerializer.Meta.fields,
            "customer_mobile",
            "appointment",
            "odometer_km",
            "fuel_level",
            "valuables",
            "warning_lights",
            "concern",
            "diagnosis",
            "old_parts",
            "free_wash",
            "discount_amount",
            "tax_rate",
            "payment_method",
            "approved_by_name",
            "approved_at",
            "approval_channel",
            "paid_at",
            "labour_lines",
            "part_lines",
            "jobs",
            "quality_checks",
            "payments",
            "events",
            "damage_marks",
            "created_at",
        ]
        read_only_fields = fields


class CheckInSerializer(serializers.Serializer):
    """Check a vehicle in: an arriving appointment or a walk-in."""

    vehicle = ScopedField(Vehicle)
    customer = ScopedField(Customer, required=False, allow_null=True, help_text="Defaults to the vehicle's owner.")
    appointment = ScopedField(Appointment, required=False, allow_null=True)
    concern = serializers.CharField(max_length=4000)
    odometer_km = serializers.IntegerField(min_value=0, max_value=2_000_000)
    odometer_correction_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        help_text="Required when the reading is below the vehicle's last one.",
    )
    fuel_level = serializers.IntegerField(min_value=0, max_value=100, required=False, default=50)
    valuables = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    warning_lights = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    service_type = serializers.ChoiceField(choices=ServiceType.choices, required=False, default=ServiceType.REPAIR)
    pay_type = serializers.ChoiceField(choices=PayType.choices, required=False, default=PayType.CUSTOMER)
    promised_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class RepairOrderUpdateSerializer(serializers.Serializer):
    """The order's terms; send only what changes, with the version you read."""

    promised_at = serializers.DateTimeField(required=False, allow_null=True)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    old_parts = serializers.ChoiceField(choices=OldParts.choices, required=False)
    free_wash = serializers.BooleanField(required=False)
    discount_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    diagnosis = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    pay_type = serializers.ChoiceField(choices=PayType.choices, required=False)
    version = serializers.IntegerField(help_text=VERSION_HELP)


class LabourLineInputSerializer(serializers.Serializer):
    operation_code = serializers.CharField(max_length=20)
    description = serializers.CharField(max_length=200)
    hours = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"))
    pay_type = serializers.ChoiceField(
        choices=PayType.choices, required=False, help_text="Defaults to the order's pay type."
    )
    discount_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=pricing.ZERO
    )
    technician = TechnicianField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class PartLineInputSerializer(serializers.Serializer):
    part_number = serializers.CharField(max_length=40)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", help_text="Required if not in the catalogue."
    )
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to the catalogue price; required if not in the catalogue.",
    )
    pay_type = serializers.ChoiceField(
        choices=PayType.choices, required=False, help_text="Defaults to the order's pay type."
    )
    discount_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=pricing.ZERO
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class ApproveSerializer(serializers.Serializer):
    approved_by_name = serializers.CharField(max_length=100, help_text="The customer's name as they signed.")
    channel = serializers.ChoiceField(choices=ApprovalChannel.choices)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


DECISION_KEY = re.compile(r"^(labour|part):\d+$")


class DecideSerializer(serializers.Serializer):
    decisions = serializers.DictField(
        child=serializers.BooleanField(),
        allow_empty=False,
        help_text='The customer\'s answer per pending line: {"labour:12": true, "part:7": false}.',
    )
    decided_by_name = serializers.CharField(max_length=100)
    channel = serializers.ChoiceField(choices=ApprovalChannel.choices)
    promised_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)

    def validate_decisions(self, decisions):
        wrong = sorted(key for key in decisions if not DECISION_KEY.match(key))
        if wrong:
            raise serializers.ValidationError(f"Name lines as 'labour:<id>' or 'part:<id>', not {', '.join(wrong)}.")
        return decisions


class TransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(
        choices=RepairOrderStatus.choices,
        help_text="waiting_parts, in_progress (back from waiting for parts), quality_check or cancelled; "
        "approval, quality results and delivery have their own actions.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class DispatchSerializer(serializers.Serializer):
    technician = TechnicianField()
    planned_hours = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"))
    bay = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")


class QualityCheckInputSerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, default="", help_text="Required when it failed."
    )


class PaymentInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    method = serializers.ChoiceField(choices=PaymentMethod.choices)


class DeliverSerializer(serializers.Serializer):
    next_service_on = serializers.DateField(required=False, allow_null=True, default=None)
    next_service_km = serializers.IntegerField(min_value=0, max_value=2_000_000, required=False, allow_null=True)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class PartIssueSerializer(serializers.Serializer):
    part_line = serializers.IntegerField(help_text="A parts line of this order.")
    quantity = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to the line's open quantity.",
    )


# --- parts and technicians ---------------------------------------------------------------------


class PartSerializer(MoneyHidingMixin, serializers.ModelSerializer):
    money_fields = ("unit_price",)
    unit_price = MoneyField()

    class Meta:
        model = Part
        fields = ["id", "dealership", "part_number", "description", "unit_price", "stock_on_hand", "unit"]
        read_only_fields = fields


class TechnicianSerializer(serializers.ModelSerializer):
    rooftops = serializers.PrimaryKeyRelatedField(
        source="dealerships", many=True, read_only=True, help_text="Those of your rooftops they work at."
    )
    is_clocked_on = serializers.BooleanField(read_only=True)
    current_job = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The job they are clocked on, if it is at one of your rooftops."
    )
    current_repair_order = serializers.IntegerField(read_only=True, allow_null=True)
    current_repair_order_number = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "full_name",
            "rooftops",
            "is_clocked_on",
            "current_job",
            "current_repair_order",
            "current_repair_order_number",
        ]
        read_only_fields = fields

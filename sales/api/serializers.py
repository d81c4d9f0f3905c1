"""Sales API shapes. Output serializers are read-only: a lead's stage, grade, owner and lost fields change
only through its actions, and the customer's phone is masked for roles without
``crm.view_customer_phone`` (crm's ``PhoneMaskingMixin``). Input serializers only parse and scope every
id to the caller's rooftops (and a consultant's own leads): another rooftop's id "does not exist".
``sales.services`` checks and writes. Money is a decimal string."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.serializers import PhoneMaskingMixin, RooftopField
from crm.models import Customer, User
from crm.querysets import user_dealership_ids
from crm.validators import vin_validate

from .. import selectors, services
from ..choices import ActivityKind, Grade, LeadSource, Stage, StockStatus, Timeframe
from ..models import (
    MONEY,
    Activity,
    DemoVehicle,
    Lead,
    LeadEvent,
    LostReason,
    Order,
    Quote,
    SalesSettings,
    StockVehicle,
    TestDrive,
)

VERSION_HELP = "The version you read; a stale one is refused with 409."
VIN_TAKEN = _("This rooftop's stock already has a car with this VIN.")


def _user(context) -> User:
    return context["request"].user


def _name(user: User | None) -> str | None:
    return str(user) if user is not None else None


@extend_schema_field(OpenApiTypes.INT)
class ScopedField(serializers.PrimaryKeyRelatedField):
    """A row the caller may reach, ``rows(user)``; any other id is 'does not exist', never a leak."""

    def __init__(self, rows, **kwargs):
        self.rows = rows
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.rows(_user(self.context))


def _customers(user):
    return Customer.objects.for_user(user)


def _staff(user):
    """Active staff of the caller's rooftops; the service checks their role and rooftop."""
    return User.objects.filter(dealerships__in=user_dealership_ids(user), is_active=True).distinct()


def _leads_to_change(user):
    return services.leads_for(user, "change")


def _demo_vehicles(user):
    return DemoVehicle.objects.for_user(user)


def _stock(user):
    return StockVehicle.objects.for_user(user)


def _quotes(user):
    return selectors.quote_list(user=user)


def _lost_reasons(user):
    return LostReason.objects.for_user(user)


class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(**MONEY, **kwargs)


# --- leads ---------------------------------------------------------------------------------------


class LeadEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = LeadEvent
        fields = ["id", "field", "from_value", "to_value", "note", "actor", "actor_name", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor_name(self, event):
        return _name(event.actor)


class ActivitySerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = [
            "id",
            "lead",
            "kind",
            "occurred_at",
            "ended_at",
            "party_size",
            "outcome",
            "next_step",
            "actor",
            "actor_name",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor_name(self, activity):
        return _name(activity.actor)


class LeadSerializer(PhoneMaskingMixin, serializers.ModelSerializer):
    """A lead in a list."""

    phone_fields = ("customer_mobile",)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    customer_mobile = serializers.CharField(source="customer.mobile", read_only=True)
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = [
            "id",
            "dealership",
            "customer",
            "customer_name",
            "customer_mobile",
            "owner",
            "owner_name",
            "source",
            "referrer",
            "model_of_interest",
            "budget",
            "intended_use",
            "timeframe",
            "trade_in",
            "finance_need",
            "stage",
            "grade",
            "last_contact_at",
            "next_followup_on",
            "lost_review",
            "lost_reason",
            "lost_note",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_owner_name(self, lead) -> str:
        return str(lead.owner)


class LeadDetailSerializer(LeadSerializer):
    """A lead with its history (every stage, grade, owner and review change) and its activities, newest
    first."""

    lost_reason_name = serializers.CharField(source="lost_reason.name", read_only=True, default=None)
    updated_by_name = serializers.SerializerMethodField()
    events = LeadEventSerializer(many=True, read_only=True)
    activities = ActivitySerializer(many=True, read_only=True)
    test_drives = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    quotes = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text="Newest version first.")
    orders = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(LeadSerializer.Meta):
        fields = [
            *LeadSerializer.Meta.fields,
            "lost_reason_name",
            "updated_by",
            "updated_by_name",
            "events",
            "activities",
            "test_drives",
            "quotes",
            "orders",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_updated_by_name(self, lead):
        return _name(lead.updated_by)


class LeadInputSerializer(serializers.Serializer):
    """A new lead for a customer of your rooftops; a manager may give it to another consultant."""

    customer = ScopedField(_customers)
    source = serializers.ChoiceField(choices=LeadSource.choices)
    owner = ScopedField(
        _staff, required=False, help_text="The consultant; defaults to you (only a manager gives leads to others)."
    )
    referrer = ScopedField(
        _customers, required=False, allow_null=True, help_text="The customer who referred them (for a referral)."
    )
    grade = serializers.ChoiceField(choices=Grade.choices, required=False, help_text="The first grade, if known.")
    model_of_interest = serializers.CharField(max_length=80, required=False, allow_blank=True)
    budget = MoneyField(required=False, allow_null=True)
    intended_use = serializers.CharField(max_length=120, required=False, allow_blank=True)
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, required=False, allow_blank=True)
    trade_in = serializers.CharField(max_length=120, required=False, allow_blank=True)
    finance_need = serializers.BooleanField(required=False)


class LeadStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=Stage.choices,
        help_text="Along the funnel up to negotiating, or dormant; lost, ordered and delivered have their own steps.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class LeadGradeSerializer(serializers.Serializer):
    grade = serializers.ChoiceField(choices=Grade.choices)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class LeadReassignSerializer(serializers.Serializer):
    owner = ScopedField(_staff, help_text="A sales consultant of the lead's rooftop.")


class ActivityInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Default: now.")
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    party_size = serializers.IntegerField(min_value=1, max_value=100, required=False, allow_null=True, default=None)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class LeadApplyLostSerializer(serializers.Serializer):
    reason = ScopedField(
        _lost_reasons, required=False, allow_null=True, default=None, help_text="Required: why the lead was lost."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class LeadReviewLostSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text="True closes the lead as lost; false sends it back with the note.")
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, default="", help_text="Required when sending it back."
    )


class LeadNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


# --- test drives ---------------------------------------------------------------------------------


class TestDriveSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="lead.customer.full_name", read_only=True)
    demo_vehicle_name = serializers.SerializerMethodField()

    class Meta:
        model = TestDrive
        fields = [
            "id",
            "dealership",
            "lead",
            "customer_name",
            "demo_vehicle",
            "demo_vehicle_name",
            "starts_at",
            "ends_at",
            "licence_number",
            "licence_expires_on",
            "status",
            "feedback",
            "booked_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_demo_vehicle_name(self, drive) -> str:
        return str(drive.demo_vehicle)


class TestDriveInputSerializer(serializers.Serializer):
    lead = ScopedField(_leads_to_change)
    demo_vehicle = ScopedField(_demo_vehicles)
    starts_at = serializers.DateTimeField()
    licence_number = serializers.CharField(max_length=40)
    licence_expires_on = serializers.DateField(help_text="The licence must be valid on the day of the drive.")


class TestDriveCompleteSerializer(serializers.Serializer):
    feedback = serializers.CharField(max_length=4000, allow_blank=True, help_text="What the customer said.")


# --- quotes --------------------------------------------------------------------------------------


class QuoteSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="lead.customer.full_name", read_only=True)
    needs_discount_approval = serializers.SerializerMethodField(
        help_text="The discount is beyond the consultants' limit and no manager has approved it yet."
    )

    class Meta:
        model = Quote
        fields = [
            "id",
            "dealership",
            "lead",
            "customer_name",
            "version",
            "stock_vehicle",
            "model",
            "list_price",
            "discount",
            "discount_approved_by",
            "needs_discount_approval",
            "accessories",
            "accessories_price",
            "trade_in_value",
            "insurance",
            "down_payment",
            "term_months",
            "annual_rate",
            "monthly_payment",
            "total",
            "accepted_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_needs_discount_approval(self, quote) -> bool:
        # the rooftop's limit is read once per rooftop per response, not once per quote
        limits = self.context.setdefault("discount_limits", {})
        if quote.dealership_id not in limits:
            limits[quote.dealership_id] = SalesSettings.of(quote.dealership).discount_limit
        return services.needs_discount_approval(quote, discount_limit=limits[quote.dealership_id])


class QuoteInputSerializer(serializers.Serializer):
    """A new version of the lead's offer; the service checks the amounts and the finance plan."""

    lead = ScopedField(_leads_to_change)
    stock_vehicle = ScopedField(_stock, required=False, allow_null=True, default=None)
    model = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default="", help_text="Default: the stock car's model."
    )
    list_price = MoneyField()
    discount = MoneyField(required=False, default=Decimal("0"))
    accessories = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    accessories_price = MoneyField(required=False, default=Decimal("0"))
    trade_in_value = MoneyField(required=False, default=Decimal("0"))
    insurance = MoneyField(required=False, default=Decimal("0"))
    down_payment = MoneyField(required=False, allow_null=True, default=None, help_text="With finance.")
    term_months = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="With finance.")
    annual_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        required=False,
        allow_null=True,
        default=None,
        help_text="With finance: 0.0399 is 3.99% a year.",
    )


# --- orders --------------------------------------------------------------------------------------


class OrderSerializer(PhoneMaskingMixin, serializers.ModelSerializer):
    phone_fields = ("customer_mobile",)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    customer_mobile = serializers.CharField(source="customer.mobile", read_only=True)
    consultant_name = serializers.SerializerMethodField()
    stock_vehicle_vin = serializers.CharField(source="stock_vehicle.vin", read_only=True)
    stock_vehicle_model = serializers.CharField(source="stock_vehicle.model", read_only=True)
    balance = serializers.SerializerMethodField(help_text="Still due: the total less what was paid.")

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "dealership",
            "lead",
            "customer",
            "customer_name",
            "customer_mobile",
            "quote",
            "stock_vehicle",
            "stock_vehicle_vin",
            "stock_vehicle_model",
            "consultant",
            "consultant_name",
            "total",
            "deposit",
            "paid",
            "balance",
            "status",
            "delivery_at",
            "pdi_checklist",
            "documents_checklist",
            "delivered_at",
            "delivery_advisor",
            "vehicle",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_consultant_name(self, order) -> str:
        return str(order.consultant)

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_balance(self, order):
        return serializers.DecimalField(**MONEY).to_representation(order.total - order.paid)


class OrderInputSerializer(serializers.Serializer):
    quote = ScopedField(_quotes, help_text="The lead's latest quote.")
    stock_vehicle = ScopedField(_stock, help_text="The car to reserve for the order.")
    deposit = MoneyField(help_text="More than zero and at most the quote's total.")


class OrderPaymentSerializer(serializers.Serializer):
    amount = MoneyField(help_text="At most what is still due.")


class OrderDeliverSerializer(serializers.Serializer):
    delivery_advisor = ScopedField(_staff, help_text="The attending service advisor of the order's rooftop.")
    pdi_checklist = serializers.DictField(
        child=serializers.BooleanField(), help_text='Every item ticked: {"外观": true, "电瓶": true}.'
    )
    documents_checklist = serializers.DictField(
        child=serializers.BooleanField(), help_text='Every document handed over: {"发票": true}.'
    )


# --- stock ---------------------------------------------------------------------------------------


class StockVehicleSerializer(serializers.ModelSerializer):
    days_in_stock = serializers.SerializerMethodField(
        help_text="Days since it arrived, counted in the rooftop's time zone, while it is still for sale."
    )

    class Meta:
        model = StockVehicle
        fields = [
            "id",
            "dealership",
            "vin",
            "make",
            "model",
            "trim",
            "colour",
            "options",
            "list_price",
            "status",
            "arrived_on",
            "days_in_stock",
        ]
        read_only_fields = fields

    def get_days_in_stock(self, stock) -> int | None:
        now = self.context.setdefault("now", timezone.now())
        return stock.days_in_stock(timezone.localtime(now, stock.dealership.zone).date())


ARRIVAL_STATUSES = (StockStatus.IN_TRANSIT, StockStatus.IN_STOCK)


class StockVehicleInputSerializer(serializers.ModelSerializer):
    """A car of your rooftop's stock. Reserved, sold and delivered come from its order."""

    dealership = RooftopField()
    vin = serializers.CharField(max_length=30)
    status = serializers.ChoiceField(
        choices=[(status.value, status.label) for status in ARRIVAL_STATUSES],
        required=False,
        help_text="In transit or in stock; reserved, sold and delivered come from its order.",
    )
    list_price = MoneyField(min_value=Decimal("0"))

    class Meta:
        model = StockVehicle
        fields = [
            "dealership",
            "vin",
            "make",
            "model",
            "trim",
            "colour",
            "options",
            "list_price",
            "status",
            "arrived_on",
        ]
        validators = []  # the VIN's uniqueness is checked below, with its own message

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["dealership"].read_only = True

    def validate(self, attrs):
        dealership = attrs.get("dealership") or self.instance.dealership
        errors = {}
        if "vin" in attrs:
            try:
                attrs["vin"] = vin_validate(attrs["vin"], check_digit_required=dealership.vin_check_digit_required)
            except DjangoValidationError as error:
                errors["vin"] = error.messages
            else:
                taken = StockVehicle.objects.filter(dealership=dealership, vin=attrs["vin"])
                if self.instance is not None:
                    taken = taken.exclude(pk=self.instance.pk)
                if taken.exists():
                    errors["vin"] = [VIN_TAKEN]
        if self.instance is not None and self.instance.status not in ARRIVAL_STATUSES:
            # A reserved, sold or delivered car belongs to its order: its status and VIN stay as they are.
            for name in ("status", "vin"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    errors[name] = [
                        _("This car is %(status)s: its order changes that.")
                        % {"status": self.instance.get_status_display()}
                    ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save(update_fields=list(validated_data))
        return instance


class LostReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = LostReason
        fields = ["id", "dealership", "name"]
        read_only_fields = fields

"""API shapes: output serializers mask phones for roles without ``crm.view_customer_phone``; input
serializers only parse, and the services in ``crm.services`` normalise, check and write."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..choices import ComplaintCategory, ComplaintSource, ComplaintStatus, Severity
from ..models import (
    BusinessHours,
    Complaint,
    ComplaintEvent,
    Customer,
    Dealership,
    User,
    Vehicle,
    VehicleOwnership,
)
from ..querysets import user_dealership_ids
from ..services import CUSTOMER_INPUT_FIELDS, VEHICLE_FIELDS


class BusinessHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = BusinessHours
        fields = ["weekday", "opens_at", "closes_at"]


class DealershipSerializer(serializers.ModelSerializer):
    business_hours = BusinessHoursSerializer(many=True, read_only=True)

    class Meta:
        model = Dealership
        fields = [
            "id",
            "code",
            "name",
            "address",
            "time_zone",
            "phone_region",
            "labour_rate_amount",
            "vin_check_digit_required",
            "plate_rule",
            "business_hours",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "code", "created_at", "updated_at"]


class PhoneMaskingMixin:
    phone_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.has_perm("crm.view_customer_phone"):
            for name in self.phone_fields:  # roles that need no phone (technicians) get no digits, as on the pages
                if data.get(name):
                    data[name] = ""
        return data


class CustomerSerializer(PhoneMaskingMixin, serializers.ModelSerializer):
    phone_fields = ("mobile", "other_phone")
    vehicle_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Customer
        fields = [
            "id",
            "dealership",
            "kind",
            "full_name",
            "salutation",
            "mobile",
            "other_phone",
            "email",
            "preferred_channel",
            "contact_from",
            "contact_until",
            "marketing_consent",
            "marketing_consent_at",
            "born_on",
            "source",
            "owner",
            "notes",
            "vehicle_count",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RooftopField(serializers.PrimaryKeyRelatedField):
    """A dealership the caller works at; any other id is 'does not exist', never a leak."""

    def get_queryset(self):
        request = self.context["request"]
        return Dealership.objects.filter(pk__in=user_dealership_ids(request.user))


class CustomerInputSerializer(serializers.ModelSerializer):
    dealership = RooftopField()
    mobile = serializers.CharField(max_length=40, required=False, allow_blank=True)
    other_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False, help_text="The version you read; a stale one is refused.")

    class Meta:
        model = Customer
        fields = ["dealership", *CUSTOMER_INPUT_FIELDS, "version"]
        validators = []  # the service checks the duplicate mobile and says which customer has it

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields.pop("dealership")

    def validate(self, attrs):
        start, end = attrs.get("contact_from"), attrs.get("contact_until")
        if start and end and start >= end:
            raise serializers.ValidationError({"contact_until": "The window must end after it starts."})
        return attrs


class VehicleOwnershipSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)

    class Meta:
        model = VehicleOwnership
        fields = ["customer", "customer_name", "started_on", "ended_on"]


class VehicleSerializer(serializers.ModelSerializer):
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "dealership",
            "vin",
            "plate",
            "make",
            "model",
            "trim",
            "year",
            "colour",
            "purchased_on",
            "warranty_ends_on",
            "next_service_on",
            "next_service_km",
            "owner",
            "owner_name",
            "odometer_km",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, vehicle):
        return vehicle.owner.full_name if vehicle.owner_id else None


class VehicleInputSerializer(serializers.ModelSerializer):
    dealership = RooftopField()
    vin = serializers.CharField(max_length=30)
    plate = serializers.CharField(max_length=30, required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none(), required=False, allow_null=True)
    odometer_km = serializers.IntegerField(min_value=0, max_value=2_000_000, required=False, write_only=True)
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Vehicle
        fields = ["dealership", *VEHICLE_FIELDS, "owner", "odometer_km", "version"]
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["owner"].queryset = Customer.objects.for_user(request.user)
        if self.instance is not None:
            for name in ("dealership", "owner", "odometer_km"):
                self.fields.pop(name)


class ChangeOwnerSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    on = serializers.DateField(required=False)


class OdometerSerializer(serializers.Serializer):
    reading_km = serializers.IntegerField(min_value=0, max_value=2_000_000)
    read_on = serializers.DateField()
    correction_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- complaints -----------------------------------------------------------------------

VERSION_HELP = "The version you read; a stale one is refused with 409."


def _name(user: User | None) -> str | None:
    return str(user) if user is not None else None


class ComplaintEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintEvent
        fields = ["id", "from_status", "to_status", "note", "actor", "actor_name", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor_name(self, event):
        return _name(event.actor)


class ComplaintSerializer(PhoneMaskingMixin, serializers.ModelSerializer):
    """A complaint in a list. Status, solution and owner change only through the actions."""

    phone_fields = ("customer_mobile",)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    customer_mobile = serializers.CharField(source="customer.mobile", read_only=True)
    subject_type = serializers.SerializerMethodField(help_text="app_label.model, e.g. service.repairorder")
    owner_name = serializers.SerializerMethodField()
    escalated_to_name = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "dealership",
            "customer",
            "customer_name",
            "customer_mobile",
            "source",
            "category",
            "severity",
            "status",
            "subject_type",
            "subject_id",
            "description",
            "solution",
            "owner",
            "owner_name",
            "due_at",
            "is_overdue",
            "escalated_at",
            "escalated_to",
            "escalated_to_name",
            "closed_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_subject_type(self, complaint):
        subject_type = complaint.subject_type
        return f"{subject_type.app_label}.{subject_type.model}" if subject_type is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, complaint):
        return _name(complaint.owner)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_escalated_to_name(self, complaint):
        return _name(complaint.escalated_to)

    @extend_schema_field(serializers.BooleanField())
    def get_is_overdue(self, complaint):
        return complaint.is_open and complaint.due_at < timezone.now()


class ComplaintDetailSerializer(ComplaintSerializer):
    """A complaint with its timeline: who moved it from which state to which, when."""

    events = ComplaintEventSerializer(many=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "events"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class ScopedField(serializers.PrimaryKeyRelatedField):
    """A row the caller may reach, ``rows(user)``; any other id is 'does not exist', never a leak."""

    def __init__(self, rows, **kwargs):
        self.rows = rows
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.rows(self.context["request"].user)


def _customers(user):
    return Customer.objects.for_user(user)


def _staff(user):
    """Active staff of the caller's rooftops; the service checks the complaint's rooftop."""
    return User.objects.filter(dealerships__in=user_dealership_ids(user), is_active=True).distinct()


class ComplaintInputSerializer(serializers.Serializer):
    customer = ScopedField(_customers, help_text="A customer of one of your rooftops.")
    source = serializers.ChoiceField(choices=ComplaintSource.choices)
    category = serializers.ChoiceField(choices=ComplaintCategory.choices, default=ComplaintCategory.OTHER)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MEDIUM)
    description = serializers.CharField(max_length=5000, help_text="What the customer said.")
    owner = ScopedField(_staff, required=False, allow_null=True, default=None)


class ComplaintAdvanceSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=ComplaintStatus.choices)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required for the call-back and for going back to investigating.",
    )
    solution = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when the solution is agreed."
    )
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class ComplaintAssignSerializer(serializers.Serializer):
    owner = ScopedField(_staff)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)

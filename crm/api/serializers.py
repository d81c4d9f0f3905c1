"""API shapes: output serializers mask phones for roles without ``crm.view_customer_phone``; input
serializers only parse, and the services in ``crm.services`` normalise, check and write."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import BusinessHours, Customer, Dealership, Vehicle, VehicleOwnership
from ..querysets import user_dealership_ids
from ..services import CUSTOMER_INPUT_FIELDS, VEHICLE_FIELDS
from ..validators import phone_mask


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
            for name in self.phone_fields:
                if data.get(name):
                    data[name] = phone_mask(data[name])
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

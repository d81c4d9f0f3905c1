"""API for retention 入库率 and lost customers, the data-quality list and merging duplicate customers.

``GET /api/retention/`` the figures of one rooftop (``?dealership=``, else your first),
``GET /api/retention/lost/`` its lost vehicles with their owners (paginated),
``POST /api/retention/win-back-segment/`` saves today's win-back segment,
``GET /api/data-quality/`` the records to fix, lowest completeness first (paginated),
``POST /api/customer-merges/`` merges one customer into another.
Permissions as on the pages (see ``crm.retention_views``): 403 for a role without them, 404 for a
rooftop or customer outside yours.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import merge, quality, retention, selectors
from ..choices import SalesChannel
from ..models import Customer, Dealership, Vehicle
from ..segments import saved_segment_customers
from ..validators import phone_mask
from .serializers import CustomerSerializer


class Requires(BasePermission):
    """The view's ``required_permissions`` (all of them); anonymous callers are refused."""

    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and request.user.has_perms(view.required_permissions)
        )


def _rooftop(request, value) -> Dealership:
    try:
        return retention.user_rooftop(user=request.user, dealership_id=value)
    except Dealership.DoesNotExist:
        raise NotFound from None


DEALERSHIP_PARAMETER = OpenApiParameter(
    "dealership", OpenApiTypes.INT, description="A rooftop of yours; your first when left out."
)


# --- retention ------------------------------------------------------------------------------


class TallySerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    base = serializers.IntegerField(help_text="Vehicles on file for at least N months, with an owner.")
    returned = serializers.IntegerField(help_text="Of those, visited within the last N months.")
    lost = serializers.IntegerField(help_text="Of those, no visit within the last N months.")
    return_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    lost_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)


class RetentionSerializer(serializers.Serializer):
    dealership = serializers.IntegerField(source="window.dealership.pk")
    today = serializers.DateField(source="window.today")
    lost_after_months = serializers.IntegerField(source="window.months")
    cutoff = serializers.DateField(source="window.cutoff", help_text="Visits from this day on count as returns.")
    total = TallySerializer()
    newer = serializers.IntegerField(help_text="Vehicles on file for less than N months: neither returned nor lost.")
    by_model = TallySerializer(many=True)
    by_channel = TallySerializer(many=True)


class RetentionAPIView(APIView):
    """The maintenance return rate 入库率 and the lost vehicles 流失 in total, by model and by sales
    channel, of one rooftop as of its today (definitions: ``crm.retention``)."""

    permission_classes = [Requires]
    required_permissions = ["crm.view_segment"]

    @extend_schema(parameters=[DEALERSHIP_PARAMETER], responses=RetentionSerializer)
    def get(self, request):
        window = retention.retention_window(dealership=_rooftop(request, request.query_params.get("dealership")))
        return Response(RetentionSerializer(retention.retention_figures(window)).data)


class LostVehicleSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.full_name")
    owner_mobile = serializers.SerializerMethodField(
        help_text="Masked for roles that may see phones (reveal it on the customer), empty for the others."
    )
    sales_channel = serializers.ChoiceField(choices=SalesChannel.choices)
    last_visit_at = serializers.DateTimeField(allow_null=True)
    last_seen_on = serializers.DateField(help_text="The last visit's day, or the day the vehicle came on file.")

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "vin",
            "plate",
            "make",
            "model",
            "sales_channel",
            "purchased_on",
            "last_visit_at",
            "last_seen_on",
            "owner",
            "owner_name",
            "owner_mobile",
        ]
        read_only_fields = fields

    def get_owner_mobile(self, vehicle) -> str:
        if self.context["request"].user.has_perm("crm.view_customer_phone"):
            return phone_mask(vehicle.owner.mobile)
        return ""


class LostVehicleListAPIView(generics.ListAPIView):
    """The rooftop's lost vehicles and their owners, the most recently seen first."""

    permission_classes = [Requires]
    required_permissions = ["crm.view_segment"]
    serializer_class = LostVehicleSerializer
    filter_backends = []

    @extend_schema(parameters=[DEALERSHIP_PARAMETER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        dealership = _rooftop(self.request, self.request.query_params.get("dealership"))
        return retention.lost_vehicles(retention.retention_window(dealership=dealership))


class WinBackInputSerializer(serializers.Serializer):
    dealership = serializers.IntegerField(help_text="A rooftop of yours (another is a 404).")


class WinBackSegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    criteria = serializers.JSONField()
    customer_count = serializers.IntegerField()


class WinBackSegmentAPIView(APIView):
    """Save today's win-back segment of a rooftop (again the same day: the same segment, updated), for a
    campaign to call or message its customers."""

    permission_classes = [Requires]
    required_permissions = ["crm.view_segment", "crm.add_segment"]

    @extend_schema(request=WinBackInputSerializer, responses={201: WinBackSegmentSerializer})
    def post(self, request):
        serializer = WinBackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dealership = _rooftop(request, serializer.validated_data["dealership"])
        segment = retention.winback_segment_create(actor=request.user, dealership=dealership)
        data = {
            "id": segment.pk,
            "name": segment.name,
            "criteria": segment.criteria,
            "customer_count": saved_segment_customers(segment).count(),
        }
        return Response(WinBackSegmentSerializer(data).data, status=status.HTTP_201_CREATED)


# --- data quality ---------------------------------------------------------------------------


class DataQualitySerializer(serializers.ModelSerializer):
    completeness = serializers.IntegerField(help_text="0–100; the items and weights are in crm.quality.")
    missing = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ["id", "dealership", "full_name", "completeness", "missing", "created_at"]
        read_only_fields = fields

    def get_missing(self, customer) -> list[str]:
        return [item.key for item in quality.missing_items(customer)]


class DataQualityListAPIView(generics.ListAPIView):
    """Customers whose records are incomplete, the lowest completeness first, with the items each lacks
    (mobile, vehicle, channel, address, consent)."""

    permission_classes = [Requires]
    required_permissions = ["crm.change_customer"]
    serializer_class = DataQualitySerializer
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("dealership", OpenApiTypes.INT, description="Only this rooftop of yours."),
            OpenApiParameter("missing", OpenApiTypes.STR, enum=list(quality.ITEMS_BY_KEY), description="Lacking it."),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        customers = Customer.objects.for_user(self.request.user, "change")
        dealership = self.request.query_params.get("dealership")
        if dealership:
            customers = customers.filter(dealership_id=_rooftop(self.request, dealership).pk)
        return quality.records_to_fix(customers, missing=self.request.query_params.get("missing", ""))


# --- merge ----------------------------------------------------------------------------------


class CustomerMergeInputSerializer(serializers.Serializer):
    keep = serializers.IntegerField(help_text="The customer who stays.")
    merge = serializers.IntegerField(help_text="The duplicate: its history moves to the kept one, then it is deleted.")
    keep_version = serializers.IntegerField(required=False, help_text="The version you compared; stale is a 409.")
    merge_version = serializers.IntegerField(required=False, help_text="The version you compared; stale is a 409.")


class CustomerMergeSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    merged_id = serializers.IntegerField()
    moved = serializers.DictField(child=serializers.IntegerField(), help_text="Rows moved, per kind of record.")
    filled = serializers.ListField(child=serializers.CharField(), help_text="Fields filled from the merged one.")
    dropped = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Duplicates the kept customer already had (this year's birthday greeting…), per kind of record.",
    )


class CustomerMergeAPIView(APIView):
    """Merge customer ``merge`` into ``keep`` (same rooftop): all its history moves, the kept one's
    blanks are filled, the duplicate is deleted; one transaction. Itself or another rooftop: 400."""

    permission_classes = [Requires]
    required_permissions = ["crm.view_customer", "crm.change_customer"]

    @extend_schema(request=CustomerMergeInputSerializer, responses=CustomerMergeSerializer)
    def post(self, request):
        serializer = CustomerMergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = merge.customer_merge(
            actor=request.user,
            keep_id=data["keep"],
            merge_id=data["merge"],
            keep_version=data.get("keep_version"),
            merge_version=data.get("merge_version"),
        )
        customer = selectors.customer_list(user=request.user).get(pk=result.customer.pk)
        payload = {
            "customer": customer,
            "merged_id": result.merged_id,
            "moved": result.moved,
            "filled": result.filled,
            "dropped": result.dropped,
        }
        return Response(CustomerMergeSerializer(payload, context={"request": request}).data)


urlpatterns = [
    path("retention/", RetentionAPIView.as_view(), name="retention"),
    path("retention/lost/", LostVehicleListAPIView.as_view(), name="retention-lost"),
    path("retention/win-back-segment/", WinBackSegmentAPIView.as_view(), name="retention-win-back"),
    path("data-quality/", DataQualityListAPIView.as_view(), name="data-quality"),
    path("customer-merges/", CustomerMergeAPIView.as_view(), name="customer-merge"),
]

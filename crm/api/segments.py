"""Segments 客户细分 API.

``GET /api/segments/`` the saved segments of your rooftops with their live count (20 a page: one count each),
``POST /api/segments/`` saves one (criteria checked: 400 with a message per criterion),
``GET /api/segments/{id}/`` one with its count,
``GET /api/segments/{id}/customers/`` its customers as they are now (paginated, phones masked),
``POST /api/segments/{id}/export/`` its customers who consented to marketing as CSV, logged (managers).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from dms.api import Pagination

from .. import segments
from ..models import Customer, Segment
from ..privacy import list_phone
from ..selectors import with_vehicle_count
from .serializers import RooftopField

SEGMENTS_PER_PAGE = 20  # each segment on a page costs one count statement


def _criterion_field(kind: str) -> serializers.Field:
    return {
        "text": lambda: serializers.CharField(max_length=80),
        "int": lambda: serializers.IntegerField(min_value=0),
        "money": lambda: serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0),
        "date": lambda: serializers.DateField(),
        "grades": lambda: serializers.ListField(child=serializers.CharField(max_length=1)),
        "bool": lambda: serializers.BooleanField(),
    }[kind]()


class SegmentCriteriaSerializer(serializers.Serializer):
    """The criteria a segment may hold (all optional; at least one). A minimum above its maximum, a period
    ending before it starts, visit counts without their period, or an unknown name is refused."""

    def get_fields(self):
        fields = {}
        for name, (kind, label) in segments.CRITERIA.items():
            field = _criterion_field(kind)
            field.required, field.help_text = False, label + (" (H, A, B, C)" if kind == "grades" else "")
            fields[name] = field
        return fields


@extend_schema_field(SegmentCriteriaSerializer)
class CriteriaField(serializers.JSONField):
    """The criteria as JSON, judged by ``crm.segments.criteria_clean`` (one message per criterion)."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError('Give the criteria as an object, e.g. {"tag": "VIP"}.')
        try:
            cleaned = segments.criteria_clean(data)
        except ValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        if not cleaned:
            raise serializers.ValidationError("Choose at least one criterion: a segment is a part of your customers.")
        return data


class SegmentSerializer(serializers.ModelSerializer):
    dealership_code = serializers.CharField(source="dealership.code", read_only=True)
    criteria = CriteriaField(read_only=True)
    customer_count = serializers.SerializerMethodField(
        help_text="Its customers now; null when its saved criteria no longer hold."
    )
    created_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = Segment
        fields = [
            "id",
            "dealership",
            "dealership_code",
            "name",
            "criteria",
            "customer_count",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_customer_count(self, segment) -> int | None:
        try:
            return segments.saved_segment_customers(segment).count()
        except ValidationError:
            return None


class SegmentInputSerializer(serializers.ModelSerializer):
    dealership = RooftopField()
    criteria = CriteriaField()

    class Meta:
        model = Segment
        fields = ["name", "dealership", "criteria"]
        validators = []  # the service says which rooftop already has the name


class SegmentCustomerSerializer(serializers.ModelSerializer):
    """A customer in a segment: the mobile masked (null for roles that may not see phones)."""

    mobile = serializers.SerializerMethodField()
    vehicle_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "dealership",
            "full_name",
            "mobile",
            "preferred_channel",
            "marketing_consent",
            "tags",
            "vehicle_count",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_mobile(self, customer) -> str | None:
        return list_phone(self.context["request"].user, customer.mobile) or None


class SegmentPagination(Pagination):
    page_size = SEGMENTS_PER_PAGE
    max_page_size = SEGMENTS_PER_PAGE


class SegmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Saved customer segments 客户细分 of your rooftops, each with how many customers it holds now."""

    queryset = Segment.objects.none()  # the model, for the schema; the rows come from get_queryset
    serializer_class = SegmentSerializer
    pagination_class = SegmentPagination
    ordering_fields = ["name", "updated_at"]
    lookup_value_regex = r"\d+"
    action_permissions = {
        "customers": ["crm.view_segment", "crm.view_customer"],
        "export": ["crm.view_segment", "crm.export_customer"],
    }

    def get_queryset(self):
        return Segment.objects.for_user(self.request.user).select_related("dealership", "created_by")

    @extend_schema(request=SegmentInputSerializer, responses={201: SegmentSerializer})
    def create(self, request, *args, **kwargs):
        serializer = SegmentInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        segment = segments.segment_save(actor=request.user, **serializer.validated_data)
        segment = self.get_queryset().get(pk=segment.pk)
        return Response(self.get_serializer(segment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=SegmentCustomerSerializer(many=True), parameters=[])
    @action(detail=True, methods=["get"], pagination_class=Pagination, filter_backends=[])
    def customers(self, request, pk=None):
        """The segment's customers as they are now, newest first; 400 when its saved criteria no longer hold."""
        segment = self.get_object()
        rows = with_vehicle_count(segments.saved_segment_customers(segment))
        page = self.paginate_queryset(rows.order_by("-created_at", "-id"))
        return self.get_paginated_response(
            SegmentCustomerSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=None,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One line per consenting customer."),
            400: OpenApiResponse(description="No customer in the segment, or none who consented: nothing exported."),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def export(self, request, pk=None):
        """The segment's customers who consented to marketing as CSV (name, mobile, channel, contact time, tags,
        vehicles). Every export is logged with who, when, the segment and how many customers; a refused one is
        not."""
        segment = self.get_object()
        lines = segments.segment_export_csv(
            actor=request.user, dealership=segment.dealership, criteria=segment.criteria, segment=segment
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        filename = f"segment-{segment.pk}-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


router = SimpleRouter()
router.register("segments", SegmentViewSet, basename="segment")
urlpatterns = router.urls

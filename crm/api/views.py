"""Thin viewsets: ``get_queryset`` is ``for_user`` plus joins; writes call ``crm.services``."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import selectors, services
from ..filters import ComplaintFilterSet, CustomerFilterSet, VehicleFilterSet
from ..models import Complaint, Dealership, Vehicle
from . import serializers


class DealershipViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """The rooftops you work at; administrators may edit their settings."""

    serializer_class = serializers.DealershipSerializer
    ordering_fields = ["code", "name"]
    filterset_fields = ["code", "phone_region"]

    def get_queryset(self):
        action = "change" if self.action in ("update", "partial_update") else "view"
        return Dealership.objects.for_user(self.request.user, action).prefetch_related("business_hours")


class ServiceWriteMixin:
    """Create and update go through one service each; the response is the output serializer."""

    input_serializer_class = None

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return self.input_serializer_class
        return self.serializer_class

    def respond(self, instance, code=status.HTTP_200_OK):
        instance = self.get_queryset().get(pk=instance.pk)
        return Response(self.serializer_class(instance, context=self.get_serializer_context()).data, status=code)


class CustomerViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Customers of your rooftops; phones are masked unless your role may see them."""

    serializer_class = serializers.CustomerSerializer
    input_serializer_class = serializers.CustomerInputSerializer
    filterset_class = CustomerFilterSet
    ordering_fields = ["full_name", "created_at", "updated_at", "vehicle_count"]

    def get_queryset(self):
        action = "change" if self.action in ("update", "partial_update") else "view"
        return selectors.customer_list(user=self.request.user, action=action)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        dealership = data.pop("dealership")
        data.pop("version", None)
        customer = services.customer_create(actor=request.user, dealership=dealership, data=data)
        return self.respond(customer, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        customer = services.customer_update(actor=request.user, customer_id=customer.pk, data=data, version=version)
        return self.respond(customer)


class VehicleViewSet(
    ServiceWriteMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Vehicles of your rooftops, with their current owner and ownership history."""

    serializer_class = serializers.VehicleSerializer
    input_serializer_class = serializers.VehicleInputSerializer
    filterset_class = VehicleFilterSet
    ordering_fields = ["plate", "vin", "created_at", "year"]
    action_permissions = {
        "change_owner": ["crm.change_vehicle", "crm.add_vehicleownership"],
        "odometer": ["crm.view_vehicle", "crm.add_odometerreading"],
        "ownerships": ["crm.view_vehicle", "crm.view_vehicleownership"],
    }

    def get_queryset(self):
        action = "change" if self.action in ("update", "partial_update", "change_owner") else "view"
        return Vehicle.objects.for_user(self.request.user, action).select_related("owner", "dealership")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        dealership, owner = data.pop("dealership"), data.pop("owner", None)
        odometer_km = data.pop("odometer_km", None)
        data.pop("version", None)
        vehicle = services.vehicle_create(
            actor=request.user,
            dealership=dealership,
            data=data,
            owner=owner,
            odometer_km=odometer_km,
        )
        return self.respond(vehicle, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        vehicle = self.get_object()
        serializer = self.get_serializer(vehicle, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        vehicle = services.vehicle_update(actor=request.user, vehicle_id=vehicle.pk, data=data, version=version)
        return self.respond(vehicle)

    @extend_schema(request=serializers.ChangeOwnerSerializer, responses=serializers.VehicleSerializer)
    @action(detail=True, methods=["post"], url_path="change-owner")
    def change_owner(self, request, pk=None):
        vehicle = self.get_object()
        serializer = serializers.ChangeOwnerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.vehicle_change_owner(
            actor=request.user,
            vehicle_id=vehicle.pk,
            customer_id=serializer.validated_data["customer"],
            on=serializer.validated_data.get("on"),
        )
        return self.respond(vehicle)

    @extend_schema(responses=serializers.VehicleOwnershipSerializer(many=True))
    @action(detail=True, methods=["get"])
    def ownerships(self, request, pk=None):
        vehicle = self.get_object()
        rows = vehicle.ownerships.select_related("customer").order_by("-started_on", "-id")
        return Response(serializers.VehicleOwnershipSerializer(rows, many=True).data)

    @extend_schema(request=serializers.OdometerSerializer, responses=serializers.VehicleSerializer)
    @action(detail=True, methods=["post"])
    def odometer(self, request, pk=None):
        vehicle = self.get_object()
        serializer = serializers.OdometerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.odometer_record(actor=request.user, vehicle_id=vehicle.pk, **serializer.validated_data)
        return self.respond(vehicle, status.HTTP_201_CREATED)


CHANGE_COMPLAINT = ["crm.view_complaint", "crm.change_complaint"]


def _complaint_action(request_serializer, description: str):
    """The schema of a complaint action: its input, and the refreshed complaint with its timeline."""
    return extend_schema(
        request=request_serializer, responses=serializers.ComplaintDetailSerializer, description=description
    )


class ComplaintViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Complaints 投诉 of your rooftops, open ones first by due time. The status, solution and owner change
    only through the actions; a step the complaint's state forbids, or a stale version, is a 409."""

    queryset = Complaint.objects.none()  # the model, for the schema; the rows come from get_queryset
    serializer_class = serializers.ComplaintSerializer
    filterset_class = ComplaintFilterSet
    ordering_fields = ["due_at", "created_at", "updated_at"]
    lookup_value_regex = r"\d+"
    action_permissions = {"advance": CHANGE_COMPLAINT, "assign": CHANGE_COMPLAINT}

    def get_queryset(self):
        access = "change" if self.action in self.action_permissions else "view"
        return selectors.complaint_list(user=self.request.user, action=access)

    def get_serializer_class(self):
        return serializers.ComplaintSerializer if self.action == "list" else serializers.ComplaintDetailSerializer

    def parse(self, input_serializer):
        serializer = input_serializer(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def respond(self, complaint_id, code=status.HTTP_200_OK):
        complaint = selectors.complaint_detail(user=self.request.user, complaint_id=complaint_id)
        serializer = serializers.ComplaintDetailSerializer(complaint, context=self.get_serializer_context())
        return Response(serializer.data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self.respond(self.get_object().pk)

    @extend_schema(
        request=serializers.ComplaintInputSerializer,
        responses={201: serializers.ComplaintDetailSerializer},
        description="Record a complaint for a customer of your rooftops; it is due by its severity.",
    )
    def create(self, request, *args, **kwargs):
        complaint = services.complaint_open(actor=request.user, **self.parse(serializers.ComplaintInputSerializer))
        return self.respond(complaint.pk, status.HTTP_201_CREATED)

    @_complaint_action(
        serializers.ComplaintAdvanceSerializer,
        "Move the complaint one step on (received → investigating → solution agreed → implemented → call-back "
        "done → closed), or back to investigating with a note.",
    )
    @action(detail=True, methods=["post"])
    def advance(self, request, pk=None):
        complaint = self.get_object()
        services.complaint_advance(
            actor=request.user, complaint_id=complaint.pk, **self.parse(serializers.ComplaintAdvanceSerializer)
        )
        return self.respond(complaint.pk)

    @_complaint_action(serializers.ComplaintAssignSerializer, "Give the complaint to the person who handles it.")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        complaint = self.get_object()
        services.complaint_assign(
            actor=request.user, complaint_id=complaint.pk, **self.parse(serializers.ComplaintAssignSerializer)
        )
        return self.respond(complaint.pk)

"""Thin service viewsets: ``get_queryset`` is a selector or ``for_user`` (another rooftop's row is a 404),
every write is one ``service.services`` function, and the answer is the refreshed resource. Actions
that add a row (a line, a job, a check, a payment, a time entry, the moved appointment) answer 201.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Subquery
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm.choices import Role
from crm.models import Dealership, User
from crm.querysets import user_dealership_ids

from .. import selectors, services
from ..choices import AppointmentStatus
from ..filters import AppointmentFilterSet, JobFilterSet, PartFilterSet, RepairOrderFilterSet, TechnicianFilterSet
from ..models import Job, Part, PartLine, RepairOrder, TimeEntry
from . import serializers

WRITE_ACTIONS = {"update", "partial_update"}


class AppointmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Appointments of your rooftops: book, move, confirm or cancel. A full slot is refused with the next
    free ones."""

    serializer_class = serializers.AppointmentSerializer
    filterset_class = AppointmentFilterSet
    ordering_fields = ["starts_at", "created_at", "updated_at"]
    ordering = ["starts_at", "id"]
    lookup_value_regex = r"\d+"
    action_permissions = {
        name: ["service.view_appointment", "service.change_appointment"] for name in ("reschedule", "confirm", "cancel")
    }

    def get_queryset(self):
        change = self.action in self.action_permissions
        return selectors.appointment_list(user=self.request.user, action="change" if change else "view")

    def respond(self, appointment, code=status.HTTP_200_OK):
        appointment = selectors.appointment_list(user=self.request.user).get(pk=appointment.pk)
        return Response(self.get_serializer(appointment).data, status=code)

    @extend_schema(request=serializers.AppointmentInputSerializer, responses={201: serializers.AppointmentSerializer})
    def create(self, request, *args, **kwargs):
        serializer = serializers.AppointmentInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        appointment = services.appointment_book(actor=request.user, **serializer.validated_data)
        return self.respond(appointment, status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.RescheduleSerializer,
        responses={201: serializers.AppointmentSerializer},
        description="Book the new slot; the old appointment is kept as 'rescheduled' and points at the new one.",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        appointment = self.get_object()
        serializer = serializers.RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        moved = services.appointment_reschedule(
            actor=request.user, appointment_id=appointment.pk, **serializer.validated_data
        )
        return self.respond(moved, status.HTTP_201_CREATED)

    def _set_status(self, request, to_status):
        appointment = self.get_object()
        serializer = serializers.VersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.appointment_set_status(
            actor=request.user, appointment_id=appointment.pk, status=to_status, **serializer.validated_data
        )
        return self.respond(appointment)

    @extend_schema(request=serializers.VersionSerializer, responses=serializers.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._set_status(request, AppointmentStatus.CONFIRMED)

    @extend_schema(request=serializers.VersionSerializer, responses=serializers.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._set_status(request, AppointmentStatus.CANCELLED)


def _order_action(request_serializer, code=status.HTTP_200_OK, **kwargs):
    """The schema of a repair-order action: its input, and the refreshed order as the answer."""
    return extend_schema(
        request=request_serializer, responses={code: serializers.RepairOrderDetailSerializer}, **kwargs
    )


class RepairOrderViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Repair orders of your rooftops, from check-in to delivery. Money (prices, totals, payments) is
    only shown to roles that may see payments."""

    serializer_class = serializers.RepairOrderSerializer
    filterset_class = RepairOrderFilterSet
    ordering_fields = ["checked_in_at", "promised_at", "number", "status", "updated_at"]
    ordering = ["-checked_in_at", "-id"]
    lookup_value_regex = r"\d+"
    action_permissions = {
        "labour_lines": ["service.change_repairorder", "service.add_labourline"],
        "part_lines": ["service.change_repairorder", "service.add_partline"],
        "issue_part": ["service.change_repairorder", "service.change_partline"],
        "approve": ["service.change_repairorder"],
        "decide": ["service.change_repairorder", "service.change_labourline", "service.change_partline"],
        "transition": ["service.change_repairorder"],
        "dispatch_job": ["service.change_repairorder", "service.add_job"],
        "quality_check": ["service.change_repairorder", "service.add_qualitycheck"],
        "payments": ["service.change_repairorder", "service.add_payment"],
        "deliver": ["service.change_repairorder"],
    }

    def get_queryset(self):
        change = self.action in WRITE_ACTIONS or self.action in self.action_permissions
        return selectors.repair_order_list(user=self.request.user, action="change" if change else "view")

    def get_serializer_class(self):
        return serializers.RepairOrderSerializer if self.action == "list" else serializers.RepairOrderDetailSerializer

    def respond(self, repair_order_id, code=status.HTTP_200_OK):
        repair_order = selectors.repair_order_detail(user=self.request.user, repair_order_id=repair_order_id)
        serializer = serializers.RepairOrderDetailSerializer(repair_order, context=self.get_serializer_context())
        return Response(serializer.data, status=code)

    def list(self, request, *args, **kwargs):
        rows = self.filter_queryset(self.get_queryset())
        # Page through ids, then load the page with its money in a bounded number of queries.
        page_ids = self.paginate_queryset(rows.values_list("pk", flat=True))
        orders = selectors.with_money(rows.filter(pk__in=page_ids))
        return self.get_paginated_response(self.get_serializer(orders, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return self.respond(self.get_object().pk)

    @extend_schema(request=serializers.CheckInSerializer, responses={201: serializers.RepairOrderDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = serializers.CheckInSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        repair_order = services.repair_order_open(actor=request.user, **serializer.validated_data)
        return self.respond(repair_order.pk, status.HTTP_201_CREATED)

    @_order_action(serializers.RepairOrderUpdateSerializer)
    def partial_update(self, request, *args, **kwargs):
        repair_order = self.get_object()
        serializer = serializers.RepairOrderUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        services.repair_order_update(actor=request.user, repair_order_id=repair_order.pk, data=data, version=version)
        return self.respond(repair_order.pk)

    def _call(self, request, input_serializer, service, code=status.HTTP_200_OK):
        """Parse the input, call one service on this order, answer with the refreshed order."""
        repair_order = self.get_object()
        serializer = input_serializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        service(actor=request.user, repair_order_id=repair_order.pk, **serializer.validated_data)
        return self.respond(repair_order.pk, code)

    @_order_action(serializers.LabourLineInputSerializer, status.HTTP_201_CREATED)
    @action(detail=True, methods=["post"], url_path="labour-lines")
    def labour_lines(self, request, pk=None):
        return self._call(
            request, serializers.LabourLineInputSerializer, services.labour_line_add, status.HTTP_201_CREATED
        )

    @_order_action(serializers.PartLineInputSerializer, status.HTTP_201_CREATED)
    @action(detail=True, methods=["post"], url_path="part-lines")
    def part_lines(self, request, pk=None):
        return self._call(request, serializers.PartLineInputSerializer, services.part_line_add, status.HTTP_201_CREATED)

    @_order_action(serializers.PartIssueSerializer, description="Take a parts line's quantity out of stock.")
    @action(detail=True, methods=["post"], url_path="issue-part")
    def issue_part(self, request, pk=None):
        repair_order = self.get_object()
        serializer = serializers.PartIssueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        line_id = serializer.validated_data["part_line"]
        if not PartLine.objects.filter(pk=line_id, repair_order=repair_order).exists():
            raise ValidationError({"part_line": [_("This order has no parts line %(id)s.") % {"id": line_id}]})
        services.part_issue(actor=request.user, part_line_id=line_id, quantity=serializer.validated_data["quantity"])
        return self.respond(repair_order.pk)

    @_order_action(serializers.ApproveSerializer, description="The customer approves the estimate.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._call(request, serializers.ApproveSerializer, services.repair_order_approve)

    @_order_action(serializers.DecideSerializer, description="The customer's answer to additional work.")
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        return self._call(request, serializers.DecideSerializer, services.additional_work_decide)

    @_order_action(serializers.TransitionSerializer, description="The workshop's moves, and cancelling.")
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        return self._call(request, serializers.TransitionSerializer, services.repair_order_transition)

    @_order_action(serializers.DispatchSerializer, status.HTTP_201_CREATED)
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_job(self, request, pk=None):
        return self._call(request, serializers.DispatchSerializer, services.job_dispatch, status.HTTP_201_CREATED)

    @_order_action(serializers.QualityCheckInputSerializer, status.HTTP_201_CREATED)
    @action(detail=True, methods=["post"], url_path="quality-check")
    def quality_check(self, request, pk=None):
        return self._call(
            request, serializers.QualityCheckInputSerializer, services.quality_check_record, status.HTTP_201_CREATED
        )

    @_order_action(serializers.PaymentInputSerializer, status.HTTP_201_CREATED)
    @action(detail=True, methods=["post"])
    def payments(self, request, pk=None):
        return self._call(request, serializers.PaymentInputSerializer, services.payment_record, status.HTTP_201_CREATED)

    @_order_action(serializers.DeliverSerializer, description="Hand the car back: only a checked, paid order.")
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        return self._call(request, serializers.DeliverSerializer, services.repair_order_deliver)


class PartViewSet(viewsets.ReadOnlyModelViewSet):
    """The parts catalogue of your rooftops with stock on hand; stock is issued on a repair order."""

    serializer_class = serializers.PartSerializer
    filterset_class = PartFilterSet
    ordering_fields = ["part_number", "stock_on_hand"]
    ordering = ["part_number", "id"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Part.objects.for_user(self.request.user)


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Dispatched work of your rooftops; a technician clocks on and off their own jobs."""

    serializer_class = serializers.JobSerializer
    filterset_class = JobFilterSet
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"
    action_permissions = {
        "clock_on": ["service.view_job", "service.add_timeentry"],
        "clock_off": ["service.view_job", "service.change_timeentry"],
    }

    def get_queryset(self):
        change = self.action in self.action_permissions
        orders = RepairOrder.objects.for_user(self.request.user, "change" if change else "view")
        return (
            Job.objects.filter(repair_order__in=orders)
            .select_related("technician")
            .prefetch_related(Prefetch("time_entries", queryset=TimeEntry.objects.order_by("started_at")))
        )

    def _clock(self, request, service, code):
        job = self.get_object()
        if job.technician_id != request.user.pk:
            raise PermissionDenied(_("This is another technician's job."))
        service(actor=request.user, job_id=job.pk)
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data, status=code)

    @extend_schema(request=None, responses={201: serializers.JobSerializer})
    @action(detail=True, methods=["post"], url_path="clock-on")
    def clock_on(self, request, pk=None):
        return self._clock(request, services.clock_on, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.JobSerializer)
    @action(detail=True, methods=["post"], url_path="clock-off")
    def clock_off(self, request, pk=None):
        return self._clock(request, services.clock_off, status.HTTP_200_OK)


class TechnicianViewSet(viewsets.ReadOnlyModelViewSet):
    """Technicians of your rooftops, and the job each is clocked on."""

    serializer_class = serializers.TechnicianSerializer
    filterset_class = TechnicianFilterSet
    ordering_fields = ["username", "full_name"]
    ordering = ["username", "id"]
    lookup_value_regex = r"\d+"
    action_permissions = {name: ["service.view_job"] for name in ("list", "retrieve", "metadata")}

    def get_queryset(self):
        rooftops = user_dealership_ids(self.request.user)
        open_entries = TimeEntry.objects.filter(technician=OuterRef("pk"), ended_at__isnull=True)
        visible = open_entries.filter(job__repair_order__dealership_id__in=rooftops)
        return (
            User.objects.filter(groups__name=Role.TECHNICIAN.value, dealerships__in=rooftops, is_active=True)
            .distinct()
            .annotate(
                is_clocked_on=Exists(open_entries),
                current_job=Subquery(visible.values("job_id")[:1]),
                current_repair_order=Subquery(visible.values("job__repair_order_id")[:1]),
                current_repair_order_number=Subquery(visible.values("job__repair_order__number")[:1]),
            )
            .prefetch_related(Prefetch("dealerships", queryset=Dealership.objects.filter(pk__in=rooftops)))
        )

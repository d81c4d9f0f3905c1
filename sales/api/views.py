"""Thin sales viewsets: ``get_queryset`` is a selector (a consultant sees their own leads, quotes and orders;
another consultant's or another rooftop's row is a 404), every write is one ``sales.services`` function,
and the answer is the refreshed resource. A bad value is a 400 with field messages, a state that forbids
the step (a stale version, an unpaid delivery) a 409."""

from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm.models import Dealership
from crm.querysets import user_dealership_ids

from .. import selectors, services
from ..filters import LeadFilterSet, OrderFilterSet, QuoteFilterSet, StockVehicleFilterSet, TestDriveFilterSet
from ..models import Activity, Lead, LostReason, Order, Quote, StockVehicle, TestDrive
from . import serializers

CHANGE_LEAD = ["sales.view_lead", "sales.change_lead"]


class ScopedViewSetMixin:
    """Numeric ids, and input checked by its own serializer."""

    lookup_value_regex = r"\d+"

    def parse(self, input_serializer):
        """The request's data checked by ``input_serializer`` (400 with field messages if not)."""
        serializer = input_serializer(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


def _lead_action(request_serializer, code=status.HTTP_200_OK, **kwargs):
    """The schema of a lead action: its input, and the refreshed lead as the answer."""
    return extend_schema(request=request_serializer, responses={code: serializers.LeadDetailSerializer}, **kwargs)


class LeadViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Leads of your rooftops (a consultant's own only), with their history. Stage, grade, owner and the
    lost review change only through the actions."""

    queryset = Lead.objects.none()  # the model, for the schema; the rows come from get_queryset
    serializer_class = serializers.LeadSerializer
    filterset_class = LeadFilterSet
    ordering_fields = ["updated_at", "created_at", "next_followup_on", "stage", "grade"]
    ordering = ["-updated_at", "-id"]
    action_permissions = {
        "stage": CHANGE_LEAD,
        "grade": CHANGE_LEAD,
        "reassign": CHANGE_LEAD,
        "activities": ["sales.view_lead", "sales.view_activity"],
        "log_activity": [*CHANGE_LEAD, "sales.add_activity"],
        "apply_lost": CHANGE_LEAD,
        "review_lost": CHANGE_LEAD,
        "reactivate": CHANGE_LEAD,
    }

    def get_queryset(self):
        change = self.action in self.action_permissions and self.action != "activities"
        return selectors.lead_list(user=self.request.user, action="change" if change else "view")

    def get_serializer_class(self):
        return serializers.LeadSerializer if self.action == "list" else serializers.LeadDetailSerializer

    def respond(self, lead_id, code=status.HTTP_200_OK):
        lead = selectors.lead_detail(user=self.request.user, lead_id=lead_id)
        serializer = serializers.LeadDetailSerializer(lead, context=self.get_serializer_context())
        return Response(serializer.data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self.respond(self.get_object().pk)

    @_lead_action(serializers.LeadInputSerializer, status.HTTP_201_CREATED)
    def create(self, request, *args, **kwargs):
        lead = services.lead_create(actor=request.user, **self.parse(serializers.LeadInputSerializer))
        return self.respond(lead.pk, status.HTTP_201_CREATED)

    @_lead_action(serializers.LeadStageSerializer, description="Move the lead along the funnel, or to dormant.")
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        lead = self.get_object()
        services.lead_set_stage(actor=request.user, lead_id=lead.pk, **self.parse(serializers.LeadStageSerializer))
        return self.respond(lead.pk)

    @_lead_action(serializers.LeadGradeSerializer, description="意向级别: the next follow-up date follows the grade.")
    @action(detail=True, methods=["post"])
    def grade(self, request, pk=None):
        lead = self.get_object()
        services.lead_set_grade(actor=request.user, lead_id=lead.pk, **self.parse(serializers.LeadGradeSerializer))
        return self.respond(lead.pk)

    @_lead_action(serializers.LeadReassignSerializer, description="A manager gives the lead to another consultant.")
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        lead = self.get_object()
        services.lead_reassign(actor=request.user, lead_id=lead.pk, **self.parse(serializers.LeadReassignSerializer))
        return self.respond(lead.pk)

    @extend_schema(responses=serializers.ActivitySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def activities(self, request, pk=None):
        lead = self.get_object()
        rows = Activity.objects.filter(lead=lead).select_related("actor").order_by("-occurred_at", "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializers.ActivitySerializer(page, many=True).data)

    @extend_schema(
        request=serializers.ActivityInputSerializer,
        responses={201: serializers.ActivitySerializer},
        description="A call, visit, presentation or message: it keeps today's follow-up and sets the next one.",
    )
    @activities.mapping.post
    def log_activity(self, request, pk=None):
        lead = self.get_object()
        activity = services.activity_log(
            actor=request.user, lead_id=lead.pk, **self.parse(serializers.ActivityInputSerializer)
        )
        activity = Activity.objects.select_related("actor").get(pk=activity.pk)
        return Response(serializers.ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)

    @_lead_action(
        serializers.LeadApplyLostSerializer, description="战败申请: ask to close the lead as lost, with a reason."
    )
    @action(detail=True, methods=["post"], url_path="apply-lost")
    def apply_lost(self, request, pk=None):
        lead = self.get_object()
        data = self.parse(serializers.LeadApplyLostSerializer)
        reason = data["reason"]
        services.lead_apply_lost(
            actor=request.user, lead_id=lead.pk, reason_id=reason.pk if reason else None, note=data["note"]
        )
        return self.respond(lead.pk)

    @_lead_action(
        serializers.LeadReviewLostSerializer, description="战败审核: a manager closes it as lost or sends it back."
    )
    @action(detail=True, methods=["post"], url_path="review-lost")
    def review_lost(self, request, pk=None):
        lead = self.get_object()
        services.lead_review_lost(
            actor=request.user, lead_id=lead.pk, **self.parse(serializers.LeadReviewLostSerializer)
        )
        return self.respond(lead.pk)

    @_lead_action(serializers.LeadNoteSerializer, description="A manager brings a lost or dormant lead back.")
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        lead = self.get_object()
        services.lead_reactivate(actor=request.user, lead_id=lead.pk, **self.parse(serializers.LeadNoteSerializer))
        return self.respond(lead.pk)


class TestDriveViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """试乘试驾 of the leads you may see: book a demo car for a slot (never double-booked) and record how it
    went."""

    queryset = TestDrive.objects.none()  # the model, for the schema; the rows come from get_queryset
    serializer_class = serializers.TestDriveSerializer
    filterset_class = TestDriveFilterSet
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["starts_at", "id"]
    action_permissions = {"complete": ["sales.view_testdrive", "sales.change_testdrive"]}

    def get_queryset(self):
        access = "change" if self.action == "complete" else "view"
        return selectors.test_drive_list(user=self.request.user, action=access)

    def respond(self, drive_id, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=drive_id)).data, status=code)

    @extend_schema(request=serializers.TestDriveInputSerializer, responses={201: serializers.TestDriveSerializer})
    def create(self, request, *args, **kwargs):
        data = self.parse(serializers.TestDriveInputSerializer)
        lead, demo = data.pop("lead"), data.pop("demo_vehicle")
        drive = services.test_drive_book(actor=request.user, lead_id=lead.pk, demo_vehicle_id=demo.pk, **data)
        return self.respond(drive.pk, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.TestDriveCompleteSerializer, responses=serializers.TestDriveSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        drive = self.get_object()
        services.test_drive_complete(
            actor=request.user, test_drive_id=drive.pk, **self.parse(serializers.TestDriveCompleteSerializer)
        )
        return self.respond(drive.pk)


class QuoteViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """报价 versions of the leads you may see, with the monthly payment, the total and whether a manager must
    still approve the discount."""

    queryset = Quote.objects.none()  # the model, for the schema; the rows come from get_queryset
    serializer_class = serializers.QuoteSerializer
    filterset_class = QuoteFilterSet
    ordering_fields = ["created_at", "version", "total"]
    ordering = ["-created_at", "-id"]
    action_permissions = {"approve_discount": ["sales.view_quote", "sales.change_quote"]}

    def get_queryset(self):
        return selectors.quote_list(user=self.request.user)

    def respond(self, quote_id, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=quote_id)).data, status=code)

    @extend_schema(request=serializers.QuoteInputSerializer, responses={201: serializers.QuoteSerializer})
    def create(self, request, *args, **kwargs):
        data = self.parse(serializers.QuoteInputSerializer)
        lead, stock = data.pop("lead"), data.pop("stock_vehicle")
        quote = services.quote_create(
            actor=request.user, lead_id=lead.pk, stock_vehicle_id=stock.pk if stock else None, **data
        )
        return self.respond(quote.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=serializers.QuoteSerializer,
        description="A manager approves a discount beyond the consultants' limit.",
    )
    @action(detail=True, methods=["post"], url_path="approve-discount")
    def approve_discount(self, request, pk=None):
        quote = self.get_object()
        services.quote_approve_discount(actor=request.user, quote_id=quote.pk)
        return self.respond(quote.pk)


class OrderViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """成交: contracts of your rooftops (a consultant's own), from the accepted quote to the delivered car."""

    queryset = Order.objects.none()  # the model, for the schema; the rows come from get_queryset
    serializer_class = serializers.OrderSerializer
    filterset_class = OrderFilterSet
    ordering_fields = ["created_at", "number", "delivery_at", "total"]
    ordering = ["-created_at", "-id"]
    action_permissions = {
        "payment": ["sales.view_order", "sales.change_order"],
        "deliver": ["sales.view_order", "sales.change_order"],
    }

    def get_queryset(self):
        access = "change" if self.action in self.action_permissions else "view"
        return selectors.order_list(user=self.request.user, action=access)

    def respond(self, order_id, code=status.HTTP_200_OK):
        order = selectors.order_list(user=self.request.user).get(pk=order_id)
        return Response(self.get_serializer(order).data, status=code)

    @extend_schema(request=serializers.OrderInputSerializer, responses={201: serializers.OrderSerializer})
    def create(self, request, *args, **kwargs):
        data = self.parse(serializers.OrderInputSerializer)
        order = services.order_create(
            actor=request.user,
            quote_id=data["quote"].pk,
            stock_vehicle_id=data["stock_vehicle"].pk,
            deposit=data["deposit"],
        )
        return self.respond(order.pk, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.OrderPaymentSerializer, responses=serializers.OrderSerializer)
    @action(detail=True, methods=["post"])
    def payment(self, request, pk=None):
        order = self.get_object()
        services.order_payment(actor=request.user, order_id=order.pk, **self.parse(serializers.OrderPaymentSerializer))
        return self.respond(order.pk)

    @extend_schema(
        request=serializers.OrderDeliverSerializer,
        responses=serializers.OrderSerializer,
        description="交车: a paid order; the car becomes the customer's and the 2-day follow-up call is promised.",
    )
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        order = self.get_object()
        services.order_deliver(actor=request.user, order_id=order.pk, **self.parse(serializers.OrderDeliverSerializer))
        return self.respond(order.pk)


class StockVehicleViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """New cars of your rooftops' stock with their days in stock; managers add and edit them."""

    queryset = StockVehicle.objects.none()  # the model, for the schema; the rows come from get_queryset
    serializer_class = serializers.StockVehicleSerializer
    filterset_class = StockVehicleFilterSet
    ordering_fields = ["model", "vin", "arrived_on", "list_price"]
    ordering = ["model", "vin"]

    def get_queryset(self):
        if self.action in ("update", "partial_update"):
            return StockVehicle.objects.for_user(self.request.user, "change").select_related("dealership")
        return selectors.stock_list(user=self.request.user)

    def respond(self, stock_id, code=status.HTTP_200_OK):
        stock = selectors.stock_list(user=self.request.user).get(pk=stock_id)
        serializer = serializers.StockVehicleSerializer(stock, context=self.get_serializer_context())
        return Response(serializer.data, status=code)

    def _save(self, serializer):
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                return serializer.save()
        except IntegrityError:  # two requests adding one VIN at once: the constraint refuses the second
            raise ValidationError({"vin": [serializers.VIN_TAKEN]}) from None

    @extend_schema(request=serializers.StockVehicleInputSerializer, responses={201: serializers.StockVehicleSerializer})
    def create(self, request, *args, **kwargs):
        input_serializer = serializers.StockVehicleInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        stock = self._save(input_serializer)
        return self.respond(stock.pk, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.StockVehicleInputSerializer, responses=serializers.StockVehicleSerializer)
    @transaction.atomic
    def update(self, request, *args, **kwargs):
        # Locked, so a manager's edit never overwrites the reservation an order makes at the same moment.
        stock = self.get_queryset().select_for_update(of=("self",)).get(pk=self.get_object().pk)
        input_serializer = serializers.StockVehicleInputSerializer(
            stock, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        self._save(input_serializer)
        return self.respond(stock.pk)

    @extend_schema(request=serializers.StockVehicleInputSerializer, responses=serializers.StockVehicleSerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


class LostReasonViewSet(viewsets.ReadOnlyModelViewSet):
    """The reasons a lead can be closed as lost at your rooftops (for ``apply-lost``)."""

    queryset = LostReason.objects.none()  # the model, for the schema; the rows come from get_queryset
    serializer_class = serializers.LostReasonSerializer
    pagination_class = None

    def get_queryset(self):
        rooftops = Dealership.objects.filter(pk__in=user_dealership_ids(self.request.user))
        for dealership in rooftops:
            services.dealership_lost_reasons(dealership)  # the defaults, the first time a rooftop asks
        return LostReason.objects.for_user(self.request.user).filter(active=True).order_by("dealership_id", "name")

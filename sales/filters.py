"""The sales filters, shared by the sales API and the sales list pages."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.filters import StyledFilterSet, _rooftops, _staff

from .choices import OPEN_STAGES, Grade, LeadSource, LostReview, OrderStatus, Stage, StockStatus, TestDriveStatus
from .models import Lead, Order, Quote, StockVehicle, TestDrive


class LeadFilterSet(StyledFilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, label=_("Stage"))
    grade = django_filters.MultipleChoiceFilter(choices=Grade.choices, label=_("Grade"))
    source = django_filters.MultipleChoiceFilter(choices=LeadSource.choices, label=_("Source"))
    owner = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Consultant"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    model_of_interest = django_filters.CharFilter(lookup_expr="istartswith", label=_("Model starts with"))
    lost_review = django_filters.ChoiceFilter(choices=LostReview.choices[1:], label=_("Lost review"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    follow_up_by = django_filters.DateFilter(
        field_name="next_followup_on", lookup_expr="lte", label=_("Follow-up due by")
    )

    class Meta:
        model = Lead
        fields = [
            "stage",
            "grade",
            "source",
            "owner",
            "dealership",
            "model_of_interest",
            "lost_review",
            "customer",
            "follow_up_by",
        ]


class LeadPageFilterSet(StyledFilterSet):
    """The lead list page's filters: one value each, as a consultant asks."""

    stage = django_filters.ChoiceFilter(choices=Stage.choices, label=_("Stage"))
    grade = django_filters.ChoiceFilter(choices=Grade.choices, label=_("Grade"))
    source = django_filters.ChoiceFilter(choices=LeadSource.choices, label=_("Source"))
    owner = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Consultant"))
    model_of_interest = django_filters.CharFilter(lookup_expr="istartswith", label=_("Model starts with"))
    # the dashboard's drill-down: the leads behind a number (instants of the period's local days)
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label=_("Created from"))
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before")
    )
    lost_review = django_filters.ChoiceFilter(choices=LostReview.choices[1:], label=_("Lost review"))
    delivered_after = django_filters.IsoDateTimeFilter(
        field_name="orders__delivered_at", lookup_expr="gte", label=_("Delivered from"), distinct=True
    )
    delivered_before = django_filters.IsoDateTimeFilter(
        field_name="orders__delivered_at", lookup_expr="lt", label=_("Delivered before"), distinct=True
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Follow-up overdue"))

    class Meta:
        model = Lead
        fields = [
            "stage",
            "grade",
            "source",
            "owner",
            "model_of_interest",
            "dealership",
            "created_after",
            "created_before",
            "lost_review",
            "delivered_after",
            "delivered_before",
            "overdue",
        ]

    def filter_overdue(self, queryset, name, value):
        """Open leads whose next follow-up day has passed (the dashboard's overdue lead follow-ups)."""
        overdue = Q(stage__in=OPEN_STAGES, next_followup_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class TestDriveFilterSet(StyledFilterSet):
    lead = django_filters.NumberFilter(field_name="lead_id", label=_("Lead id"))
    demo_vehicle = django_filters.NumberFilter(field_name="demo_vehicle_id", label=_("Demo car id"))
    status = django_filters.MultipleChoiceFilter(choices=TestDriveStatus.choices, label=_("Status"))
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte", label=_("Starts from"))
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt", label=_("Starts before"))

    class Meta:
        model = TestDrive
        fields = ["lead", "demo_vehicle", "status", "starts_after", "starts_before"]


class QuoteFilterSet(StyledFilterSet):
    lead = django_filters.NumberFilter(field_name="lead_id", label=_("Lead id"))

    class Meta:
        model = Quote
        fields = ["lead"]


class OrderFilterSet(StyledFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
    consultant = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Consultant"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    lead = django_filters.NumberFilter(field_name="lead_id", label=_("Lead id"))

    class Meta:
        model = Order
        fields = ["status", "consultant", "dealership", "customer", "lead"]


class StockVehicleFilterSet(StyledFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=StockStatus.choices, label=_("Status"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    model = django_filters.CharFilter(lookup_expr="istartswith", label=_("Model starts with"))
    vin = django_filters.CharFilter(lookup_expr="iendswith", label=_("VIN ends with"))

    class Meta:
        model = StockVehicle
        fields = ["status", "dealership", "model", "vin"]

"""One FilterSet per list, shared by the API and the HTML list pages."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    OPEN_COMPLAINT_STATUSES,
    Channel,
    ComplaintCategory,
    ComplaintStatus,
    CustomerKind,
    CustomerSource,
    Severity,
)
from .forms import bootstrap
from .models import Complaint, Customer, Dealership, User, Vehicle
from .querysets import NameGrams, NameKey, user_dealership_ids
from .search import name_key, name_query_grams
from .segment_forms import CustomerFilterForm, segment_filters
from .segments import segment_filter
from .validators import plate_normalize, vin_normalize


def _rooftops(request):
    if request is None:
        return Dealership.objects.none()
    return Dealership.objects.filter(pk__in=user_dealership_ids(request.user))


def _staff(request):
    if request is None:
        return User.objects.none()
    return (
        User.objects.filter(dealerships__in=user_dealership_ids(request.user), is_active=True)
        .distinct()
        .order_by("username")
    )


class StyledFilterSet(django_filters.FilterSet):
    @property
    def form(self):
        form = super().form
        if not getattr(form, "_styled", False):
            bootstrap(form, small=True)
            form._styled = True
        return form


class CustomerFilterSet(StyledFilterSet):
    q = django_filters.CharFilter(label=_("Name"), method="filter_name")
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    kind = django_filters.ChoiceFilter(choices=CustomerKind.choices, label=_("Kind"))
    source = django_filters.ChoiceFilter(choices=CustomerSource.choices, label=_("Source"))
    preferred_channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Preferred channel"))
    marketing_consent = django_filters.BooleanFilter(label=_("Marketing consent"))
    owner = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Responsible staff"))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"))
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("Created until")
    )

    class Meta:
        model = Customer
        fields = ["q", "dealership", "kind", "source", "preferred_channel", "marketing_consent", "owner"]
        form = CustomerFilterForm  # the segment criteria (crm.segments.CRITERIA), checked together

    @property
    def form(self):
        form = super().form
        form.style_segment()
        return form

    def filter_name(self, queryset, name, value):
        key = name_key(value)
        if not key:
            return queryset
        return queryset.alias(name_grams=NameGrams("full_name"), name_key=NameKey("full_name")).filter(
            name_grams__contains=name_query_grams(key),
            name_key__contains=key,
        )

    def filter_queryset(self, queryset):
        """The filters, then the segment criteria on top, in the same statement."""
        queryset = super().filter_queryset(queryset)
        criteria = self.form.segment_criteria
        if not criteria:
            return queryset
        rooftop = self.form.cleaned_data.get("dealership")
        rooftops = [rooftop] if rooftop else _rooftops(self.request).only("pk", "time_zone")
        return segment_filter(queryset, criteria=criteria, rooftops=rooftops)


CustomerFilterSet.base_filters.update(segment_filters())


class VehicleFilterSet(StyledFilterSet):
    plate = django_filters.CharFilter(method="filter_plate", label=_("Plate contains"))
    vin = django_filters.CharFilter(method="filter_vin", label=_("VIN contains"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    make = django_filters.CharFilter(lookup_expr="iexact", label=_("Make"))
    year = django_filters.NumberFilter(label=_("Model year"))
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("Owner id"))

    class Meta:
        model = Vehicle
        fields = ["plate", "vin", "dealership", "make", "year", "owner"]

    def filter_plate(self, queryset, name, value):
        key = plate_normalize(value)
        return queryset.filter(plate__contains=key) if len(key) >= 3 else queryset.filter(plate__startswith=key)

    def filter_vin(self, queryset, name, value):
        key = vin_normalize(value)
        return queryset.filter(Q(vin__contains=key)) if key else queryset


class ComplaintFilterSet(StyledFilterSet):
    """The complaint list page's and the API's filters."""

    status = django_filters.ChoiceFilter(choices=ComplaintStatus.choices, label=_("Status"))
    is_open = django_filters.BooleanFilter(method="filter_open", label=_("Open"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    category = django_filters.ChoiceFilter(choices=ComplaintCategory.choices, label=_("Category"))
    owner = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Owner"))
    escalated = django_filters.BooleanFilter(method="filter_escalated", label=_("Escalated"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    # the dashboard's drill-down: the complaints received in a period (instants of its local days)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("Received from")
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("Received before")
    )

    class Meta:
        model = Complaint
        fields = [
            "status",
            "is_open",
            "severity",
            "category",
            "owner",
            "escalated",
            "overdue",
            "dealership",
            "customer",
            "created_after",
            "created_before",
        ]

    def filter_open(self, queryset, name, value):
        is_open = Q(status__in=OPEN_COMPLAINT_STATUSES)
        return queryset.filter(is_open if value else ~is_open)

    def filter_escalated(self, queryset, name, value):
        return queryset.filter(escalated_at__isnull=not value)

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=OPEN_COMPLAINT_STATUSES, due_at__lt=timezone.now())
        return queryset.filter(overdue if value else ~overdue)

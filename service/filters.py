"""The service filters, shared by the service API and the service list pages."""

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from crm.filters import StyledFilterSet, _rooftops, _staff
from crm.models import User

from .choices import AppointmentStatus, RepairOrderStatus, ServiceType
from .models import Appointment, Job, Part, RepairOrder, TimeEntry


class AppointmentFilterSet(StyledFilterSet):
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    advisor = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Advisor"))
    status = django_filters.MultipleChoiceFilter(choices=AppointmentStatus.choices, label=_("Status"))
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices, label=_("Service type"))
    vehicle = django_filters.NumberFilter(field_name="vehicle_id", label=_("Vehicle id"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte", label=_("Starts from"))
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt", label=_("Starts before"))

    class Meta:
        model = Appointment
        fields = [
            "dealership",
            "advisor",
            "status",
            "service_type",
            "vehicle",
            "customer",
            "starts_after",
            "starts_before",
        ]


class RepairOrderFilterSet(StyledFilterSet):
    number = django_filters.CharFilter(method="filter_number", label=_("Number starts with"))
    status = django_filters.MultipleChoiceFilter(choices=RepairOrderStatus.choices, label=_("Status"))
    advisor = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Advisor"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices, label=_("Service type"))
    vehicle = django_filters.NumberFilter(field_name="vehicle_id", label=_("Vehicle id"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    is_comeback = django_filters.BooleanFilter(label=_("Comeback"))
    checked_in_after = django_filters.IsoDateTimeFilter(
        field_name="checked_in_at", lookup_expr="gte", label=_("Checked in from")
    )
    checked_in_before = django_filters.IsoDateTimeFilter(
        field_name="checked_in_at", lookup_expr="lt", label=_("Checked in before")
    )

    class Meta:
        model = RepairOrder
        fields = [
            "number",
            "status",
            "advisor",
            "dealership",
            "service_type",
            "vehicle",
            "customer",
            "is_comeback",
            "checked_in_after",
            "checked_in_before",
        ]

    def filter_number(self, queryset, name, value):
        return queryset.filter(number__startswith=value.strip().upper())


class PartFilterSet(StyledFilterSet):
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    part_number = django_filters.CharFilter(method="filter_part_number", label=_("Part number starts with"))
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", label=_("In stock"))

    class Meta:
        model = Part
        fields = ["dealership", "part_number", "in_stock"]

    def filter_part_number(self, queryset, name, value):
        return queryset.filter(part_number__startswith=value.strip().upper())

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(stock_on_hand__gt=0) if value else queryset.filter(stock_on_hand__lte=0)


class JobFilterSet(StyledFilterSet):
    technician = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Technician"))
    repair_order = django_filters.NumberFilter(field_name="repair_order_id", label=_("Repair order id"))
    repair_order_status = django_filters.MultipleChoiceFilter(
        field_name="repair_order__status", choices=RepairOrderStatus.choices, label=_("Repair order status")
    )
    dealership = django_filters.ModelChoiceFilter(
        field_name="repair_order__dealership", queryset=_rooftops, label=_("Dealership")
    )

    class Meta:
        model = Job
        fields = ["technician", "repair_order", "repair_order_status", "dealership"]


class TechnicianFilterSet(StyledFilterSet):
    dealership = django_filters.ModelChoiceFilter(
        field_name="dealerships", queryset=_rooftops, label=_("Dealership"), distinct=True
    )
    clocked_on = django_filters.BooleanFilter(method="filter_clocked_on", label=_("Clocked on"))

    class Meta:
        model = User
        fields = ["dealership", "clocked_on"]

    def filter_clocked_on(self, queryset, name, value):
        clocked = Exists(TimeEntry.objects.filter(technician=OuterRef("pk"), ended_at__isnull=True))
        return queryset.filter(clocked) if value else queryset.exclude(clocked)


class RepairOrderPageFilterSet(StyledFilterSet):
    """The repair-order list page's filters (one status at a time, as a front desk asks)."""

    number = django_filters.CharFilter(method="filter_number", label=_("Number starts with"))
    status = django_filters.ChoiceFilter(choices=RepairOrderStatus.choices, label=_("Status"))
    advisor = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Advisor"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    is_comeback = django_filters.BooleanFilter(label=_("Comeback"))
    # the dashboards' drill-down: the orders behind a number (instants of the period's local days)
    from_appointment = django_filters.BooleanFilter(
        field_name="appointment", lookup_expr="isnull", exclude=True, label=_("From an appointment")
    )
    checked_in_after = RepairOrderFilterSet.base_filters["checked_in_after"]
    checked_in_before = RepairOrderFilterSet.base_filters["checked_in_before"]
    delivered_after = django_filters.IsoDateTimeFilter(
        field_name="delivered_at", lookup_expr="gte", label=_("Delivered from")
    )
    delivered_before = django_filters.IsoDateTimeFilter(
        field_name="delivered_at", lookup_expr="lt", label=_("Delivered before")
    )

    class Meta:
        model = RepairOrder
        fields = [
            "number",
            "status",
            "advisor",
            "dealership",
            "is_comeback",
            "from_appointment",
            "checked_in_after",
            "checked_in_before",
            "delivered_after",
            "delivered_before",
        ]

    filter_number = RepairOrderFilterSet.filter_number

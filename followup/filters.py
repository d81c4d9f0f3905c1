"""The follow-up filters, shared by ``/api/followups/`` and the pages."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filters import StyledFilterSet, _rooftops, _staff

from .choices import FollowUpKind, FollowUpStatus
from .models import FollowUp


class FollowUpFilterSet(StyledFilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=FollowUpKind.choices, label=_("Type of call"))
    status = django_filters.MultipleChoiceFilter(choices=FollowUpStatus.choices, label=_("Status"))
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte", label=_("Due from"))
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lte", label=_("Due until"))
    assignee = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Assignee"))
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label=_("Unassigned"))
    team = django_filters.CharFilter(label=_("Team"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))

    class Meta:
        model = FollowUp
        fields = [
            "kind",
            "status",
            "due_after",
            "due_before",
            "assignee",
            "unassigned",
            "team",
            "dealership",
            "customer",
        ]

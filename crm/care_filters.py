"""The voucher and campaign lists' filters, shared by the API and the pages."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .choices import CampaignChannel, CampaignStatus, VoucherKind, VoucherStatus
from .filters import StyledFilterSet, _rooftops
from .models import Campaign, Voucher, VoucherType
from .vouchers import code_normalize


class VoucherFilterSet(StyledFilterSet):
    status = django_filters.ChoiceFilter(choices=VoucherStatus.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(field_name="voucher_type__kind", choices=VoucherKind.choices, label=_("Kind"))
    code = django_filters.CharFilter(method="filter_code", label=_("Voucher code"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))
    campaign = django_filters.NumberFilter(field_name="campaign_id", label=_("Campaign id"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))

    class Meta:
        model = Voucher
        fields = ["status", "kind", "code", "customer", "campaign", "dealership"]

    def filter_code(self, queryset, name, value):
        return queryset.filter(code=code_normalize(value))


class CampaignFilterSet(StyledFilterSet):
    status = django_filters.ChoiceFilter(choices=CampaignStatus.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=CampaignChannel.choices, label=_("Channel"))
    dealership = django_filters.ModelChoiceFilter(queryset=_rooftops, label=_("Dealership"))

    class Meta:
        model = Campaign
        fields = ["status", "channel", "dealership"]


class VoucherTypeFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=VoucherKind.choices)
    active = django_filters.BooleanFilter()
    dealership = django_filters.NumberFilter(field_name="dealership_id")

    class Meta:
        model = VoucherType
        fields = ["kind", "active", "dealership"]

"""Campaign and voucher page forms: they parse input; ``crm.campaigns`` and ``crm.vouchers`` check and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import CampaignChannel
from .forms import DateInput, StyledForm
from .models import Customer, Segment, VoucherType
from .querysets import user_dealership_ids


class CampaignForm(StyledForm):
    """A draft campaign: a saved segment of the user's rooftops, an offer and, optionally, a voucher type."""

    name = forms.CharField(label=_("Campaign name"), max_length=100)
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.none())
    offer = forms.CharField(
        label=_("Offer"),
        max_length=300,
        required=False,
        # xgettext:no-python-format
        help_text=_("What the customer is told, e.g. a free check and 20% off labour until the end of the month."),
    )
    voucher_type = forms.ModelChoiceField(
        label=_("Voucher"), queryset=VoucherType.objects.none(), required=False, empty_label=_("(no voucher)")
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=CampaignChannel.choices)
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        rooftops = user_dealership_ids(user)
        self.fields["segment"].queryset = Segment.objects.filter(dealership_id__in=rooftops).order_by("name")
        self.fields["voucher_type"].queryset = VoucherType.objects.filter(
            dealership_id__in=rooftops, active=True
        ).order_by("kind", "name")


class VoucherIssueForm(StyledForm):
    voucher_type = forms.ModelChoiceField(label=_("Voucher"), queryset=VoucherType.objects.none())

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["voucher_type"].queryset = VoucherType.objects.filter(
            dealership_id=customer.dealership_id, active=True
        ).order_by("kind", "name")


class VoucherRedeemForm(forms.Form):
    """The front desk's code box on a repair order or a sales order."""

    code = forms.CharField(label=_("Voucher code"), max_length=30)

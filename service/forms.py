"""Front-desk forms: they parse; ``service.services`` checks and writes."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.forms import DateInput, DateTimeInput, StyledForm
from crm.models import User

from .choices import ApprovalChannel, Damage, OldParts, Panel, PaymentMethod, PayType, ServiceType


class CheckInForm(StyledForm):
    concern = forms.CharField(
        label=_("Customer's concern, in their words"), widget=forms.Textarea(attrs={"rows": 3, "autofocus": True})
    )
    odometer_km = forms.IntegerField(label=_("Odometer (km)"), min_value=0, max_value=2_000_000)
    odometer_correction_reason = forms.CharField(
        label=_("Correction reason (only if below the last reading)"), required=False, max_length=200
    )
    fuel_level = forms.IntegerField(
        label=_("Fuel level (%)"),
        min_value=0,
        max_value=100,
        initial=50,
        widget=forms.NumberInput(attrs={"type": "range", "step": 5, "class": "form-range"}),
    )
    service_type = forms.ChoiceField(label=_("Service type"), choices=ServiceType.choices)
    pay_type = forms.ChoiceField(label=_("Pay type"), choices=PayType.choices)
    promised_at = forms.DateTimeField(label=_("Promised completion"), required=False, widget=DateTimeInput)
    valuables = forms.CharField(label=_("Valuables in the car"), required=False, max_length=300)
    warning_lights = forms.CharField(label=_("Warning lights on"), required=False, max_length=300)
    appointment = forms.IntegerField(required=False, widget=forms.HiddenInput)


class LabourLineForm(StyledForm):
    operation_code = forms.CharField(label=_("Operation code"), max_length=20)
    description = forms.CharField(label=_("Work"), max_length=200)
    hours = forms.DecimalField(label=_("Flat-rate hours"), min_value=Decimal("0.1"), max_digits=6, decimal_places=2)
    pay_type = forms.ChoiceField(
        label=_("Pay type"), choices=[("", _("as the order")), *PayType.choices], required=False
    )
    discount_amount = forms.DecimalField(label=_("Discount"), min_value=0, max_digits=12, decimal_places=2, initial=0)
    note = forms.CharField(label=_("Note (what was found)"), required=False)


class PartLineForm(StyledForm):
    part_number = forms.CharField(label=_("Part number"), max_length=40)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2)
    description = forms.CharField(label=_("Description (if not in the catalogue)"), required=False, max_length=200)
    unit_price = forms.DecimalField(
        label=_("Unit price (if not in the catalogue)"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    pay_type = forms.ChoiceField(
        label=_("Pay type"), choices=[("", _("as the order")), *PayType.choices], required=False
    )
    discount_amount = forms.DecimalField(label=_("Discount"), min_value=0, max_digits=12, decimal_places=2, initial=0)
    note = forms.CharField(label=_("Note (what was found)"), required=False)


class ApproveForm(StyledForm):
    approved_by_name = forms.CharField(label=_("Approved by (name as signed)"), max_length=100)
    channel = forms.ChoiceField(
        label=_("How"), choices=[c for c in ApprovalChannel.choices if c[0] != ApprovalChannel.IMPLIED]
    )


class DispatchForm(StyledForm):
    technician = forms.ModelChoiceField(label=_("Technician"), queryset=User.objects.none())
    planned_hours = forms.DecimalField(
        label=_("Planned hours"), min_value=Decimal("0.1"), max_digits=6, decimal_places=2
    )
    bay = forms.CharField(label=_("Bay"), required=False, max_length=20)

    def __init__(self, *args, technicians=None, **kwargs):
        super().__init__(*args, **kwargs)
        if technicians is not None:
            self.fields["technician"].queryset = technicians


class QualityCheckForm(StyledForm):
    passed = forms.TypedChoiceField(
        label=_("Result"), choices=[("1", _("Pass")), ("0", _("Fail"))], coerce=lambda value: value == "1"
    )
    reason = forms.CharField(label=_("What failed"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PaymentForm(StyledForm):
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)


class DeliverForm(StyledForm):
    next_service_on = forms.DateField(label=_("Next maintenance by"), required=False, widget=DateInput)
    next_service_km = forms.IntegerField(label=_("…or at (km)"), required=False, min_value=0, max_value=2_000_000)


class TermsForm(StyledForm):
    promised_at = forms.DateTimeField(label=_("Promised completion"), required=False, widget=DateTimeInput)
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)
    old_parts = forms.ChoiceField(label=_("Old parts"), choices=OldParts.choices)
    free_wash = forms.BooleanField(label=_("Free wash"), required=False)
    discount_amount = forms.DecimalField(label=_("Order discount"), min_value=0, max_digits=12, decimal_places=2)
    diagnosis = forms.CharField(label=_("Diagnosis"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AppointmentForm(StyledForm):
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DateTimeInput)
    service_type = forms.ChoiceField(label=_("Service type"), choices=ServiceType.choices)
    advisor = forms.ModelChoiceField(label=_("Advisor"), queryset=User.objects.none(), required=False)
    concern = forms.CharField(label=_("Concern"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    parts_to_reserve = forms.CharField(label=_("Parts to reserve"), required=False)

    def __init__(self, *args, advisors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if advisors is not None:
            self.fields["advisor"].queryset = advisors


PhotoInput = forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"})


class DamageForm(StyledForm):
    panel = forms.ChoiceField(label=_("Panel"), choices=Panel.choices)
    damage = forms.ChoiceField(label=_("Damage"), choices=Damage.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
    photo = forms.FileField(label=_("Photo"), required=False, widget=PhotoInput)


class LinePhotoForm(StyledForm):
    line = forms.ChoiceField(label=_("Line"))
    photo = forms.FileField(label=_("Photo"), widget=PhotoInput)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [(line.decision_key, line.description) for line in lines]


def parse_datetime_input(value: str):
    """A ``datetime-local`` value (read in the current time zone), None when empty; ValidationError if malformed."""
    return forms.DateTimeField(required=False).clean(value)

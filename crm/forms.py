"""Page forms: they parse input; the services in ``crm.services`` normalise, check and write."""

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .choices import ComplaintCategory, ComplaintSource, ComplaintStatus, Severity
from .models import Customer, Dealership, User, Vehicle
from .querysets import user_dealership_ids, user_phone_region
from .services import CUSTOMER_INPUT_FIELDS, VEHICLE_FIELDS
from .validators import phone_normalize


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


def bootstrap(form: forms.BaseForm, *, small: bool = False) -> forms.BaseForm:
    """Give every widget its Bootstrap class, and mark invalid fields for the screen reader too."""
    size = "-sm" if small else ""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = f"form-select form-select{size}" if small else "form-select"
        else:
            css = f"form-control form-control{size}" if small else "form-control"
        if form.is_bound and name in form.errors:
            css += " is-invalid"
            widget.attrs["aria-invalid"] = "true"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
    return form


DateTimeInput = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class StyledForm(forms.Form):
    """Styled at render time (``styled``): styling a bound form in ``__init__`` would validate it before a
    subclass has set its querysets."""

    def styled(self):
        return bootstrap(self)


class RooftopChoiceMixin:
    """The dealership field offers only the rooftops the user works at."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if "dealership" in self.fields:
            rooftops = Dealership.objects.filter(pk__in=user_dealership_ids(user))
            self.fields["dealership"].queryset = rooftops
            if rooftops.count() == 1:
                self.fields["dealership"].initial = rooftops.first()


class CustomerForm(RooftopChoiceMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = ["dealership", *CUSTOMER_INPUT_FIELDS]
        widgets = {
            "contact_from": TimeInput,
            "contact_until": TimeInput,
            "born_on": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "tags": forms.TextInput(attrs={"placeholder": "VIP, 车队客户"}),
            "mobile": forms.TextInput(
                attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": "138 0013 8000"}
            ),
            "other_phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("dealership")
            self.fields["version"].initial = self.instance.version
        self.fields["full_name"].widget.attrs["autofocus"] = True

    def clean(self):
        cleaned = super().clean()
        rooftop = self.instance.dealership if self.instance.pk else cleaned.get("dealership")
        region = rooftop.phone_region if rooftop else user_phone_region(self.user)
        for name, mobile_only in (("mobile", True), ("other_phone", False)):  # every field's message at once
            if cleaned.get(name):
                try:
                    phone_normalize(cleaned[name], region=region, mobile_only=mobile_only)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        start, end = cleaned.get("contact_from"), cleaned.get("contact_until")
        if bool(start) != bool(end):
            self.add_error(
                "contact_until" if start else "contact_from", _("Give both ends of the contact window, or neither.")
            )
        elif start and end and start >= end:
            self.add_error("contact_until", _("The window must end after it starts."))
        return cleaned

    def _post_clean(self):
        # The services normalise phones and check duplicates; model validation runs there.
        pass

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name not in {"dealership", "version"}}


class VehicleForm(RooftopChoiceMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    odometer_km = forms.IntegerField(label=_("Odometer (km)"), min_value=0, max_value=2_000_000, required=False)

    class Meta:
        model = Vehicle
        fields = ["dealership", *VEHICLE_FIELDS]
        widgets = {
            "purchased_on": DateInput,
            "warranty_ends_on": DateInput,
            "next_service_on": DateInput,
            "vin": forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false", "style": "text-transform:uppercase"}
            ),
            "plate": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "沪A12345"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("dealership")
            self.fields.pop("odometer_km")
            self.fields["version"].initial = self.instance.version
        self.fields["sales_channel"].required = False  # left empty: the model's "unknown"

    def _post_clean(self):
        pass

    def service_data(self) -> dict:
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in {"dealership", "version", "odometer_km"}
        }
        if not data.get("sales_channel"):
            data.pop("sales_channel", None)
        return data


class ChangeOwnerForm(forms.Form):
    """The new owner is named by mobile, as the front desk knows them."""

    mobile = forms.CharField(label=_("New owner's mobile"), max_length=30)
    on = forms.DateField(label=_("Owner from"), widget=DateInput)

    def __init__(self, *args, vehicle: Vehicle, **kwargs):
        super().__init__(*args, **kwargs)
        self.vehicle = vehicle

    def clean_mobile(self):
        mobile = phone_normalize(self.cleaned_data["mobile"], region=self.vehicle.dealership.phone_region)
        customer = Customer.objects.filter(dealership_id=self.vehicle.dealership_id, mobile=mobile).first()
        if customer is None:
            raise forms.ValidationError(_("No customer of this dealership has that mobile; create the customer first."))
        self.cleaned_data["customer"] = customer
        return mobile


class ComplaintForm(StyledForm):
    """A new complaint 投诉 for a customer on file; ``crm.services.complaint_open`` checks and writes."""

    source = forms.ChoiceField(label=_("Source"), choices=ComplaintSource.choices, initial=ComplaintSource.PHONE)
    category = forms.ChoiceField(label=_("Category"), choices=ComplaintCategory.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    description = forms.CharField(
        label=_("What the customer said"), widget=forms.Textarea(attrs={"rows": 4, "autofocus": True})
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("(not yet)")
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff


class ComplaintStepForm(StyledForm):
    """One step of a complaint (``COMPLAINT_NEXT``): the solution when it is agreed, a note for the call-back
    and for going back to investigating. The service says which is missing."""

    to_status = forms.ChoiceField(choices=ComplaintStatus.choices, widget=forms.HiddenInput)
    solution = forms.CharField(
        label=_("Solution agreed with the customer"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, from_status: str, to_status: str, **kwargs):
        super().__init__(*args, initial={"to_status": to_status}, **kwargs)
        if to_status != ComplaintStatus.SOLUTION_AGREED:
            self.fields.pop("solution")
        if to_status == ComplaintStatus.CALLBACK_DONE:
            self.fields["note"].label = _("What the customer said on the call-back")
        elif to_status == ComplaintStatus.INVESTIGATING and from_status != ComplaintStatus.RECEIVED:
            self.fields["note"].label = _("Why it goes back to investigating")
        else:
            self.fields.pop("note")


class ComplaintAssignForm(StyledForm):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff


def _linked(error: forms.ValidationError) -> forms.ValidationError:
    """A duplicate's message with a real link to the record that already has the value."""
    params = error.params or {}
    if error.code != "duplicate" or "url" not in params:
        return error
    text = error.message % {**params, "url": ""}
    return forms.ValidationError(
        format_html('{} <a href="{}" class="alert-link">{}</a>', text.rstrip(": "), params["url"], _("Open it")),
        code="duplicate",
    )


def add_service_errors(form: forms.Form, error) -> None:
    """Put a service's ValidationError on the form's fields (or the form, for fields it lacks)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.error_dict.items():
            form.add_error(field if field in form.fields else None, [_linked(message) for message in messages])
    else:
        form.add_error(None, error)

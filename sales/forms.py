"""Showroom forms: they parse; ``sales.services`` checks and writes."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.forms import DateInput, DateTimeInput, StyledForm
from crm.models import User

from .choices import ActivityKind, DeliveryDocument, Grade, LeadSource, PdiItem, Stage, Timeframe
from .models import DemoVehicle, LostReason, StockVehicle

MONEY = {"max_digits": 12, "decimal_places": 2}


class VisitForm(StyledForm):
    """展厅来店登记: the reception desk's one-line form."""

    mobile = forms.CharField(label=_("Mobile"), max_length=20, widget=forms.TextInput(attrs={"autofocus": True}))
    full_name = forms.CharField(label=_("Name (new visitors)"), required=False, max_length=100)
    party_size = forms.IntegerField(label=_("Party size"), min_value=1, max_value=20, initial=1)
    model_of_interest = forms.CharField(label=_("Model of interest"), required=False, max_length=80)
    consultant = forms.ModelChoiceField(label=_("Consultant"), queryset=User.objects.none(), required=False)
    arrived_at = forms.DateTimeField(label=_("Arrived"), required=False, widget=DateTimeInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, consultants=None, **kwargs):
        super().__init__(*args, **kwargs)
        if consultants is not None:
            self.fields["consultant"].queryset = consultants


class LeadForm(StyledForm):
    source = forms.ChoiceField(label=_("Source"), choices=LeadSource.choices)
    referrer_mobile = forms.CharField(label=_("Referred by (their mobile)"), required=False, max_length=20)
    model_of_interest = forms.CharField(label=_("Model of interest"), required=False, max_length=80)
    budget = forms.DecimalField(label=_("Budget (¥)"), required=False, min_value=0, **MONEY)
    intended_use = forms.CharField(label=_("Intended use"), required=False, max_length=120)
    timeframe = forms.ChoiceField(
        label=_("Purchase timeframe"), choices=[("", "—"), *Timeframe.choices], required=False
    )
    trade_in = forms.CharField(label=_("Trade-in"), required=False, max_length=120)
    finance_need = forms.BooleanField(label=_("Wants finance"), required=False)
    grade = forms.ChoiceField(label=_("Grade"), choices=[("", "—"), *Grade.choices], required=False)
    owner = forms.ModelChoiceField(label=_("Consultant"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, consultants=None, **kwargs):
        super().__init__(*args, **kwargs)
        if consultants is not None:
            self.fields["owner"].queryset = consultants
        else:
            del self.fields["owner"]


class ActivityForm(StyledForm):
    kind = forms.ChoiceField(
        label=_("Contact"), choices=[c for c in ActivityKind.choices if c[0] != ActivityKind.TEST_DRIVE]
    )
    occurred_at = forms.DateTimeField(label=_("When"), required=False, widget=DateTimeInput)
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)


class GradeForm(StyledForm):
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)


class StageForm(StyledForm):
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[c for c in Stage.choices if c[0] not in ("ordered", "delivered", "lost")]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class TestDriveForm(StyledForm):
    demo_vehicle = forms.ModelChoiceField(label=_("Demo car"), queryset=DemoVehicle.objects.none())
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DateTimeInput)
    licence_number = forms.CharField(label=_("Driving licence number"), max_length=24)
    licence_expires_on = forms.DateField(label=_("Licence valid until"), widget=DateInput)

    def __init__(self, *args, demo_vehicles=None, **kwargs):
        super().__init__(*args, **kwargs)
        if demo_vehicles is not None:
            self.fields["demo_vehicle"].queryset = demo_vehicles


class FeedbackForm(StyledForm):
    test_drive = forms.IntegerField(widget=forms.HiddenInput)
    feedback = forms.CharField(label=_("What they said about the drive"), widget=forms.Textarea(attrs={"rows": 2}))


class QuoteForm(StyledForm):
    stock_vehicle = forms.ModelChoiceField(label=_("Stock car"), queryset=StockVehicle.objects.none(), required=False)
    model = forms.CharField(label=_("Model"), required=False, max_length=80)
    list_price = forms.DecimalField(label=_("List price"), **MONEY)
    discount = forms.DecimalField(label=_("Discount"), initial=0, **MONEY)
    accessories = forms.CharField(label=_("Accessories"), required=False, max_length=300)
    accessories_price = forms.DecimalField(label=_("Accessories price"), initial=0, **MONEY)
    trade_in_value = forms.DecimalField(label=_("Trade-in valuation"), initial=0, **MONEY)
    insurance = forms.DecimalField(label=_("Insurance"), initial=0, **MONEY)
    down_payment = forms.DecimalField(label=_("Down payment"), required=False, **MONEY)
    term_months = forms.IntegerField(label=_("Term (months)"), required=False)
    annual_rate_percent = forms.DecimalField(
        label=_("Annual rate (%)"), required=False, max_digits=6, decimal_places=2, help_text=_("3.99 for 3.99%")
    )

    def __init__(self, *args, stock=None, **kwargs):
        super().__init__(*args, **kwargs)
        if stock is not None:
            self.fields["stock_vehicle"].queryset = stock

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        stock = data.pop("stock_vehicle")
        percent = data.pop("annual_rate_percent")
        data["stock_vehicle_id"] = stock.pk if stock else None
        data["annual_rate"] = (percent / 100).quantize(Decimal("0.0001")) if percent is not None else None
        if data["model"] == "" and stock:
            data["model"] = stock.model
        return data


class LostForm(StyledForm):
    reason = forms.ModelChoiceField(label=_("Why lost"), queryset=LostReason.objects.none(), required=False)
    note = forms.CharField(label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, reasons=None, **kwargs):
        super().__init__(*args, **kwargs)
        if reasons is not None:
            self.fields["reason"].queryset = reasons


class ReviewForm(StyledForm):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve: close as lost")), ("0", _("Reject: keep following up"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(label=_("Note to the consultant"), required=False, max_length=300)


class NoteForm(StyledForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class ReassignForm(StyledForm):
    owner = forms.ModelChoiceField(label=_("Consultant"), queryset=User.objects.none())

    def __init__(self, *args, consultants=None, **kwargs):
        super().__init__(*args, **kwargs)
        if consultants is not None:
            self.fields["owner"].queryset = consultants


class OrderForm(StyledForm):
    stock_vehicle = forms.ModelChoiceField(label=_("Car to reserve"), queryset=StockVehicle.objects.none())
    deposit = forms.DecimalField(label=_("Deposit"), **MONEY)

    def __init__(self, *args, stock=None, **kwargs):
        super().__init__(*args, **kwargs)
        if stock is not None:
            self.fields["stock_vehicle"].queryset = stock


class OrderPaymentForm(StyledForm):
    amount = forms.DecimalField(label=_("Amount"), **MONEY)


class DeliveryAppointmentForm(StyledForm):
    delivery_at = forms.DateTimeField(label=_("Delivery appointment"), widget=DateTimeInput)


class DeliverForm(StyledForm):
    delivery_advisor = forms.ModelChoiceField(label=_("Attending service advisor"), queryset=User.objects.none())

    def __init__(self, *args, advisors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if advisors is not None:
            self.fields["delivery_advisor"].queryset = advisors
        for item, label in PdiItem.choices:
            self.fields[f"pdi_{item}"] = forms.BooleanField(label=label, required=False)
        for item, label in DeliveryDocument.choices:
            self.fields[f"doc_{item}"] = forms.BooleanField(label=label, required=False)

    def pdi_fields(self):
        return [self[f"pdi_{item}"] for item in PdiItem.values]

    def document_fields(self):
        return [self[f"doc_{item}"] for item in DeliveryDocument.values]

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "delivery_advisor": data["delivery_advisor"],
            "pdi_checklist": {item: bool(data.get(f"pdi_{item}")) for item in PdiItem.values},
            "documents_checklist": {item: bool(data.get(f"doc_{item}")) for item in DeliveryDocument.values},
        }

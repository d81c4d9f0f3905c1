from django import forms
from django.utils.translation import gettext_lazy as _

from crm.forms import DateTimeInput, bootstrap

from .api.serializers import CALL_OUTCOMES
from .choices import RefusalReason


class OutcomeForm(forms.Form):
    """What came of a call; the button pressed gives the outcome, the service checks the rest."""

    outcome = forms.ChoiceField(choices=CALL_OUTCOMES, label=_("Outcome"))
    satisfaction = forms.TypedChoiceField(
        choices=[(value, str(value)) for value in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label=_("Satisfaction (1–5)"),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, label=_("Notes"))
    callback_at = forms.DateTimeField(
        required=False,
        widget=DateTimeInput,
        label=_("Call back at"),
    )
    refusal_reason = forms.ChoiceField(
        choices=[("", "—"), *RefusalReason.choices], required=False, label=_("Reason for refusing")
    )
    booking = forms.CharField(required=False, max_length=200, label=_("Appointment booked (link or number)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self, small=True)
        self.fields["satisfaction"].widget.attrs["class"] = "form-check-input"

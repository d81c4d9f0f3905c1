"""The segment criteria as form fields and filters, built from ``crm.segments.CRITERIA``: the customer list's
segment panel, the API's customer filters and the save-a-segment form share them. The fields only parse;
``criteria_clean`` judges the values and their contradictions, once."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .forms import StyledForm, add_service_errors, bootstrap
from .models import Dealership
from .querysets import user_dealership_ids
from .segments import CRITERIA, GRADES, criteria_clean

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
GRADE_CHOICES = [(grade, grade) for grade in GRADES]
CONSENT_CHOICES = [("", "—"), ("true", _("yes")), ("false", _("no"))]


def criterion_label(name: str):
    return _(CRITERIA[name][1])


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def _applied_together(queryset, name, value):
    """Criteria depend on each other (a period and its visit count): the FilterSet applies them together."""
    return queryset


def segment_filters() -> dict[str, django_filters.Filter]:
    """One filter per criterion, to add to a FilterSet whose form is a ``SegmentCriteriaMixin``."""
    kinds = {
        "text": lambda label: django_filters.CharFilter(label=label, method=_applied_together),
        "int": lambda label: IntegerFilter(label=label, method=_applied_together, min_value=0),
        "money": lambda label: django_filters.NumberFilter(label=label, method=_applied_together, min_value=0),
        "date": lambda label: django_filters.DateFilter(label=label, method=_applied_together, widget=DATE_WIDGET),
        "grades": lambda label: django_filters.MultipleChoiceFilter(
            label=label, method=_applied_together, choices=GRADE_CHOICES, widget=forms.CheckboxSelectMultiple
        ),
        "bool": lambda label: django_filters.BooleanFilter(label=label, method=_applied_together),
    }
    return {name: kinds[kind](criterion_label(name)) for name, (kind, _label) in CRITERIA.items()}


class SegmentCriteriaMixin:
    """A form holding the criteria fields: after its own cleaning, ``segment_criteria`` is the cleaned
    criteria ({} when none is given), or None with each contradiction on its field."""

    segment_names = tuple(CRITERIA)
    segment_criteria: dict | None = None

    def clean(self):
        data = super().clean()
        raw = {name: data.get(name) for name in CRITERIA if name in self.fields}
        try:
            self.segment_criteria = criteria_clean(raw)
        except ValidationError as error:
            self.segment_criteria = None
            add_service_errors(self, error)
        return data

    def segment_fields(self):
        return [self[name] for name in CRITERIA if name in self.fields]

    def has_segment(self) -> bool:
        return any(self.data.get(name) not in (None, "") for name in CRITERIA)

    def style_segment(self):
        for name in CRITERIA:
            if name in self.fields and CRITERIA[name][0] == "grades":
                self.fields[name].widget.attrs["class"] = "form-check-input"


class CustomerFilterForm(SegmentCriteriaMixin, forms.Form):
    pass


def _criterion_form_field(name: str) -> forms.Field:
    kind, label = CRITERIA[name][0], criterion_label(name)
    if kind == "grades":
        return forms.MultipleChoiceField(
            label=label, choices=GRADE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
        )
    if kind == "bool":
        return forms.ChoiceField(label=label, choices=CONSENT_CHOICES, required=False)
    widget = {
        "int": forms.NumberInput(attrs={"min": 0, "step": 1}),
        "money": forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
        "date": DATE_WIDGET,
    }.get(kind, forms.TextInput)
    return forms.CharField(label=label, required=False, widget=widget)


class SegmentForm(StyledForm):
    """Save a segment: its name, rooftop and criteria (as typed; the service checks them)."""

    name = forms.CharField(label=_("Segment name"), max_length=100)
    dealership = forms.ModelChoiceField(label=_("Dealership"), queryset=Dealership.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        rooftop_ids = user_dealership_ids(user)
        self.fields["dealership"].queryset = Dealership.objects.filter(pk__in=rooftop_ids)
        if len(rooftop_ids) == 1:
            self.fields["dealership"].initial = rooftop_ids[0]
        for name in CRITERIA:
            self.fields[name] = _criterion_form_field(name)

    def criteria(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in CRITERIA}

    def segment_fields(self):
        return [self[name] for name in CRITERIA]

    def styled(self):
        bootstrap(self)
        for name in CRITERIA:
            if CRITERIA[name][0] == "grades":
                self.fields[name].widget.attrs["class"] = "form-check-input"
        return self


def criteria_from_query(query) -> dict:
    """The criteria given in a query string or a POST (the builder's fields), as typed."""
    criteria = {}
    for name, (kind, _label) in CRITERIA.items():
        value = query.getlist(name) if kind == "grades" else query.get(name, "")
        if value not in ("", []):
            criteria[name] = value
    return criteria

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Lead


class LeadTable(tables.Table):
    customer = tables.Column(
        accessor="customer__full_name", verbose_name=_("Customer"), linkify=lambda record: record.get_absolute_url()
    )
    model_of_interest = tables.Column(verbose_name=_("Model of interest"))
    source = tables.Column(verbose_name=_("Source"))
    stage = tables.Column(verbose_name=_("Stage"))
    grade = tables.Column(verbose_name=_("Grade"))
    owner = tables.Column(verbose_name=_("Consultant"), orderable=False)
    next_followup_on = tables.DateColumn(format="Y-m-d", verbose_name=_("Next follow-up"))
    updated_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Updated"))

    class Meta:
        model = Lead
        fields = [
            "customer",
            "model_of_interest",
            "source",
            "stage",
            "grade",
            "owner",
            "next_followup_on",
            "updated_at",
        ]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("No leads match these filters.")

    def render_stage(self, value, record):
        return format_html('<span class="badge stage-{}">{}</span>', record.stage, value)

    def render_grade(self, value, record):
        return format_html('<span class="badge grade-{}">{}</span>', record.grade, record.grade)

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Lead, StockVehicle


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


class StockTable(tables.Table):
    vin = tables.Column(verbose_name=_("VIN"), attrs={"td": {"class": "vin"}})
    model = tables.Column(verbose_name=_("Model"))
    trim = tables.Column(verbose_name=_("Trim"))
    colour = tables.Column(verbose_name=_("Colour"))
    list_price = tables.Column(verbose_name=_("List price"), attrs={"td": {"class": "text-end"}})
    status = tables.Column(verbose_name=_("Status"))
    days = tables.Column(empty_values=(), verbose_name=_("Days in stock"), order_by="arrived_on")

    class Meta:
        model = StockVehicle
        fields = ["vin", "model", "trim", "colour", "list_price", "status", "days"]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("No cars match these filters.")

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def render_list_price(self, value):
        return f"¥{value}"

    def render_status(self, value, record):
        return format_html('<span class="badge stock-{}">{}</span>', record.status, value)

    def render_days(self, record):
        days = record.days_in_stock(self.today)
        if days is None:
            return "—"
        return format_html('<span class="{}">{}</span>', "text-danger fw-semibold" if days > 90 else "", days)

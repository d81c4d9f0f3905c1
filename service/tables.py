import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import pricing
from .models import RepairOrder


class RepairOrderTable(tables.Table):
    number = tables.Column(linkify=True, verbose_name=_("Number"))
    checked_in_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Checked in"))
    plate = tables.Column(accessor="vehicle__plate", verbose_name=_("Plate"), orderable=False)
    customer = tables.Column(accessor="customer__full_name", verbose_name=_("Customer"), orderable=False)
    advisor = tables.Column(verbose_name=_("Advisor"), orderable=False)
    status = tables.Column(verbose_name=_("Status"))
    promised_at = tables.DateTimeColumn(format="m-d H:i", verbose_name=_("Promised"))
    total = tables.Column(
        empty_values=(), verbose_name=_("Customer pays"), orderable=False, attrs={"td": {"class": "text-end"}}
    )

    class Meta:
        model = RepairOrder
        fields = ["number", "checked_in_at", "plate", "customer", "advisor", "status", "promised_at"]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("No repair orders match these filters.")

    def __init__(self, *args, sees_money: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not sees_money:
            self.columns.hide("total")

    def render_plate(self, value):
        return format_html('<span class="plate">{}</span>', value)

    def render_status(self, value, record):
        return format_html('<span class="badge ro-{}">{}</span>', record.status, value)

    def render_total(self, record):
        labour, parts = list(record.labour_lines.all()), list(record.part_lines.all())
        return f"¥{pricing.totals(record, labour, parts).customer_due}"

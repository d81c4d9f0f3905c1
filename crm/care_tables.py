import django_tables2 as tables
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Campaign, Voucher
from .vouchers import code_display


class VoucherTable(tables.Table):
    code = tables.Column(verbose_name=_("Voucher code"))
    customer = tables.Column(
        accessor="customer__full_name",
        verbose_name=_("Customer"),
        linkify=lambda record: record.customer.get_absolute_url(),
    )
    kind = tables.Column(accessor="voucher_type__kind", verbose_name=_("Kind"), orderable=False)
    voucher_type = tables.Column(accessor="voucher_type__name", verbose_name=_("Voucher"))
    value = tables.Column(verbose_name=_("Value"))
    valid_until = tables.DateColumn(format="Y-m-d", verbose_name=_("Valid until"))
    status = tables.Column(verbose_name=_("Status"))
    redeemed_at = tables.Column(verbose_name=_("Redeemed"), default="")
    campaign = tables.Column(accessor="campaign__name", verbose_name=_("Campaign"), default="—", orderable=False)
    dealership = tables.Column(accessor="dealership__code", verbose_name=_("Dealership"))
    void = tables.Column(empty_values=(), orderable=False, verbose_name="")

    class Meta:
        model = Voucher
        fields = [
            "code",
            "customer",
            "kind",
            "voucher_type",
            "value",
            "valid_until",
            "status",
            "redeemed_at",
            "campaign",
            "dealership",
            "void",
        ]
        attrs = {"class": "table table-sm table-hover align-middle", "id": "vouchers"}
        row_attrs = {"data-voucher": lambda record: record.pk}
        empty_text = _("No vouchers match these filters.")

    def __init__(self, *args, may_void: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.may_void = may_void
        if not may_void:
            self.columns.hide("void")

    def render_void(self, record):
        if record.status != "issued" or not self.may_void:
            return ""
        return format_html(
            '<form method="post" action="{}" class="d-inline"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}"><button class="btn btn-link btn-sm text-danger p-0">{}</button></form>',
            reverse("care:voucher-void", args=[record.pk]),
            get_token(self.request),
            self.request.get_full_path(),
            _("Void"),
        )

    def render_code(self, value):
        return format_html('<span class="vin">{}</span>', code_display(value))

    def render_kind(self, value, record):
        return record.voucher_type.get_kind_display()

    def render_value(self, value):
        return f"¥{value}"

    def render_status(self, value, record):
        style = {"issued": "text-bg-primary", "redeemed": "text-bg-success", "void": "text-bg-secondary"}
        return format_html('<span class="badge {}">{}</span>', style.get(record.status, ""), value)

    def render_redeemed_at(self, value, record):
        text = timezone.localtime(value).strftime("%Y-%m-%d")
        on = getattr(record, "redeemed_on", None)
        if on is not None:
            return format_html('{} · <a href="{}">{}</a> · ¥{}', text, on["url"], on["label"], record.redeemed_amount)
        return format_html("{} · ¥{}", text, record.redeemed_amount)


class CampaignTable(tables.Table):
    name = tables.Column(
        verbose_name=_("Campaign"), linkify=lambda record: reverse("care:campaign-detail", args=[record.pk])
    )
    dealership = tables.Column(accessor="dealership__code", verbose_name=_("Dealership"))
    segment = tables.Column(accessor="segment__name", verbose_name=_("Segment"))
    channel = tables.Column(verbose_name=_("Channel"))
    status = tables.Column(verbose_name=_("Status"))
    starts_on = tables.DateColumn(format="Y-m-d", verbose_name=_("Starts"))
    ends_on = tables.DateColumn(format="Y-m-d", verbose_name=_("Ends"))
    voucher_type = tables.Column(accessor="voucher_type__name", verbose_name=_("Voucher"), default="—")
    contacted_count = tables.Column(verbose_name=_("Contacted"), orderable=False)
    booked_count = tables.Column(verbose_name=_("Booked"), orderable=False)
    redeemed_count = tables.Column(verbose_name=_("Redeemed"), orderable=False)
    revenue = tables.Column(verbose_name=_("Revenue"), orderable=False)

    class Meta:
        model = Campaign
        fields = [
            "name",
            "dealership",
            "segment",
            "channel",
            "status",
            "starts_on",
            "ends_on",
            "voucher_type",
            "contacted_count",
            "booked_count",
            "redeemed_count",
            "revenue",
        ]
        attrs = {"class": "table table-sm table-hover align-middle", "id": "campaigns"}
        row_attrs = {"data-campaign": lambda record: record.pk}
        empty_text = _("No campaigns yet.")

    def render_status(self, value, record):
        style = {"draft": "text-bg-light border", "running": "text-bg-primary", "finished": "text-bg-secondary"}
        return format_html('<span class="badge {}">{}</span>', style.get(record.status, ""), value)

    def render_contacted_count(self, value, record):
        return f"{value} / {record.contact_count}"

    def render_revenue(self, value):
        return f"¥{value}"

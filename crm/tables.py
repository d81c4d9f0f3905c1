import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from .models import Complaint, Customer, Vehicle
from .validators import phone_mask


class PhoneColumn(tables.Column):
    """A phone number in a list: masked for everyone, no digits at all for roles that may not see phones
    (``crm.view_customer_phone``); the customer 360 reveals it on a logged click."""

    def render(self, value, table):
        return phone_mask(value) if table.show_phones else "—"


class CustomerTable(tables.Table):
    full_name = tables.Column(linkify=True, verbose_name=_("Name"))
    mobile = PhoneColumn(verbose_name=_("Mobile"), orderable=False)
    dealership = tables.Column(verbose_name=_("Dealership"), accessor="dealership__code")
    vehicle_count = tables.Column(verbose_name=_("Vehicles"), orderable=True)
    created_at = tables.DateTimeColumn(format="Y-m-d", verbose_name=_("Created"))

    class Meta:
        model = Customer
        fields = ["full_name", "mobile", "dealership", "source", "preferred_channel", "vehicle_count", "created_at"]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("No customers match these filters.")

    def __init__(self, *args, show_phones: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.show_phones = show_phones


class VehicleTable(tables.Table):
    plate = tables.Column(linkify=True, verbose_name=_("Plate"))
    vin = tables.Column(verbose_name=_("VIN"))
    owner = tables.Column(linkify=True, verbose_name=_("Owner"))

    class Meta:
        model = Vehicle
        fields = ["plate", "vin", "make", "model", "year", "owner", "odometer_km"]
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("No vehicles match these filters.")

    def render_plate(self, value, record):
        return format_html('<span class="plate">{}</span>', value)


def complaint_is_overdue(complaint: Complaint, now) -> bool:
    return complaint.is_open and complaint.due_at < now


class ComplaintTable(tables.Table):
    """Open complaints first by due time; an overdue one is red, an escalated one flagged."""

    customer = tables.Column(
        accessor="customer__full_name", verbose_name=_("Customer"), linkify=lambda record: record.get_absolute_url()
    )
    description = tables.Column(verbose_name=_("What the customer said"), orderable=False)
    category = tables.Column(verbose_name=_("Category"))
    severity = tables.Column(verbose_name=_("Severity"))
    status = tables.Column(verbose_name=_("Status"))
    owner = tables.Column(verbose_name=_("Owner"), orderable=False, default="—")
    due_at = tables.Column(verbose_name=_("Due"))
    escalated_at = tables.Column(verbose_name=_("Escalated"), default="")
    dealership = tables.Column(verbose_name=_("Dealership"), accessor="dealership__code")
    created_at = tables.DateTimeColumn(format="Y-m-d", verbose_name=_("Received"))

    class Meta:
        model = Complaint
        fields = [
            "customer",
            "description",
            "category",
            "severity",
            "status",
            "owner",
            "due_at",
            "escalated_at",
            "dealership",
            "created_at",
        ]
        attrs = {"class": "table table-sm table-hover align-middle", "id": "complaints"}
        row_attrs = {
            "class": lambda record, table: "complaint-overdue" if complaint_is_overdue(record, table.now) else "",
            "data-complaint": lambda record: record.pk,
        }
        empty_text = _("No complaints match these filters.")

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()

    def render_description(self, value):
        return Truncator(value).chars(60)

    def render_severity(self, value, record):
        return format_html('<span class="badge severity-{}">{}</span>', record.severity, value)

    def render_status(self, value, record):
        return format_html('<span class="badge complaint-{}">{}</span>', record.status, value)

    def render_due_at(self, value, record):
        text = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        if complaint_is_overdue(record, self.now):
            return format_html('<span class="text-danger fw-semibold overdue">{}</span>', text)
        return text if record.is_open else format_html('<span class="text-muted">{}</span>', text)

    def render_escalated_at(self, value, record):
        return format_html(
            '<span class="badge text-bg-danger escalated" title="{}"><i class="bi bi-flag-fill"></i> {}</span>',
            record.escalated_to or "",
            timezone.localtime(value).strftime("%m-%d %H:%M"),
        )

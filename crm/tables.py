import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Customer, Vehicle
from .validators import phone_display, phone_mask


class PhoneColumn(tables.Column):
    """A phone number, masked for roles that may not see it (``crm.view_customer_phone``)."""

    def render(self, value, table):
        if table.show_phones:
            return phone_display(value)
        return phone_mask(value)


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

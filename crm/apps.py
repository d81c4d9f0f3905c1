from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    """Rooftops, staff, customers and vehicles: the records every other app builds on."""

    name = "crm"
    verbose_name = _("Customers and vehicles")

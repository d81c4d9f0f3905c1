from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    """Appointments, repair orders, workshop jobs, quality checks and invoices."""

    name = "service"
    verbose_name = _("Service")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    """Appointments, repair orders, workshop jobs, quality checks and invoices."""

    name = "service"
    verbose_name = _("Service")

    def ready(self):
        from followup import scans

        from . import hooks

        scans.register_booked_vehicles(hooks.booked_vehicles)
        scans.register_declined_work(hooks.declined_work)
        scans.register_no_show_source(hooks.missed_appointments)

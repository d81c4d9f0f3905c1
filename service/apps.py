from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    """Appointments, repair orders, workshop jobs, quality checks and invoices."""

    name = "service"
    verbose_name = _("Service")

    def ready(self):
        from crm import demo, panels
        from followup import links, scans

        from . import hooks, views

        scans.register_booked_vehicles(hooks.booked_vehicles)
        scans.register_declined_work(hooks.declined_work)
        scans.register_no_show_source(hooks.missed_appointments)
        links.register_booking_link(hooks.booking_link)
        links.register_subject_link(hooks.subject_link)
        from . import demo as service_demo

        demo.register_seeder(service_demo.seed)
        panels.register(
            panels.customer_panels,
            panels.Panel(
                key="service",
                title=_("Service"),
                template="service/partials/customer_panel.html",
                context=views.customer_panel_context,
                order=40,
                permission="service.view_repairorder",
            ),
        )
        panels.register(
            panels.vehicle_panels,
            panels.Panel(
                key="service",
                title=_("Service history"),
                template="service/partials/vehicle_panel.html",
                context=views.vehicle_panel_context,
                order=40,
                permission="service.view_repairorder",
            ),
        )

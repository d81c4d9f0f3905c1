from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    """Leads, showroom visits, test drives, quotes, deals and stock (the sales funnel)."""

    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from crm import panels
        from followup import links

        from . import views

        links.register_subject_link(views.subject_link)

        panels.register(
            panels.customer_panels,
            panels.Panel(
                key="sales",
                title=_("Sales"),
                template="sales/partials/customer_panel.html",
                context=views.customer_panel_context,
                order=30,
                permission="sales.view_lead",
            ),
        )
        from crm.demo import register_seeder
        from sales.demo import seed as seed_sales_demo

        register_seeder(seed_sales_demo)

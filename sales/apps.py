from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    """Leads, showroom visits, test drives, quotes, deals and stock (the sales funnel)."""

    name = "sales"
    verbose_name = _("Sales")

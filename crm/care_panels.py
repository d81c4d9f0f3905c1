"""The customer 360's loyalty and vouchers panel. ``register()`` is called from ``crm.apps.CrmConfig.ready``."""

from django.utils.translation import gettext_lazy as _

from . import panels
from .loyalty import customer_tier, points_balance
from .vouchers import voucher_list

PANEL_VOUCHERS = 10


def customer_care_panel_context(request, customer) -> dict:
    """The points balance and tier, and the latest vouchers (issued first) with how many there are."""
    balance = points_balance(customer)
    rows = voucher_list(user=request.user).filter(customer_id=customer.pk).order_by("-issued_at", "-id")
    vouchers = list(rows[:PANEL_VOUCHERS])
    count = len(vouchers) if len(vouchers) < PANEL_VOUCHERS else rows.count()
    return {
        "points": balance,
        "tier": customer_tier(customer, balance),
        "vouchers": vouchers,
        "voucher_count": count,
    }


def register() -> None:
    panels.register(
        panels.customer_panels,
        panels.Panel(
            key="care",
            title=_("Loyalty and vouchers"),
            template="care/partials/customer_panel.html",
            context=customer_care_panel_context,
            order=70,
            permission="crm.view_voucher",
        ),
    )

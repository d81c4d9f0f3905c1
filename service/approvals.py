"""The link a customer approves additional work from: signed (any change to it is refused) and
expiring (``APPROVAL_LINK_HOURS``), naming the lines it asks about."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from followup import services as followup
from followup.choices import FollowUpKind

from . import pricing
from .choices import LineStatus
from .models import RepairOrder

SALT = "service.approval-link"


class LinkError(Exception):
    """The link is not one we issued (tampered or mistyped)."""


class LinkExpired(LinkError):
    """The link is genuine but older than APPROVAL_LINK_HOURS."""


def pending_keys(repair_order: RepairOrder) -> list[str]:
    return [
        f"labour:{pk}"
        for pk in repair_order.labour_lines.filter(status=LineStatus.PROPOSED).values_list("pk", flat=True)
    ] + [f"part:{pk}" for pk in repair_order.part_lines.filter(status=LineStatus.PROPOSED).values_list("pk", flat=True)]


def make_token(repair_order: RepairOrder, keys: list[str]) -> str:
    return signing.dumps({"ro": repair_order.pk, "lines": keys}, salt=SALT, compress=True)


def read_token(token: str) -> dict:
    try:
        return signing.loads(token, salt=SALT, max_age=settings.APPROVAL_LINK_HOURS * 3600)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkError from None


def send_approval_link(*, repair_order: RepairOrder) -> str:
    """Message the customer a link to the pending lines (in the caller's transaction); returns the URL."""
    keys = pending_keys(repair_order)
    if not keys:
        raise ValidationError(_("Nothing awaits the customer's decision."))
    url = settings.PUBLIC_BASE_URL + reverse("service:approval", args=[make_token(repair_order, keys)])
    totals = pricing.totals(repair_order)
    followup.send_link_now(
        kind=FollowUpKind.APPROVAL_REQUEST,
        subject=repair_order,
        customer=repair_order.customer,
        data={"url": url, "total": f"¥{totals.proposed}", "number": repair_order.number},
    )
    return url

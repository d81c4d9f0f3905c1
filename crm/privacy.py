"""Privacy 保护客户隐私: phones and ID numbers are masked wherever customers are listed and on the customer
360; a role that needs one (``crm.view_customer_phone``) reveals it with a click that is logged, and a role
that does not (technicians) sees no digits at all."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from .choices import RevealedField
from .models import Customer, RevealLog, User
from .validators import phone_mask

PHONE_PERMISSION = "crm.view_customer_phone"


def may_see_phones(user: User) -> bool:
    return user.has_perm(PHONE_PERMISSION)


def id_number_mask(value: str) -> str:
    """The first 3 and last 4 characters of an ID number, as ``phone_mask`` keeps a phone's."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def masked(field: str, value: str) -> str:
    return id_number_mask(value) if field == RevealedField.ID_NUMBER else phone_mask(value)


def list_phone(user: User, value: str) -> str:
    """A phone in a list of customers: masked for the roles that may see phones, nothing for the others."""
    return phone_mask(value) if may_see_phones(user) else ""


def masked_contact(user: User, customer: Customer) -> list[dict]:
    """The customer 360's phones and ID number: masked, with a reveal button for the roles that may see them;
    for the others no digits, only whether there is one."""
    allowed = may_see_phones(user)
    rows = []
    for field in (RevealedField.MOBILE, RevealedField.OTHER_PHONE, RevealedField.ID_NUMBER):
        value = getattr(customer, field.value)
        rows.append(
            {
                "field": field.value,
                "label": field.label,
                "has_value": bool(value),
                "masked": masked(field, value) if allowed else "",
                "may_reveal": allowed and bool(value),
            }
        )
    return rows


@transaction.atomic
def customer_reveal(*, actor: User, customer_id: int, field: str) -> str:
    """The stored phone (E.164) or ID number of a customer of the actor's rooftops, logged (who, whose, which, when).
    A role without ``crm.view_customer_phone`` is refused (PermissionDenied) and another rooftop's customer
    is Customer.DoesNotExist, both with nothing logged; an empty field reveals nothing and logs nothing."""
    if field not in RevealedField.values:
        raise Customer.DoesNotExist
    if not may_see_phones(actor):
        raise PermissionDenied(_("Your role may not see customers' phone or ID numbers."))
    customer = Customer.objects.for_user(actor).only("pk", "dealership_id", field).get(pk=customer_id)
    value = getattr(customer, field)
    if not value:
        return ""
    RevealLog.objects.create(dealership_id=customer.dealership_id, user=actor, customer=customer, field=field)
    return value

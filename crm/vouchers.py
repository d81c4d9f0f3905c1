"""Vouchers 代金券: issued to one customer, single use, redeemed on a repair order or a sales order of the
same rooftop. A redemption is one conditional UPDATE (still issued, valid today): of two front desks typing
the same code at the same moment, exactly one wins and the other is told why."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dms.errors import Conflict

from .choices import VoucherKind, VoucherStatus
from .models import Campaign, Customer, Dealership, User, Voucher, VoucherType
from .querysets import user_dealership_ids, user_may

# Read aloud or typed from a phone screen: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
CODE_ATTEMPTS = 5
CENT = Decimal("0.01")
# What a voucher may be redeemed on, by the API's name: (app label, model).
REDEEMABLE = {"repair_order": ("service", "repairorder"), "sales_order": ("sales", "order")}
REDEEMABLE_CHOICES = [("repair_order", "Repair order"), ("sales_order", "Sales order")]


def voucher_code() -> str:
    """A new random code: 10 characters of an unambiguous alphabet (31^10, about 8·10^14)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_normalize(code: str) -> str:
    """The code as stored, whatever the front desk typed: upper case, no spaces or dashes."""
    return "".join(str(code or "").split()).replace("-", "").upper()


def code_display(code: str) -> str:
    """``ABCDE-FGHJK``: easier to read out on the phone."""
    return f"{code[:5]}-{code[5:]}" if len(code) == CODE_LENGTH else code


def rooftop_today(dealership: Dealership) -> datetime.date:
    return timezone.localdate(timezone.now(), dealership.zone)


def validity(voucher_type: VoucherType, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Valid from ``today`` for ``valid_days`` days, today counted."""
    return today, today + datetime.timedelta(days=voucher_type.valid_days - 1)


def _check_issue(actor: User | None, customer: Customer, voucher_type: VoucherType, campaign: Campaign | None) -> None:
    if actor is not None and (
        not user_may(actor, "add", Voucher) or customer.dealership_id not in user_dealership_ids(actor)
    ):
        raise PermissionDenied(_("You may not issue vouchers at this dealership."))
    errors = {}
    if voucher_type.dealership_id != customer.dealership_id:
        errors["voucher_type"] = _("This voucher type belongs to another dealership.")
    elif not voucher_type.active:
        errors["voucher_type"] = _("This voucher type is no longer in use.")
    if campaign is not None and campaign.dealership_id != customer.dealership_id:
        errors["campaign"] = _("This campaign belongs to another dealership.")
    if errors:
        raise ValidationError(errors)


def vouchers_issue_many(
    *,
    actor: User | None,
    customers: Iterable[Customer],
    voucher_type: VoucherType,
    campaign: Campaign | None = None,
) -> list[Voucher]:
    """One voucher for each customer (all of ``voucher_type``'s rooftop), in one INSERT per batch; returns
    them with their ids, in the customers' order. A code already taken (about never) draws new codes."""
    customers = list(customers)
    if not customers:
        return []
    for customer in customers:
        _check_issue(actor, customer, voucher_type, campaign)
    valid_from, valid_until = validity(voucher_type, rooftop_today(voucher_type.dealership))
    for attempt in range(CODE_ATTEMPTS):
        vouchers = [
            Voucher(
                dealership_id=customer.dealership_id,
                voucher_type=voucher_type,
                customer=customer,
                campaign=campaign,
                code=voucher_code(),
                value=voucher_type.value,
                valid_from=valid_from,
                valid_until=valid_until,
                issued_by=actor,
            )
            for customer in customers
        ]
        try:
            with transaction.atomic():  # a savepoint: a code collision retries without losing the caller's work
                return Voucher.objects.bulk_create(vouchers, batch_size=1_000)
        except IntegrityError:
            if attempt == CODE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def voucher_issue(
    *, actor: User, customer: Customer, voucher_type: VoucherType, campaign: Campaign | None = None
) -> Voucher:
    """Give ``customer`` a voucher of ``voucher_type``: its value, valid from today (the rooftop's date) for
    the type's days, with a new unique code."""
    (voucher,) = vouchers_issue_many(actor=actor, customers=[customer], voucher_type=voucher_type, campaign=campaign)
    return voucher


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"amount": _("Enter the order's amount in yuan.")}) from None
    if amount < 0 or amount >= Decimal("1e10"):
        raise ValidationError({"amount": _("Enter the order's amount in yuan.")})
    return amount


def _refusal(code: str, dealership_id: int, today: datetime.date) -> ValidationError:
    """Why ``code`` cannot be redeemed at the rooftop today (read after the conditional update found nothing)."""
    voucher = Voucher.objects.filter(code=code).first()
    if voucher is None:
        return ValidationError({"code": _("No voucher has the code %(code)s.") % {"code": code_display(code)}})
    if voucher.dealership_id != dealership_id:
        return ValidationError(
            {"code": _("This voucher was issued by another dealership; it cannot be redeemed here.")}
        )
    if voucher.status == VoucherStatus.REDEEMED:
        when = timezone.localtime(voucher.redeemed_at, voucher.dealership.zone)
        return Conflict(
            {"code": _("This voucher was already redeemed on %(when)s.") % {"when": f"{when:%Y-%m-%d %H:%M}"}},
            code="redeemed",
        )
    if voucher.status == VoucherStatus.VOID:
        return Conflict({"code": _("This voucher was voided; it cannot be redeemed.")}, code="void")
    if voucher.valid_until < today:
        return ValidationError(
            {"code": _("This voucher expired on %(date)s.") % {"date": date_format(voucher.valid_until, "Y-m-d")}},
            code="expired",
        )
    return ValidationError(
        {"code": _("This voucher is valid from %(date)s.") % {"date": date_format(voucher.valid_from, "Y-m-d")}},
        code="not_yet_valid",
    )


@transaction.atomic
def voucher_redeem(*, actor: User, code: str, subject: models.Model, amount) -> Voucher:
    """Redeem the voucher ``code`` on ``subject`` (a repair order or sales order of the voucher's rooftop),
    recording ``amount``, the order's revenue. One conditional UPDATE decides: still issued, of the subject's
    rooftop and valid today; otherwise nothing changes and the ValidationError says why."""
    if not user_may(actor, "change", Voucher):
        raise PermissionDenied(_("You may not redeem vouchers."))
    dealership_id = subject.dealership_id
    if dealership_id not in user_dealership_ids(actor):
        raise PermissionDenied(_("You may not redeem vouchers at this dealership."))
    if getattr(subject, "status", "") == "cancelled":
        raise Conflict(_("This order is cancelled; a voucher cannot be redeemed on it."), code="cancelled")
    code = code_normalize(code)
    if not code:
        raise ValidationError({"code": _("Type the voucher's code.")})
    amount = _amount(amount)
    dealership = Dealership.objects.get(pk=dealership_id)
    today = rooftop_today(dealership)
    now = timezone.now()
    redeemed = Voucher.objects.filter(
        code=code,
        dealership_id=dealership_id,
        status=VoucherStatus.ISSUED,
        valid_from__lte=today,
        valid_until__gte=today,
    ).update(
        status=VoucherStatus.REDEEMED,
        redeemed_at=now,
        redeemed_by=actor,
        redeemed_on_type=ContentType.objects.get_for_model(subject),
        redeemed_on_id=subject.pk,
        redeemed_amount=amount,
    )
    if not redeemed:
        raise _refusal(code, dealership_id, today)
    return Voucher.objects.select_related("voucher_type", "customer").get(code=code)


@transaction.atomic
def voucher_void(*, actor: User, voucher_id: int) -> Voucher:
    """Withdraw an issued voucher (given by mistake, or replaced); a redeemed one stays redeemed."""
    voucher = Voucher.objects.for_user(actor, "change").select_for_update(of=("self",)).get(pk=voucher_id)
    if voucher.status != VoucherStatus.ISSUED:
        raise Conflict(
            _("This voucher is %(status)s; only an issued voucher can be voided.")
            % {"status": voucher.get_status_display().lower()},
            code="not_issued",
        )
    voucher.status = VoucherStatus.VOID
    voucher.save(update_fields=["status"])
    return voucher


def redeemable_subject(*, user: User, subject_type: str, subject_id: int) -> models.Model:
    """The repair order or sales order ``user`` may change, by the API's name for its type (crm imports
    neither app: the model comes from the content types). DoesNotExist outside the user's rooftops."""
    if subject_type not in REDEEMABLE:
        raise ValidationError({"subject_type": _("A voucher is redeemed on a repair order or a sales order.")})
    model = ContentType.objects.get_by_natural_key(*REDEEMABLE[subject_type]).model_class()
    return model.objects.for_user(user, "change").get(pk=subject_id)


# --- voucher types (managers) ------------------------------------------------------------------

VOUCHER_TYPE_FIELDS = ("kind", "name", "value", "valid_days", "active")


def _voucher_type_check(data: dict) -> None:
    errors = {}
    if "kind" in data and data["kind"] not in VoucherKind.values:
        errors["kind"] = _("Choose a kind of voucher.")
    if "value" in data and (data["value"] is None or Decimal(data["value"]) < CENT):
        errors["value"] = _("A voucher is worth at least ¥0.01.")
    if "valid_days" in data and (data["valid_days"] is None or int(data["valid_days"]) < 1):
        errors["valid_days"] = _("A voucher is valid for at least one day.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def voucher_type_create(*, actor: User, dealership: Dealership | int, data: dict) -> VoucherType:
    """A new kind of voucher at a rooftop the actor manages; the name is unique within the rooftop."""
    from .services import dealership_for_write

    dealership = dealership_for_write(actor=actor, dealership=dealership, model=VoucherType)
    data = {name: data[name] for name in VOUCHER_TYPE_FIELDS if name in data}
    _voucher_type_check(data)
    if VoucherType.objects.filter(dealership=dealership, name=data.get("name", "")).exists():
        raise ValidationError({"name": _("This dealership already has a voucher type of this name.")})
    return VoucherType.objects.create(dealership=dealership, **data)


@transaction.atomic
def voucher_type_update(*, actor: User, voucher_type_id: int, data: dict) -> VoucherType:
    """Change a voucher type's value, validity or name, or retire it (``active``); vouchers already issued
    keep the value and dates they were issued with."""
    voucher_type = VoucherType.objects.for_user(actor, "change").select_for_update().get(pk=voucher_type_id)
    data = {name: data[name] for name in VOUCHER_TYPE_FIELDS if name in data}
    _voucher_type_check(data)
    if (
        "name" in data
        and VoucherType.objects.filter(dealership_id=voucher_type.dealership_id, name=data["name"])
        .exclude(pk=voucher_type.pk)
        .exists()
    ):
        raise ValidationError({"name": _("This dealership already has a voucher type of this name.")})
    for name, value in data.items():
        setattr(voucher_type, name, value)
    voucher_type.save(update_fields=list(data))
    return voucher_type


# --- reads ---------------------------------------------------------------------------------------


def voucher_list(*, user: User, action: str = "view") -> models.QuerySet[Voucher]:
    """The user's rooftops' vouchers, newest first, with their type, customer, campaign and rooftop joined."""
    return Voucher.objects.for_user(user, action).select_related(
        "voucher_type", "customer", "campaign", "dealership", "redeemed_on_type"
    )


def attach_redeemed_on(vouchers: list[Voucher], *, user: User) -> list[Voucher]:
    """Give each redeemed voucher ``redeemed_on`` = {label, url} of its order: one query per kind of order
    on the page (crm imports neither app), not one per voucher. An order the user may not see has no link."""
    wanted: dict[int, set[int]] = {}
    for voucher in vouchers:
        if voucher.redeemed_on_type_id:
            wanted.setdefault(voucher.redeemed_on_type_id, set()).add(voucher.redeemed_on_id)
    found = {}
    for type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        rows = model.objects.for_user(user) if hasattr(model.objects, "for_user") else model.objects.all()
        for subject in rows.filter(pk__in=ids):
            found[(type_id, subject.pk)] = {"label": str(subject), "url": subject.get_absolute_url()}
    for voucher in vouchers:
        voucher.redeemed_on = found.get((voucher.redeemed_on_type_id, voucher.redeemed_on_id))
    return vouchers


def vouchers_redeemed_on(subject: models.Model) -> models.QuerySet[Voucher]:
    """The vouchers redeemed on one repair order or sales order (its page lists them)."""
    return Voucher.objects.filter(
        redeemed_on_type=ContentType.objects.get_for_model(subject), redeemed_on_id=subject.pk
    ).select_related("voucher_type")

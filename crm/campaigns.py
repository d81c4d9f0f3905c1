"""Campaigns 营销活动: a saved segment, an offer (and a voucher type), a channel and dates; draft → running →
finished. Launching turns the segment into calls or messages, so it lives in the follow-up engine
(``followup.services.campaign_launch``), which registers itself here from its ``AppConfig.ready``: crm
never imports followup. The results (contacted, booked, redeemed, revenue) are read from the engine's rows
through the relation it declares on Customer, as ``crm.segments`` reads repair orders."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import BigIntegerField, Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _

from dms.errors import Conflict

from .choices import CampaignChannel, CampaignStatus, Channel, VoucherStatus
from .models import Campaign, Customer, Segment, User, Voucher, VoucherType
from .querysets import user_dealership_ids, user_may
from .segments import saved_segment_customers
from .vouchers import rooftop_today

CAMPAIGN_NEXT = {CampaignStatus.DRAFT: (CampaignStatus.RUNNING,), CampaignStatus.RUNNING: (CampaignStatus.FINISHED,)}
# The follow-up engine's vocabulary (followup.choices), spelt out: crm does not import followup.
CONTACT_KINDS = ["campaign_call", "campaign_message"]
DONE = "done"
CONTACTED_OUTCOMES = ["reached", "booked", "refused", "sent"]  # the customer heard the offer
BOOKED = "booked"
CAMPAIGN_FIELDS = ("name", "segment", "offer", "voucher_type", "channel", "starts_on", "ends_on")
MONEY = DecimalField(max_digits=14, decimal_places=2)


# --- the follow-up engine plugs in here ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ContactEngine:
    launch: Callable  # (actor=…, campaign_id=…) -> Campaign: schedules the calls or messages, marks it running
    cancel: Callable  # (campaign=…) -> int: cancels the contacts not made yet


contact_engines: list[ContactEngine] = []


def register_contact_engine(*, launch: Callable, cancel: Callable) -> None:
    engine = ContactEngine(launch=launch, cancel=cancel)
    if engine not in contact_engines:
        contact_engines.append(engine)


def _engine() -> ContactEngine:
    if not contact_engines:
        raise ImproperlyConfigured("No follow-up engine registered for campaigns (followup's AppConfig.ready).")
    return contact_engines[0]


def campaign_launch(*, actor: User, campaign_id: int) -> Campaign:
    """Launch a draft campaign through the follow-up engine (see ``followup.services.campaign_launch``)."""
    return _engine().launch(actor=actor, campaign_id=campaign_id)


# --- writes -----------------------------------------------------------------------------------


def _check_fields(data: dict, today: datetime.date) -> dict:
    errors = {}
    segment: Segment | None = data.get("segment")
    if segment is None:
        errors["segment"] = _("Choose the segment the campaign is for.")
    voucher_type: VoucherType | None = data.get("voucher_type")
    if voucher_type is not None and segment is not None:
        if voucher_type.dealership_id != segment.dealership_id:
            errors["voucher_type"] = _("The voucher type must be of the segment's dealership.")
        elif not voucher_type.active:
            errors["voucher_type"] = _("This voucher type is no longer in use.")
    if not (data.get("name") or "").strip():
        errors["name"] = _("Give the campaign a name.")
    if data.get("channel") not in CampaignChannel.values:
        errors["channel"] = _("Choose how customers are contacted.")
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    if starts_on is None:
        errors["starts_on"] = _("Say when the campaign starts.")
    if ends_on is None:
        errors["ends_on"] = _("Say when the campaign ends.")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("The campaign cannot end before it starts.")
    elif ends_on < today:
        errors["ends_on"] = _("This date has passed.")
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def campaign_create(*, actor: User, data: dict) -> Campaign:
    """A draft campaign on one of the actor's rooftops' saved segments; nothing is contacted until launch."""
    segment = data.get("segment")
    if not user_may(actor, "add", Campaign) or (
        segment is not None and segment.dealership_id not in user_dealership_ids(actor)
    ):
        raise PermissionDenied(_("You may not run campaigns at this dealership."))
    data = {name: data.get(name) for name in CAMPAIGN_FIELDS}
    today = rooftop_today(segment.dealership) if segment is not None else datetime.date.today()
    _check_fields(data, today)
    data["offer"] = (data["offer"] or "").strip()
    return Campaign.objects.create(dealership_id=segment.dealership_id, created_by=actor, **data)


def campaign_for_change(*, actor: User, campaign_id: int) -> Campaign:
    """The campaign, locked, if the actor may change it; DoesNotExist (a 404) outside their rooftops."""
    return (
        Campaign.objects.for_user(actor, "change")
        .select_for_update(of=("self",))
        .select_related("dealership", "segment__dealership", "voucher_type")
        .get(pk=campaign_id)
    )


def campaign_check_transition(campaign: Campaign, *, to: str) -> None:
    if to not in CAMPAIGN_NEXT.get(campaign.status, ()):
        raise Conflict(
            _("This campaign is %(status)s; it cannot be %(action)s.")
            % {
                "status": campaign.get_status_display().lower(),
                "action": _("launched") if to == CampaignStatus.RUNNING else _("finished"),
            },
            code="illegal_transition",
        )


def campaign_check_launch(campaign: Campaign) -> None:
    """A draft whose end date has not passed, on a segment and voucher type of its own rooftop."""
    campaign_check_transition(campaign, to=CampaignStatus.RUNNING)
    today = rooftop_today(campaign.dealership)
    if campaign.ends_on < today:
        raise ValidationError({"ends_on": _("This campaign ended on %(date)s.") % {"date": campaign.ends_on}})
    if campaign.segment.dealership_id != campaign.dealership_id:
        raise ValidationError({"segment": _("The segment belongs to another dealership.")})
    if campaign.voucher_type is not None and not campaign.voucher_type.active:
        raise ValidationError({"voucher_type": _("This voucher type is no longer in use.")})


def campaign_mark_running(campaign: Campaign) -> None:
    campaign.status = CampaignStatus.RUNNING
    campaign.save(update_fields=["status"])


@transaction.atomic
def campaign_finish(*, actor: User, campaign_id: int) -> Campaign:
    """Close a running campaign: the calls and messages not made yet are cancelled; vouchers already issued
    stay valid until their own end date."""
    campaign = campaign_for_change(actor=actor, campaign_id=campaign_id)
    campaign_check_transition(campaign, to=CampaignStatus.FINISHED)
    campaign.status = CampaignStatus.FINISHED
    campaign.save(update_fields=["status"])
    for engine in contact_engines:
        engine.cancel(campaign=campaign)
    return campaign


# --- who is contacted ------------------------------------------------------------------------


def campaign_audience(campaign: Campaign) -> QuerySet[Customer]:
    """The segment's customers the campaign may contact now: a call needs a phone number; a marketing
    message needs the customer's consent and an address on their channel."""
    customers = saved_segment_customers(campaign.segment)
    if campaign.channel == CampaignChannel.CALL:
        return customers.exclude(mobile="", other_phone="")
    reachable = ~Q(mobile="") | Q(preferred_channel=Channel.EMAIL, email__gt="")
    return customers.filter(reachable, marketing_consent=True)


# --- results ---------------------------------------------------------------------------------


def _contact_model() -> type[models.Model]:
    """The follow-up engine's row (``FollowUp``), through the relation it declares on Customer."""
    return Customer._meta.get_field("followups").related_model


def campaign_key():
    """The campaign a follow-up row belongs to, as stored in its data (indexed: followup_campaign)."""
    return Cast(KeyTextTransform("campaign_id", "data"), BigIntegerField())


def campaign_contacts(campaign_id) -> QuerySet:
    """The follow-up rows a campaign made (``campaign_id`` may be an ``OuterRef``)."""
    return (
        _contact_model()
        .objects.alias(campaign_key=campaign_key())
        .filter(kind__in=CONTACT_KINDS, campaign_key=campaign_id)
    )


@dataclasses.dataclass(frozen=True)
class CampaignResults:
    contacts: int  # calls and messages the launch promised
    contacted: int  # … done, and the customer heard the offer
    booked: int
    vouchers_issued: int
    vouchers_redeemed: int
    revenue: Decimal  # the revenue of the orders the vouchers were redeemed on

    def bars(self) -> list[dict]:
        """Contacted, booked and redeemed as shares of the contacts (the detail page's chart)."""
        base = max(self.contacts, 1)
        return [
            {"key": key, "count": count, "share": round(100 * count / base)}
            for key, count in (
                ("contacted", self.contacted),
                ("booked", self.booked),
                ("redeemed", self.vouchers_redeemed),
            )
        ]


_CONTACTED = Q(status=DONE, outcome__in=CONTACTED_OUTCOMES)
_REDEEMED = Q(status=VoucherStatus.REDEEMED)


def campaign_results(*, campaign: Campaign) -> CampaignResults:
    """Two aggregate queries: the campaign's follow-up rows, and its vouchers."""
    contacts = campaign_contacts(campaign.pk).aggregate(
        contacts=Count("pk"),
        contacted=Count("pk", filter=_CONTACTED),
        booked=Count("pk", filter=Q(outcome=BOOKED)),
    )
    vouchers = Voucher.objects.filter(campaign=campaign).aggregate(
        issued=Count("pk"),
        redeemed=Count("pk", filter=_REDEEMED),
        revenue=Sum("redeemed_amount", filter=_REDEEMED),
    )
    return CampaignResults(
        contacts=contacts["contacts"],
        contacted=contacts["contacted"],
        booked=contacts["booked"],
        vouchers_issued=vouchers["issued"],
        vouchers_redeemed=vouchers["redeemed"],
        revenue=vouchers["revenue"] or Decimal("0.00"),
    )


def _count(rows: QuerySet, condition: Q | None = None) -> Coalesce:
    rows = rows.filter(condition) if condition is not None else rows
    return Coalesce(
        Subquery(rows.order_by().annotate(n=models.Func("pk", function="COUNT")).values("n")[:1]),
        0,
        output_field=models.IntegerField(),
    )


def with_results(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Each campaign's results as correlated counts (a list page's one statement): ``contact_count``,
    ``contacted_count``, ``booked_count``, ``issued_count``, ``redeemed_count``, ``revenue``."""
    contacts = campaign_contacts(OuterRef("pk"))
    vouchers = Voucher.objects.filter(campaign=OuterRef("pk"))
    redeemed = vouchers.filter(_REDEEMED)
    revenue = redeemed.order_by().values("campaign").annotate(total=Sum("redeemed_amount")).values("total")
    return campaigns.annotate(
        contact_count=_count(contacts),
        contacted_count=_count(contacts, _CONTACTED),
        booked_count=_count(contacts, Q(outcome=BOOKED)),
        issued_count=_count(vouchers),
        redeemed_count=_count(redeemed),
        revenue=Coalesce(Subquery(revenue, output_field=MONEY), Decimal("0.00"), output_field=MONEY),
    )


def campaign_list(*, user: User, action: str = "view") -> QuerySet[Campaign]:
    """The user's rooftops' campaigns, newest first, with their segment, voucher type and results."""
    return with_results(
        Campaign.objects.for_user(user, action).select_related("dealership", "segment", "voucher_type", "created_by")
    )

"""The sales funnel as functions: leads and their stage and grade, contacts, lost-lead review, test
drives, quotes with their finance maths, orders reserving one car, delivery. Each runs in one
transaction, checks role and rooftop, and raises ``ValidationError`` (400) for bad data or
``dms.errors.Conflict`` (409) when the lead's or order's state forbids the step. The follow-up calls
live in the follow-up engine: one schedule for the whole dealership."""

from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CustomerSource, Role, SalesChannel, SurveyKind
from crm.loyalty import points_award
from crm.models import Customer, Dealership, User, Vehicle
from crm.querysets import user_dealership_ids
from crm.services import customer_create, customer_normalize, vehicle_change_owner, vehicle_create
from dms.errors import Conflict
from followup import services as followup
from followup.choices import FollowUpKind

from .choices import (
    FUNNEL,
    OPEN_STAGES,
    ActivityKind,
    Grade,
    LeadSource,
    LostReview,
    OrderStatus,
    Stage,
    StockStatus,
    TestDriveStatus,
)
from .models import (
    Activity,
    DemoVehicle,
    Lead,
    LeadEvent,
    LostReason,
    Order,
    Quote,
    SalesSettings,
    StockVehicle,
    TestDrive,
)

CENT = Decimal("0.01")
MAX_TERM_MONTHS = 96
MAX_ANNUAL_RATE = Decimal("0.36")
WARRANTY_YEARS = 3
FIRST_SERVICE = (datetime.timedelta(days=182), 5_000)  # first maintenance: six months or 5,000 km
# A mainland driving licence number is the holder's 18-character ID number; other regions differ.
LICENCE = re.compile(r"^[0-9A-Z]{8,20}$")
SELLERS = (Role.SALES_CONSULTANT, Role.MANAGER, Role.ADMINISTRATOR)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _is_manager(user: User) -> bool:
    return user.has_role(Role.MANAGER, Role.ADMINISTRATOR)


def _require_seller(actor: User) -> None:
    if not actor.has_role(*SELLERS):
        raise PermissionDenied(_("Only sales staff work leads."))


def sees_own_leads_only(user: User) -> bool:
    return user.has_role(Role.SALES_CONSULTANT) and not _is_manager(user)


def leads_for(user: User, action: str = "view"):
    """The leads ``user`` may see: a consultant their own; a manager (and, read-only, a customer
    specialist) all of their rooftops'."""
    rows = Lead.objects.for_user(user, action)
    return rows.filter(owner=user) if sees_own_leads_only(user) else rows


def _lead_for_change(actor: User, lead_id: int, version: int | None = None) -> Lead:
    lead = (
        leads_for(actor, "change")
        .select_for_update(of=("self",))
        .select_related("dealership", "customer")
        .get(pk=lead_id)
    )
    if version is not None and version != lead.version:
        raise Conflict(
            _("%(user)s changed this lead at %(time)s; reload to see their change.")
            % {
                "user": lead.updated_by or _("someone"),
                "time": timezone.localtime(lead.updated_at, lead.dealership.zone).strftime("%H:%M:%S"),
            },
            code="stale",
        )
    return lead


def _save(lead: Lead, actor: User, *fields: str) -> None:
    lead.version += 1
    lead.updated_by = actor
    lead.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def _event(lead: Lead, actor: User, field: str, before: str, after: str, note: str = "") -> None:
    LeadEvent.objects.create(lead=lead, actor=actor, field=field, from_value=before or "", to_value=after, note=note)


# --- the follow-up cadence ------------------------------------------------------------------------


def next_followup_date(lead: Lead, *, now: datetime.datetime | None = None) -> datetime.date:
    """The grade's cadence counted from the last contact, in calendar days of the rooftop's own time
    zone (a contact at 23:30 in Shanghai is that day there, whatever the server's clock says)."""
    settings = SalesSettings.of(lead.dealership)
    zone = lead.dealership.zone
    since = lead.last_contact_at or lead.created_at or now or timezone.now()
    days = settings.cadence_days(lead.grade) if lead.grade else 1
    return timezone.localtime(since, zone).date() + datetime.timedelta(days=days)


def _schedule_next(lead: Lead, actor: User) -> None:
    if lead.stage not in OPEN_STAGES or lead.lost_review == LostReview.APPLIED:
        return
    lead.next_followup_on = next_followup_date(lead)
    lead.save(update_fields=["next_followup_on"])
    followup.schedule_lead_followup(lead=lead, customer=lead.customer, on=lead.next_followup_on, consultant=lead.owner)


def _stop_following(lead: Lead) -> None:
    """No more follow-up calls: the lead is ordered, dormant or waiting for the lost review."""
    followup.followup_cancel_pending(subject=lead, kinds=[FollowUpKind.LEAD_FOLLOWUP])
    lead.next_followup_on = None
    lead.save(update_fields=["next_followup_on"])


# --- leads ------------------------------------------------------------------------------------


@transaction.atomic
def lead_create(
    *,
    actor: User,
    customer: Customer,
    source: str,
    owner: User | None = None,
    referrer: Customer | None = None,
    grade: str = "",
    at_reception: bool = False,
    **needs,
) -> Lead:
    """A new lead for an existing customer (the customer form's duplicate check runs before this). Only a
    manager gives a lead to someone else, or the reception desk handing a walk-in to the consultant on duty."""
    _require_seller(actor)
    dealership = customer.dealership
    if dealership.pk not in user_dealership_ids(actor):
        raise PermissionDenied(_("You do not work at this dealership."))
    owner = owner or actor
    errors = {}
    if source not in LeadSource.values:
        errors["source"] = _("Where did the lead come from?")
    if source == LeadSource.REFERRAL and referrer is None:
        errors["referrer"] = _("Who referred them?")
    if referrer is not None and referrer.dealership_id != dealership.pk:
        errors["referrer"] = _("Choose a customer of this dealership.")
    if grade and grade not in Grade.values:
        errors["grade"] = _("Grade H, A, B or C.")
    if (
        not owner.has_role(Role.SALES_CONSULTANT, Role.MANAGER)
        or not owner.dealerships.filter(pk=dealership.pk).exists()
    ):
        errors["owner"] = _("Choose a sales consultant of this dealership.")
    if owner != actor and not (_is_manager(actor) or at_reception):
        errors["owner"] = _("Only a manager gives leads to other consultants.")
    if errors:
        raise ValidationError(errors)
    lead = Lead(
        dealership=dealership,
        customer=customer,
        owner=owner,
        source=source,
        referrer=referrer,
        grade=grade,
        updated_by=actor,
        **needs,
    )
    try:
        lead.full_clean(exclude=["dealership", "customer", "owner", "referrer", "lost_reason", "updated_by"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    lead.save()
    _event(lead, actor, "stage", "", Stage.NEW)
    _schedule_next(lead, actor)
    return lead


FORWARD_BY_HAND = set(FUNNEL[:6])  # ordered and delivered come from the order and the delivery


@transaction.atomic
def lead_set_stage(*, actor: User, lead_id: int, stage: str, version: int | None = None, note: str = "") -> Lead:
    """Move a lead along the funnel (or to dormant); lost goes through the review, ordered and delivered
    through the order."""
    lead = _lead_for_change(actor, lead_id, version)
    if stage not in FORWARD_BY_HAND and stage != Stage.DORMANT:
        raise ValidationError(
            {"stage": _("Lost needs a reason and a manager's review; ordered and delivered come from the order.")}
        )
    if lead.stage not in OPEN_STAGES and lead.stage != Stage.DORMANT:
        raise Conflict(_("This lead is %(stage)s.") % {"stage": lead.get_stage_display()})
    if lead.lost_review == LostReview.APPLIED:
        raise Conflict(_("This lead is waiting for the manager's lost review."))
    before = lead.stage
    lead.stage = stage
    _save(lead, actor, "stage")
    _event(lead, actor, "stage", before, stage, note)
    if stage == Stage.DORMANT:
        _stop_following(lead)
    else:
        _schedule_next(lead, actor)
    return lead


@transaction.atomic
def lead_set_grade(*, actor: User, lead_id: int, grade: str, version: int | None = None) -> Lead:
    """Grade the lead 意向级别; the next follow-up date follows the grade's cadence from the last contact."""
    lead = _lead_for_change(actor, lead_id, version)
    if grade not in Grade.values:
        raise ValidationError({"grade": _("Grade H, A, B or C.")})
    before = lead.grade
    lead.grade = grade
    _save(lead, actor, "grade")
    _event(lead, actor, "grade", before, grade)
    _schedule_next(lead, actor)
    return lead


@transaction.atomic
def lead_reassign(*, actor: User, lead_id: int, owner: User) -> Lead:
    if not _is_manager(actor):
        raise PermissionDenied(_("Only a manager reassigns leads."))
    lead = _lead_for_change(actor, lead_id)
    if (
        not owner.has_role(Role.SALES_CONSULTANT, Role.MANAGER)
        or not owner.dealerships.filter(pk=lead.dealership_id).exists()
    ):
        raise ValidationError({"owner": _("Choose a sales consultant of this dealership.")})
    before = lead.owner.username
    lead.owner = owner
    _save(lead, actor, "owner")
    _event(lead, actor, "owner", before, owner.username)
    followup.followup_cancel_pending(subject=lead, kinds=[FollowUpKind.LEAD_FOLLOWUP])
    _schedule_next(lead, actor)
    return lead


@transaction.atomic
def activity_log(
    *,
    actor: User,
    lead_id: int,
    kind: str,
    occurred_at: datetime.datetime | None = None,
    ended_at: datetime.datetime | None = None,
    outcome: str = "",
    next_step: str = "",
    party_size: int | None = None,
) -> Activity:
    """A contact with the lead: it keeps today's follow-up promise and sets the next one by the grade."""
    lead = _lead_for_change(actor, lead_id)
    return _activity_record(
        lead,
        actor,
        kind=kind,
        occurred_at=occurred_at,
        ended_at=ended_at,
        outcome=outcome,
        next_step=next_step,
        party_size=party_size,
    )


def _activity_record(lead: Lead, actor: User, *, kind: str, occurred_at=None, **fields) -> Activity:
    activity = Activity(
        dealership=lead.dealership,
        lead=lead,
        kind=kind,
        actor=actor,
        occurred_at=occurred_at or timezone.now(),
        ended_at=fields.get("ended_at"),
        outcome=(fields.get("outcome") or "").strip(),
        next_step=(fields.get("next_step") or "").strip(),
        party_size=fields.get("party_size"),
    )
    try:
        activity.full_clean(exclude=["dealership", "lead", "actor"])
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    if activity.ended_at is not None and activity.ended_at < activity.occurred_at:
        raise ValidationError({"ended_at": _("The visit cannot end before it starts.")})
    activity.save()
    if lead.last_contact_at is None or activity.occurred_at > lead.last_contact_at:
        lead.last_contact_at = activity.occurred_at
        changed = ["last_contact_at"]
        if lead.stage == Stage.NEW:
            _event(lead, actor, "stage", lead.stage, Stage.CONTACTED)
            lead.stage = Stage.CONTACTED
            changed.append("stage")
        _save(lead, actor, *changed)
    followup.followup_mark_done(subject=lead, kind=FollowUpKind.LEAD_FOLLOWUP, actor=actor, notes=activity.outcome)
    _schedule_next(lead, actor)
    return activity


# --- the showroom visit log (展厅来店登记) -------------------------------------------------------------


@transaction.atomic
def showroom_visit_log(
    *,
    actor: User,
    dealership: Dealership,
    mobile: str,
    full_name: str = "",
    party_size: int = 1,
    arrived_at: datetime.datetime | None = None,
    consultant: User | None = None,
    model_of_interest: str = "",
    note: str = "",
) -> Activity:
    """Reception logs a walk-in by mobile number: a known customer's open lead gets the visit (whoever
    owns it), anyone else becomes a customer with a new walk-in lead for ``consultant``."""
    _require_seller(actor)
    if dealership.pk not in user_dealership_ids(actor):
        raise PermissionDenied(_("You do not work at this dealership."))
    if party_size is None or not 1 <= party_size <= 20:
        raise ValidationError({"party_size": _("Between 1 and 20 people.")})
    normalised = customer_normalize(dealership=dealership, data={"mobile": mobile})["mobile"]
    if not normalised:
        raise ValidationError({"mobile": _("Enter the visitor's mobile number: it finds them next time.")})
    customer = Customer.objects.filter(dealership=dealership, mobile=normalised).first()
    lead = None
    if customer is not None:
        lead = (
            Lead.objects.for_user(actor, "change")
            .filter(customer=customer, stage__in=OPEN_STAGES)
            .select_for_update(of=("self",))
            .select_related("dealership", "customer")
            .order_by("-updated_at")
            .first()
        )
    else:
        if not full_name.strip():
            raise ValidationError({"full_name": _("A new visitor needs a name.")})
        customer = customer_create(
            actor=actor,
            dealership=dealership,
            data={"full_name": full_name.strip(), "mobile": normalised, "source": CustomerSource.WALK_IN},
        )
    if lead is None:
        lead = lead_create(
            actor=actor,
            customer=customer,
            source=LeadSource.WALK_IN,
            owner=consultant or actor,
            at_reception=True,
            model_of_interest=model_of_interest.strip(),
        )
        lead = Lead.objects.select_related("dealership", "customer").get(pk=lead.pk)
    return _activity_record(
        lead, actor, kind=ActivityKind.VISIT, occurred_at=arrived_at, party_size=party_size, outcome=note
    )


@transaction.atomic
def showroom_visit_end(*, actor: User, activity_id: int, ended_at: datetime.datetime | None = None) -> Activity:
    """The visitor left: the departure time closes the visit."""
    _require_seller(actor)
    visit = Activity.objects.for_user(actor, "change").select_for_update().get(pk=activity_id, kind=ActivityKind.VISIT)
    if visit.ended_at is not None:
        raise Conflict(_("This visit already ended."))
    ended_at = ended_at or timezone.now()
    if ended_at < visit.occurred_at:
        raise ValidationError({"ended_at": _("The visit cannot end before it starts.")})
    visit.ended_at = ended_at
    visit.save(update_fields=["ended_at"])
    return visit


# --- lost leads -----------------------------------------------------------------------------------


@transaction.atomic
def lead_apply_lost(*, actor: User, lead_id: int, reason_id: int | None, note: str = "") -> Lead:
    """战败申请: the consultant asks to close the lead as lost, with a reason; a manager decides."""
    lead = _lead_for_change(actor, lead_id)
    if lead.stage not in OPEN_STAGES:
        raise Conflict(_("This lead is %(stage)s.") % {"stage": lead.get_stage_display()})
    reason = (
        LostReason.objects.filter(pk=reason_id, dealership=lead.dealership, active=True).first() if reason_id else None
    )
    if reason is None:
        raise ValidationError({"reason": _("Choose why the lead was lost.")})
    lead.lost_review, lead.lost_reason, lead.lost_note = LostReview.APPLIED, reason, note.strip()
    _save(lead, actor, "lost_review", "lost_reason", "lost_note")
    _event(lead, actor, "lost_review", "", LostReview.APPLIED, f"{reason.name}: {note.strip()}".strip(": "))
    _stop_following(lead)
    return lead


@transaction.atomic
def lead_review_lost(*, actor: User, lead_id: int, approve: bool, note: str = "") -> Lead:
    """战败审核: the manager closes the lead as lost, or sends it back to the consultant with a note."""
    if not _is_manager(actor):
        raise PermissionDenied(_("Only a manager reviews lost leads."))
    lead = _lead_for_change(actor, lead_id)
    if lead.lost_review != LostReview.APPLIED:
        raise Conflict(_("No lost application is waiting on this lead."))
    if not approve and not note.strip():
        raise ValidationError({"note": _("Tell the consultant what to try next.")})
    if approve:
        lead.stage_before_lost, lead.stage, lead.lost_review = lead.stage, Stage.LOST, LostReview.APPROVED
        _save(lead, actor, "stage_before_lost", "stage", "lost_review")
        _event(lead, actor, "stage", lead.stage_before_lost, Stage.LOST, note)
    else:
        lead.lost_review = LostReview.REJECTED
        _save(lead, actor, "lost_review")
        _event(lead, actor, "lost_review", LostReview.APPLIED, LostReview.REJECTED, note)
        _schedule_next(lead, actor)
    return lead


@transaction.atomic
def lead_reactivate(*, actor: User, lead_id: int, note: str = "") -> Lead:
    """A manager brings a lost or dormant lead back to where it was."""
    if not _is_manager(actor):
        raise PermissionDenied(_("Only a manager reactivates leads."))
    lead = _lead_for_change(actor, lead_id)
    if lead.stage not in (Stage.LOST, Stage.DORMANT):
        raise Conflict(_("Only lost or dormant leads are reactivated."))
    before = lead.stage
    lead.stage = lead.stage_before_lost or Stage.CONTACTED
    lead.lost_review, lead.lost_reason = "", None
    _save(lead, actor, "stage", "lost_review", "lost_reason")
    _event(lead, actor, "stage", before, lead.stage, note)
    _schedule_next(lead, actor)
    return lead


# --- test drives ----------------------------------------------------------------------------------


@transaction.atomic
def test_drive_book(
    *,
    actor: User,
    lead_id: int,
    demo_vehicle_id: int,
    starts_at: datetime.datetime,
    licence_number: str,
    licence_expires_on: datetime.date,
) -> TestDrive:
    """Book a demo car for a slot; the licence must be valid on the day; a taken slot is refused."""
    lead = _lead_for_change(actor, lead_id)
    errors = {}
    demo = DemoVehicle.objects.filter(pk=demo_vehicle_id, dealership=lead.dealership, active=True).first()
    if demo is None:
        errors["demo_vehicle"] = _("Choose a demo car of this dealership.")
    licence = re.sub(r"\s", "", licence_number or "").upper()
    if not LICENCE.match(licence):
        errors["licence_number"] = _("Enter the driving licence number (8–20 letters and digits).")
    if licence_expires_on is None or licence_expires_on < timezone.localtime(starts_at, lead.dealership.zone).date():
        errors["licence_expires_on"] = _("The driving licence must be valid on the day of the test drive.")
    if starts_at <= timezone.now():
        errors["starts_at"] = _("Choose a time in the future.")
    if errors:
        raise ValidationError(errors)
    settings = SalesSettings.of(lead.dealership)
    drive = TestDrive(
        dealership=lead.dealership,
        lead=lead,
        demo_vehicle=demo,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=settings.test_drive_minutes),
        licence_number=licence,
        licence_expires_on=licence_expires_on,
        booked_by=actor,
    )
    try:
        with transaction.atomic():
            drive.save()
    except IntegrityError:
        raise ValidationError(
            {"starts_at": _("%(car)s is already booked then; choose another time or car.") % {"car": demo}}
        ) from None
    return drive


@transaction.atomic
def test_drive_complete(*, actor: User, test_drive_id: int, feedback: str) -> TestDrive:
    drive = TestDrive.objects.select_for_update().get(pk=test_drive_id, lead__in=leads_for(actor, "change"))
    if drive.status != TestDriveStatus.BOOKED:
        raise Conflict(_("This test drive is %(status)s.") % {"status": drive.get_status_display()})
    if not feedback.strip():
        raise ValidationError({"feedback": _("Write down what the customer said about the drive.")})
    drive.status, drive.feedback = TestDriveStatus.DONE, feedback.strip()
    drive.save(update_fields=["status", "feedback"])
    lead = _lead_for_change(actor, drive.lead_id)
    if lead.stage in FUNNEL and FUNNEL.index(lead.stage) < FUNNEL.index(Stage.TEST_DRIVEN):
        _event(lead, actor, "stage", lead.stage, Stage.TEST_DRIVEN)
        lead.stage = Stage.TEST_DRIVEN
        _save(lead, actor, "stage")
    activity_log(
        actor=actor,
        lead_id=lead.pk,
        kind="test_drive",
        occurred_at=drive.starts_at,
        ended_at=drive.ends_at,
        outcome=drive.feedback,
    )
    return drive


# --- quotes ---------------------------------------------------------------------------------------


def monthly_payment(principal: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    """The standard annuity: P·r / (1 − (1 + r)^−n) with r the monthly rate; P / n at 0%. To the cent."""
    if principal <= 0:
        return Decimal("0.00")
    if annual_rate == 0:
        return _cents(principal / months)
    with localcontext() as context:
        context.prec = 34
        rate = annual_rate / 12
        return _cents(principal * rate / (1 - (1 + rate) ** -months))


@transaction.atomic
def quote_create(
    *,
    actor: User,
    lead_id: int,
    model: str,
    list_price: Decimal,
    discount: Decimal = Decimal("0"),
    accessories: str = "",
    accessories_price: Decimal = Decimal("0"),
    trade_in_value: Decimal = Decimal("0"),
    insurance: Decimal = Decimal("0"),
    down_payment: Decimal | None = None,
    term_months: int | None = None,
    annual_rate: Decimal | None = None,
    stock_vehicle_id: int | None = None,
) -> Quote:
    """A new version of the lead's offer. A discount beyond the consultant's limit is valid only once a
    manager approves it (``quote_approve_discount``); a manager's own quote carries their approval."""
    lead = _lead_for_change(actor, lead_id)
    if lead.stage not in OPEN_STAGES:
        raise Conflict(_("This lead is %(stage)s.") % {"stage": lead.get_stage_display()})
    errors = {}
    for name, value in (
        ("list_price", list_price),
        ("discount", discount),
        ("accessories_price", accessories_price),
        ("trade_in_value", trade_in_value),
        ("insurance", insurance),
    ):
        if value is None or value < 0:
            errors[name] = _("Enter an amount of zero or more.")
    if not errors and discount > list_price:
        errors["discount"] = _("The discount cannot exceed the list price.")
    finance = (down_payment, term_months, annual_rate)
    if any(value is not None for value in finance):
        if term_months is None or not 1 <= term_months <= MAX_TERM_MONTHS:
            errors["term_months"] = _("The term is 1 to %(max)s months.") % {"max": MAX_TERM_MONTHS}
        if annual_rate is None or not Decimal("0") <= annual_rate <= MAX_ANNUAL_RATE:
            errors["annual_rate"] = _("The annual rate is between 0 and 0.36 (36%).")
        if down_payment is None or down_payment < 0:
            errors["down_payment"] = _("Enter a down payment of zero or more.")
    stock = None
    if stock_vehicle_id:
        stock = StockVehicle.objects.filter(pk=stock_vehicle_id, dealership=lead.dealership).first()
        if stock is None:
            errors["stock_vehicle"] = _("Choose a car of this dealership's stock.")
    if errors:
        raise ValidationError(errors)
    total = _cents(list_price - discount + accessories_price + insurance - trade_in_value)
    if total < 0:
        raise ValidationError({"trade_in_value": _("The trade-in is worth more than the car: check the amounts.")})
    monthly = None
    if term_months:
        if down_payment > total:
            raise ValidationError({"down_payment": _("The down payment cannot exceed the total.")})
        monthly = monthly_payment(total - down_payment, annual_rate, term_months)
    settings = SalesSettings.of(lead.dealership)
    version = (lead.quotes.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    quote = Quote.objects.create(
        dealership=lead.dealership,
        lead=lead,
        version=version,
        stock_vehicle=stock,
        model=model.strip() or (stock.model if stock else lead.model_of_interest),
        list_price=list_price,
        discount=discount,
        discount_approved_by=actor if discount > settings.discount_limit and _is_manager(actor) else None,
        accessories=accessories.strip(),
        accessories_price=accessories_price,
        trade_in_value=trade_in_value,
        insurance=insurance,
        down_payment=down_payment,
        term_months=term_months,
        annual_rate=annual_rate,
        monthly_payment=monthly,
        total=total,
        created_by=actor,
    )
    if FUNNEL.index(lead.stage) < FUNNEL.index(Stage.NEGOTIATING):
        _event(lead, actor, "stage", lead.stage, Stage.NEGOTIATING)
        lead.stage = Stage.NEGOTIATING
        _save(lead, actor, "stage")
    return quote


def needs_discount_approval(quote: Quote, *, discount_limit: Decimal | None = None) -> bool:
    """A discount beyond the rooftop's limit that no manager has approved yet (pass the limit when
    checking many quotes of one rooftop)."""
    if discount_limit is None:
        discount_limit = SalesSettings.of(quote.dealership).discount_limit
    return quote.discount > discount_limit and quote.discount_approved_by_id is None


@transaction.atomic
def quote_approve_discount(*, actor: User, quote_id: int) -> Quote:
    if not _is_manager(actor):
        raise PermissionDenied(_("Only a manager approves a discount beyond the limit."))
    quote = Quote.objects.select_for_update().get(pk=quote_id, lead__in=leads_for(actor))
    quote.discount_approved_by = actor
    quote.save(update_fields=["discount_approved_by"])
    _event(quote.lead, actor, "discount", "", str(quote.discount), f"v{quote.version}")
    return quote


# --- orders and delivery --------------------------------------------------------------------------


@transaction.atomic
def order_create(*, actor: User, quote_id: int, stock_vehicle_id: int, deposit: Decimal) -> Order:
    """成交: the accepted quote becomes a contract with its deposit, and one car is reserved for it.
    Two orders racing for the same car: the conditional UPDATE lets exactly one reserve it."""
    quote = Quote.objects.select_related("lead", "dealership").get(pk=quote_id, lead__in=leads_for(actor, "change"))
    lead = _lead_for_change(actor, quote.lead_id)
    if lead.stage not in OPEN_STAGES:
        raise Conflict(_("This lead is %(stage)s.") % {"stage": lead.get_stage_display()})
    latest = lead.quotes.order_by("-version").values_list("pk", flat=True).first()
    if latest != quote.pk:
        raise Conflict(_("A newer version of this quote exists; order from the latest."))
    if needs_discount_approval(quote):
        raise Conflict(_("The discount is beyond your limit: a manager must approve it first."), code="discount")
    if deposit is None or deposit <= 0 or deposit > quote.total:
        raise ValidationError(
            {"deposit": _("The deposit is more than zero and at most the total (¥%(total)s).") % {"total": quote.total}}
        )
    reserved = StockVehicle.objects.filter(
        pk=stock_vehicle_id, dealership=lead.dealership, status__in=(StockStatus.IN_STOCK, StockStatus.IN_TRANSIT)
    ).update(status=StockStatus.RESERVED)
    if not reserved:
        raise ValidationError({"stock_vehicle": _("This car is not available: it is reserved or sold.")}, code="taken")
    now = timezone.now()
    order = Order(
        dealership=lead.dealership,
        number="",
        lead=lead,
        customer=lead.customer,
        quote=quote,
        stock_vehicle_id=stock_vehicle_id,
        consultant=lead.owner,
        total=quote.total,
        deposit=deposit,
        paid=deposit,
    )
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        raise ValidationError({"stock_vehicle": _("This car is not available: it is reserved or sold.")}) from None
    order.number = f"{lead.dealership.code}-C{timezone.localtime(now, lead.dealership.zone):%Y}-{order.pk:07d}"
    order.save(update_fields=["number"])
    quote.accepted_at = now
    quote.save(update_fields=["accepted_at"])
    _event(lead, actor, "stage", lead.stage, Stage.ORDERED, order.number)
    lead.stage = Stage.ORDERED
    _save(lead, actor, "stage")
    _stop_following(lead)
    return order


def _order_for_change(actor: User, order_id: int) -> Order:
    return (
        Order.objects.for_user(actor, "change")
        .filter(lead__in=leads_for(actor))
        .select_for_update(of=("self",))
        .select_related("dealership", "customer", "stock_vehicle", "lead")
        .get(pk=order_id)
    )


@transaction.atomic
def order_payment(*, actor: User, order_id: int, amount: Decimal) -> Order:
    order = _order_for_change(actor, order_id)
    if order.status != OrderStatus.CONTRACTED:
        raise Conflict(_("This order is %(status)s.") % {"status": order.get_status_display()})
    due = order.total - order.paid
    if amount is None or amount <= 0 or amount > due:
        raise ValidationError({"amount": _("Take between ¥0.01 and the ¥%(due)s still due.") % {"due": due}})
    order.paid += amount
    fields = ["paid"]
    if order.paid == order.total:
        order.status = OrderStatus.PAID
        fields.append("status")
        StockVehicle.objects.filter(pk=order.stock_vehicle_id).update(status=StockStatus.SOLD)
    order.version += 1
    order.save(update_fields=[*fields, "version", "updated_at"])
    return order


@transaction.atomic
def order_schedule_delivery(*, actor: User, order_id: int, delivery_at: datetime.datetime) -> Order:
    """The delivery appointment: when the customer comes for the car."""
    order = _order_for_change(actor, order_id)
    if order.status not in (OrderStatus.CONTRACTED, OrderStatus.PAID):
        raise Conflict(_("This order is %(status)s.") % {"status": order.get_status_display()})
    if delivery_at is None or delivery_at <= timezone.now():
        raise ValidationError({"delivery_at": _("Choose a time in the future.")})
    order.delivery_at = delivery_at
    order.version += 1
    order.save(update_fields=["delivery_at", "version", "updated_at"])
    return order


@transaction.atomic
def order_deliver(
    *,
    actor: User,
    order_id: int,
    delivery_advisor: User,
    pdi_checklist: dict[str, bool],
    documents_checklist: dict[str, bool],
) -> Order:
    """交车: a paid order with every PDI and document item ticked. The car becomes the customer's (warranty
    from today, first maintenance due), and the 2-day follow-up call is promised."""
    order = _order_for_change(actor, order_id)
    if order.status != OrderStatus.PAID:
        raise Conflict(
            _("Only a paid order is delivered (¥%(due)s still due).") % {"due": order.total - order.paid}, code="unpaid"
        )
    errors = {}
    if not pdi_checklist or not all(pdi_checklist.values()):
        errors["pdi_checklist"] = _("Tick every PDI item before delivery.")
    if not documents_checklist or not all(documents_checklist.values()):
        errors["documents_checklist"] = _("Hand over every document before delivery.")
    if (
        not delivery_advisor.has_role(Role.SERVICE_ADVISOR)
        or not delivery_advisor.dealerships.filter(pk=order.dealership_id).exists()
    ):
        errors["delivery_advisor"] = _("Choose the service advisor of this dealership who attends.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    today = timezone.localtime(now, order.dealership.zone).date()
    stock = order.stock_vehicle
    existing = Vehicle.objects.filter(dealership=order.dealership, vin=stock.vin).first()
    if existing is None:
        vehicle = vehicle_create(
            actor=actor,
            dealership=order.dealership,
            owner=order.customer,
            odometer_km=10,
            data={
                "vin": stock.vin,
                "make": stock.make,
                "model": stock.model,
                "trim": stock.trim,
                "colour": stock.colour,
                "year": today.year,
                "purchased_on": today,
                "warranty_ends_on": today.replace(year=today.year + WARRANTY_YEARS)
                if not (today.month == 2 and today.day == 29)
                else today + datetime.timedelta(days=365 * WARRANTY_YEARS),
                "next_service_on": today + FIRST_SERVICE[0],
                "next_service_km": FIRST_SERVICE[1],
                "sales_channel": SalesChannel.OWN,
            },
        )
    else:
        vehicle = existing
        if vehicle.owner_id != order.customer_id:
            vehicle = vehicle_change_owner(actor=actor, vehicle_id=vehicle.pk, customer_id=order.customer_id, on=today)
    order.status, order.delivered_at, order.delivery_advisor, order.vehicle = (
        OrderStatus.DELIVERED,
        now,
        delivery_advisor,
        vehicle,
    )
    order.pdi_checklist, order.documents_checklist = pdi_checklist, documents_checklist
    order.version += 1
    order.save()
    StockVehicle.objects.filter(pk=stock.pk).update(status=StockStatus.DELIVERED)
    lead = _lead_for_change(actor, order.lead_id)
    _event(lead, actor, "stage", lead.stage, Stage.DELIVERED, order.number)
    lead.stage = Stage.DELIVERED
    _save(lead, actor, "stage")
    followup.schedule_after_vehicle_delivery(
        order=order, customer=order.customer, delivered_at=now, consultant=order.consultant
    )
    followup.survey_after_delivery(
        subject=order,
        customer=order.customer,
        kind=SurveyKind.SALES_DELIVERY,
        staff=order.consultant,
        delivered_at=now,
    )
    points_award(subject=order, customer=order.customer, paid_amount=order.paid)
    return order


def dealership_lost_reasons(dealership: Dealership):
    """The rooftop's reasons, with the standards' defaults the first time they are asked for."""
    defaults = (
        _("Price"),
        _("Bought a competitor's brand"),
        _("Bought at another dealer"),
        _("Postponed"),
        _("Unreachable"),
    )
    if not LostReason.objects.filter(dealership=dealership).exists():
        LostReason.objects.bulk_create(
            [LostReason(dealership=dealership, name=name) for name in defaults], ignore_conflicts=True
        )
    return LostReason.objects.filter(dealership=dealership, active=True)


def referrer_by_mobile(*, dealership: Dealership, mobile: str) -> Customer:
    """The referring customer 转介绍人, found by their mobile at this rooftop."""
    normalised = customer_normalize(dealership=dealership, data={"mobile": mobile})["mobile"]
    referrer = Customer.objects.filter(dealership=dealership, mobile=normalised).first()
    if referrer is None:
        raise ValidationError({"referrer_mobile": _("No customer of this dealership has this mobile.")})
    return referrer

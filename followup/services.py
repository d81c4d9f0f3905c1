"""Scheduling promises and recording what came of them. ``sales``, ``service`` and ``crm`` callers
run these inside their own transaction, so a promise commits or rolls back with its cause."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CampaignChannel, ComplaintSource, Role
from crm.models import Customer, Dealership, User, Voucher
from crm.services import complaint_callback_result, complaint_open
from crm.surveys import survey_create, survey_url

from .calendar import RooftopCalendar
from .choices import LIVE_STATUSES, FollowUpKind, FollowUpStatus, Outcome, RefusalReason
from .models import Attempt, FollowUp

FOLLOWUP_WINDOW = datetime.timedelta(hours=48)
RETRY_AFTER_NO_ANSWER = datetime.timedelta(hours=2)
MAX_FAILED_CALLS = 2
# A reminder later than this before the appointment is no longer worth sending.
REMINDER_LEAD = datetime.timedelta(hours=3)
# What an outcome does to the follow-up: closes it, or keeps it for another try.
CLOSING_OUTCOMES = {Outcome.REACHED, Outcome.WRONG_NUMBER, Outcome.REFUSED, Outcome.BOOKED}


def _subject_key(subject: models.Model) -> dict[str, Any]:
    return {"subject_type": ContentType.objects.get_for_model(subject), "subject_id": subject.pk}


def live_followups(*, subject: models.Model, kind: str | None = None) -> models.QuerySet[FollowUp]:
    rows = FollowUp.objects.filter(**_subject_key(subject), status__in=LIVE_STATUSES)
    return rows.filter(kind=kind) if kind else rows


def followup_schedule(
    *,
    kind: str,
    subject: models.Model,
    customer: Customer,
    due_at: datetime.datetime,
    window_ends_at: datetime.datetime | None = None,
    assignee: User | None = None,
    team: str = "",
    data: dict | None = None,
) -> FollowUp:
    """Promise a call or message about ``subject``; scheduling the same (kind, subject) again is a no-op.

    The partial unique index on live rows decides between concurrent callers: INSERT … ON CONFLICT
    DO NOTHING, then read the one live row.
    """
    row = FollowUp(
        dealership_id=customer.dealership_id,
        kind=kind,
        customer=customer,
        due_at=due_at,
        window_ends_at=window_ends_at,
        assignee=assignee,
        team=team,
        data=data or {},
        **_subject_key(subject),
    )
    FollowUp.objects.bulk_create([row], ignore_conflicts=True)
    return live_followups(subject=subject, kind=kind).get()


def followup_reschedule(*, subject: models.Model, kind: str, due_at: datetime.datetime) -> int:
    """Move the pending (not yet queued) follow-up of ``kind`` about ``subject``; returns rows moved."""
    return (
        live_followups(subject=subject, kind=kind)
        .filter(status=FollowUpStatus.SCHEDULED)
        .update(due_at=due_at, updated_at=timezone.now())
    )


def followup_cancel_pending(*, subject: models.Model, kinds: list[str] | None = None) -> int:
    """Cancel every live follow-up about ``subject`` (of ``kinds``); returns rows cancelled."""
    rows = live_followups(subject=subject)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    return rows.update(status=FollowUpStatus.CANCELLED, claimed_until=None, updated_at=timezone.now())


def followup_mark_done(*, subject: models.Model, kind: str, actor: User | None = None, notes: str = "") -> int:
    """The promise was kept some other way (the consultant logged a contact): close the live rows."""
    now = timezone.now()
    rows = list(live_followups(subject=subject, kind=kind).select_for_update())
    for row in rows:
        row.attempts += 1
        Attempt.objects.create(followup=row, number=row.attempts, actor=actor, outcome=Outcome.REACHED, notes=notes)
        row.status, row.outcome, row.done_at, row.claimed_until, row.claimed_by = (
            FollowUpStatus.DONE,
            Outcome.REACHED,
            now,
            None,
            "",
        )
        row.save(
            update_fields=["attempts", "status", "outcome", "done_at", "claimed_until", "claimed_by", "updated_at"]
        )
    return len(rows)


# --- what sales, service and crm call --------------------------------------------------


def schedule_after_vehicle_delivery(
    *, order: models.Model, customer: Customer, delivered_at: datetime.datetime, consultant: User | None = None
) -> FollowUp:
    """The 2-day follow-up call after a new car is handed over: is the customer happy with it?"""
    return _schedule_two_day_call(FollowUpKind.DELIVERY_FOLLOWUP, order, customer, delivered_at, consultant)


def schedule_after_service_delivery(
    *, repair_order: models.Model, customer: Customer, delivered_at: datetime.datetime, advisor: User | None = None
) -> FollowUp:
    """The 2-day follow-up call after a repair order is delivered: any problem becomes a complaint."""
    return _schedule_two_day_call(FollowUpKind.SERVICE_FOLLOWUP, repair_order, customer, delivered_at, advisor)


def _schedule_two_day_call(kind, subject, customer, delivered_at, responsible) -> FollowUp:
    calendar = RooftopCalendar.of(customer.dealership)
    next_day = (delivered_at.astimezone(calendar.zone) + datetime.timedelta(days=1)).date()
    return followup_schedule(
        kind=kind,
        subject=subject,
        customer=customer,
        due_at=calendar.first_window_start_on_or_after(next_day, customer),
        window_ends_at=delivered_at + FOLLOWUP_WINDOW,
        team=Role.CUSTOMER_SPECIALIST.value,
        data={"responsible_id": responsible.pk if responsible else None, "delivered_at": delivered_at.isoformat()},
    )


def schedule_for_appointment(
    *, appointment: models.Model, customer: Customer, starts_at: datetime.datetime
) -> tuple[FollowUp, FollowUp]:
    """The reminder the day before (a message) and the confirmation about an hour before (a call);
    calling it again for a moved appointment moves both."""
    calendar = RooftopCalendar.of(customer.dealership)
    times = {
        FollowUpKind.APPOINTMENT_REMINDER: calendar.reminder_time(starts_at, customer),
        FollowUpKind.APPOINTMENT_CONFIRMATION: calendar.confirmation_time(starts_at),
    }
    now = timezone.now()
    if times[FollowUpKind.APPOINTMENT_REMINDER] <= now:  # booked after the day-before window opened
        soonest = calendar.next_contact_time(now, customer)
        if soonest <= starts_at - REMINDER_LEAD:
            times[FollowUpKind.APPOINTMENT_REMINDER] = soonest
    rows = []
    for kind, due_at in times.items():
        if due_at < now:
            followup_cancel_pending(subject=appointment, kinds=[kind])  # too late for this one
            continue
        row = followup_schedule(
            kind=kind,
            subject=appointment,
            customer=customer,
            due_at=due_at,
            window_ends_at=starts_at,
            team=Role.CUSTOMER_SPECIALIST.value,
            data={"starts_at": starts_at.isoformat()},
        )
        if row.due_at != due_at:
            followup_reschedule(subject=appointment, kind=kind, due_at=due_at)
            row.refresh_from_db()
        FollowUp.objects.filter(pk=row.pk).update(data={**row.data, "starts_at": starts_at.isoformat()})
        rows.append(row)
    return tuple(rows)


def appointment_cancelled(*, appointment: models.Model) -> int:
    return followup_cancel_pending(subject=appointment)


def notify_vehicle_ready(*, subject: models.Model, customer: Customer, data: dict) -> FollowUp:
    """Tell the customer, on their preferred channel and inside their window, that the car is ready."""
    calendar = RooftopCalendar.of(customer.dealership)
    return followup_schedule(
        kind=FollowUpKind.READY_NOTICE,
        subject=subject,
        customer=customer,
        due_at=calendar.next_contact_time(timezone.now(), customer),
        data=data,
    )


def send_link_now(*, kind: str, subject: models.Model, customer: Customer, data: dict) -> FollowUp:
    """A message the customer is waiting for (an approval link): out at once, whatever their usual window."""
    followup_cancel_pending(subject=subject, kinds=[kind])  # a newer link replaces one not yet sent
    return followup_schedule(kind=kind, subject=subject, customer=customer, due_at=timezone.now(), data=data)


def schedule_survey(*, survey: models.Model, customer: Customer, url: str, after: datetime.datetime) -> FollowUp:
    """The satisfaction survey's link, messaged inside the customer's hours once ``after`` has passed."""
    calendar = RooftopCalendar.of(customer.dealership)
    return followup_schedule(
        kind=FollowUpKind.SURVEY,
        subject=survey,
        customer=customer,
        due_at=calendar.next_contact_time(after, customer),
        data={"url": url},
    )


def survey_after_delivery(
    *, subject: models.Model, customer: Customer, kind: str, staff: User | None, delivered_at: datetime.datetime
) -> FollowUp:
    """The satisfaction survey about a delivery or a service visit, its link messaged
    ``SURVEY_AFTER_DAYS`` later (after the 2-day follow-up call)."""
    survey = survey_create(subject=subject, customer=customer, kind=kind, staff=staff, now=delivered_at)
    return schedule_survey(
        survey=survey,
        customer=customer,
        url=survey_url(survey),
        after=delivered_at + datetime.timedelta(days=settings.SURVEY_AFTER_DAYS),
    )


def schedule_lead_followup(*, lead: models.Model, customer: Customer, on: datetime.date, consultant: User) -> FollowUp:
    """The consultant's next call to a lead, on the date its grade sets; a new date moves it."""
    calendar = RooftopCalendar.of(customer.dealership)
    due_at = calendar.first_window_start_on_or_after(on, customer)
    row = followup_schedule(
        kind=FollowUpKind.LEAD_FOLLOWUP,
        subject=lead,
        customer=customer,
        due_at=due_at,
        assignee=consultant,
        team=Role.SALES_CONSULTANT.value,
    )
    if row.due_at != due_at:
        followup_reschedule(subject=lead, kind=FollowUpKind.LEAD_FOLLOWUP, due_at=due_at)
        row.refresh_from_db()
    return row


def schedule_complaint_callback(
    *, complaint: models.Model, customer: Customer, due_at: datetime.datetime, owner: User | None = None
) -> FollowUp:
    """The call that confirms the customer is satisfied with how their complaint was handled; a pending
    one moves to the new time."""
    calendar = RooftopCalendar.of(customer.dealership)
    contact_at = calendar.next_contact_time(due_at, customer)
    row = followup_schedule(
        kind=FollowUpKind.COMPLAINT_CALLBACK,
        subject=complaint,
        customer=customer,
        due_at=contact_at,
        window_ends_at=due_at + datetime.timedelta(days=1),
        assignee=owner,
        team=Role.CUSTOMER_SPECIALIST.value,
    )
    if row.due_at != contact_at:
        followup_reschedule(subject=complaint, kind=FollowUpKind.COMPLAINT_CALLBACK, due_at=contact_at)
        row.refresh_from_db()
    return row


def schedule_complaint_callback_hook(*, complaint, due_at: datetime.datetime) -> FollowUp:
    """crm's complaint life-cycle asks for the call-back through ``crm.hooks``: to its owner, else the team."""
    return schedule_complaint_callback(
        complaint=complaint, customer=complaint.customer, due_at=due_at, owner=complaint.owner
    )


# --- outcomes ---------------------------------------------------------------------------


def escalation_lead(dealership: Dealership) -> User | None:
    """The rooftop's customer-specialist lead: its Manager, else its first customer specialist."""
    staff = User.objects.filter(dealerships=dealership, is_active=True).order_by("pk")
    return (
        staff.filter(groups__name=Role.MANAGER.value).first()
        or staff.filter(groups__name=Role.CUSTOMER_SPECIALIST.value).first()
    )


@transaction.atomic
def followup_record_outcome(
    *,
    followup_id: int,
    actor: User,
    outcome: str,
    satisfaction: int | None = None,
    notes: str = "",
    callback_at: datetime.datetime | None = None,
    refusal_reason: str = "",
    booking: str = "",
) -> FollowUp:
    """Record one call attempt and move the follow-up on: done, retried, called back or escalated.

    A dissatisfied answer (satisfaction 1–2 or a refusal because the customer is unhappy) opens a
    complaint with its call-back, and tells the responsible advisor or consultant.
    """
    followup = (
        FollowUp.objects.for_user(actor, "change")
        .select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=followup_id)
    )
    if followup.status not in (FollowUpStatus.QUEUED, FollowUpStatus.IN_PROGRESS, FollowUpStatus.ESCALATED):
        raise ValidationError(
            _("This follow-up is %(status)s; there is no call to record.") % {"status": followup.get_status_display()}
        )
    errors = {}
    if outcome not in Outcome.values or outcome in (Outcome.SENT, Outcome.SEND_FAILED, Outcome.SEND_UNKNOWN):
        errors["outcome"] = _("Choose what came of the call.")
    if outcome == Outcome.REACHED and satisfaction is None:
        errors["satisfaction"] = _("Ask how satisfied the customer is (1–5).")
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        errors["satisfaction"] = _("Satisfaction is 1 to 5.")
    if outcome == Outcome.CALL_BACK and (callback_at is None or callback_at <= timezone.now()):
        errors["callback_at"] = _("Give the time the customer asked to be called back, in the future.")
    if outcome == Outcome.REFUSED and refusal_reason not in RefusalReason.values:
        errors["refusal_reason"] = _("Say why the customer refused.")
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    followup.attempts += 1
    Attempt.objects.create(
        followup=followup,
        number=followup.attempts,
        actor=actor,
        outcome=outcome,
        satisfaction=satisfaction,
        refusal_reason=refusal_reason,
        callback_at=callback_at,
        notes=notes,
    )
    followup.outcome, followup.notes = outcome, notes
    if outcome == Outcome.BOOKED and booking:
        followup.data = {**followup.data, "booking": booking}
    followup.satisfaction = satisfaction if satisfaction is not None else followup.satisfaction
    calendar = RooftopCalendar.of(followup.customer.dealership)
    if outcome in CLOSING_OUTCOMES:
        followup.status, followup.done_at = FollowUpStatus.DONE, now
    elif outcome == Outcome.CALL_BACK:
        followup.status, followup.due_at = FollowUpStatus.QUEUED, callback_at
    elif followup.attempts >= MAX_FAILED_CALLS:  # no answer, the second time
        followup.status = FollowUpStatus.ESCALATED
        followup.assignee = escalation_lead(followup.customer.dealership)
        followup.due_at = calendar.next_contact_time(now, followup.customer)
    else:
        followup.status = FollowUpStatus.QUEUED
        followup.due_at = calendar.next_contact_time(now + RETRY_AFTER_NO_ANSWER, followup.customer)
    followup.save(
        update_fields=[
            "attempts",
            "outcome",
            "notes",
            "satisfaction",
            "status",
            "done_at",
            "due_at",
            "assignee",
            "data",
            "updated_at",
        ]
    )
    unhappy = (satisfaction is not None and satisfaction <= 2) or refusal_reason == RefusalReason.UNHAPPY
    if followup.kind == FollowUpKind.COMPLAINT_CALLBACK:
        if outcome in (Outcome.REACHED, Outcome.REFUSED):  # the complaint itself moves on, or back
            complaint_callback_result(complaint_id=followup.subject_id, actor=actor, satisfied=not unhappy, note=notes)
    elif unhappy:
        _open_complaint(followup, actor, notes)
    return followup


def _open_complaint(followup: FollowUp, actor: User, notes: str) -> None:
    responsible = User.objects.filter(pk=followup.data.get("responsible_id")).first()
    complaint = complaint_open(
        customer=followup.customer,
        source=ComplaintSource.FOLLOWUP_CALL,
        actor=actor,
        owner=responsible,
        description=notes or _("Dissatisfied on the %(kind)s call.") % {"kind": followup.get_kind_display()},
        subject=followup.subject,
    )
    schedule_complaint_callback(
        complaint=complaint, customer=followup.customer, due_at=complaint.due_at, owner=responsible
    )
    if responsible is not None:
        from .notify import notify_staff

        transaction.on_commit(lambda: notify_staff(user_id=responsible.pk, complaint_id=complaint.pk))


# --- campaigns ----------------------------------------------------------------------------------

CAMPAIGN_BATCH = 1_000


def _campaign_data(campaign, voucher=None) -> dict:
    data = {"campaign_id": campaign.pk, "campaign": campaign.name, "offer": campaign.offer}
    if voucher is not None:
        data |= {
            "voucher_code": voucher.code,
            "voucher_value": str(voucher.value),
            "valid_until": voucher.valid_until.isoformat(),
        }
    return data


@transaction.atomic
def campaign_launch(*, actor: User, campaign_id: int):
    """Launch a draft campaign: each customer of its segment it may contact (``crm.campaigns.campaign_audience``)
    gets, with a voucher type attached, a voucher, and a call in the queue (channel call) or a marketing
    message (the other channels, consenting customers only), due inside business hours and the customer's
    window from the start date. The campaign is locked and must be a draft: launching twice adds nothing.

    The follow-up's subject is the customer's voucher (one per customer per campaign); without a voucher
    type it is the customer, so a customer owed a campaign call already is not called twice at once.
    """
    from crm import campaigns
    from crm.vouchers import vouchers_issue_many

    campaign = campaigns.campaign_for_change(actor=actor, campaign_id=campaign_id)
    campaigns.campaign_check_launch(campaign)
    calendar = RooftopCalendar.of(campaign.dealership)
    starts_at = max(
        timezone.now(), datetime.datetime.combine(campaign.starts_on, datetime.time.min, tzinfo=calendar.zone)
    )
    ends_at = datetime.datetime.combine(
        campaign.ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=calendar.zone
    )
    is_call = campaign.channel == CampaignChannel.CALL
    kind = FollowUpKind.CAMPAIGN_CALL if is_call else FollowUpKind.CAMPAIGN_MESSAGE
    audience = campaigns.campaign_audience(campaign).order_by("pk")
    customer_type = ContentType.objects.get_for_model(Customer)
    voucher_type = ContentType.objects.get_for_model(Voucher)
    last_pk = 0
    while True:
        customers = list(audience.filter(pk__gt=last_pk)[:CAMPAIGN_BATCH])
        if not customers:
            break
        last_pk = customers[-1].pk
        vouchers = (
            vouchers_issue_many(actor=actor, customers=customers, voucher_type=campaign.voucher_type, campaign=campaign)
            if campaign.voucher_type
            else [None] * len(customers)
        )
        rows = []
        for customer, voucher in zip(customers, vouchers, strict=True):
            due_at = calendar.next_contact_time(starts_at, customer)
            rows.append(
                FollowUp(
                    dealership_id=campaign.dealership_id,
                    kind=kind,
                    customer=customer,
                    subject_type=voucher_type if voucher else customer_type,
                    subject_id=voucher.pk if voucher else customer.pk,
                    due_at=due_at,
                    window_ends_at=max(ends_at, due_at) if is_call else None,
                    team=Role.CUSTOMER_SPECIALIST.value if is_call else "",
                    data=_campaign_data(campaign, voucher),
                )
            )
        FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    campaigns.campaign_mark_running(campaign)
    return campaign


def campaign_contacts_cancel(*, campaign) -> int:
    """The campaign is over: its calls and messages not made yet are cancelled; returns rows cancelled."""
    from crm.campaigns import campaign_contacts

    return (
        campaign_contacts(campaign.pk)
        .filter(status__in=LIVE_STATUSES)
        .update(status=FollowUpStatus.CANCELLED, claimed_until=None, updated_at=timezone.now())
    )

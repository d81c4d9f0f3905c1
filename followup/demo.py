"""The demo call queue (a ``crm.demo`` seeder): calls due, overdue and escalated, a history of calls
made, a complaint opened by an unhappy answer, and the maintenance-due scan's proactive calls.

Until the sales and service apps bring orders, repair orders and appointments, the customers'
vehicles stand in as the subjects of the demo follow-ups.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from crm.choices import Role
from crm.models import Customer

from . import dispatch, scans, services
from .choices import FollowUpKind, FollowUpStatus, Outcome
from .models import FollowUp

# kind, how many, hours since due, hours the 48 h window has left (negative: overdue), what happened
PLAN = (
    (FollowUpKind.SERVICE_FOLLOWUP, 6, 3, 40, None),
    (FollowUpKind.DELIVERY_FOLLOWUP, 3, 2, 42, None),
    (FollowUpKind.APPOINTMENT_CONFIRMATION, 2, 0, 1, None),
    (FollowUpKind.SERVICE_FOLLOWUP, 3, 68, -20, "no_answer"),
    (FollowUpKind.DELIVERY_FOLLOWUP, 2, 30, 18, "escalated"),
    (FollowUpKind.SERVICE_FOLLOWUP, 5, 30, 10, "reached"),
    (FollowUpKind.SERVICE_FOLLOWUP, 1, 26, 22, "unhappy"),
    (FollowUpKind.LEAD_FOLLOWUP, 2, 1, 24, None),
)


def seed(*, rooftops, staff, stdout) -> None:
    now = timezone.now()
    specialist = staff["specialist"]
    made = 0
    for code, rooftop in rooftops.items():
        if FollowUp.objects.filter(dealership=rooftop, data__demo=True).exists():
            continue  # seeded before: keep what the demo users did with it
        customers = iter(
            Customer.objects.filter(dealership=rooftop, vehicles__isnull=False)
            .distinct()
            .order_by("pk")
            .prefetch_related("vehicles")
        )
        consultant = staff["sales" if code == "SH01" else "sales_bj"]
        advisor = staff["advisor" if code == "SH01" else "advisor_bj"]
        for kind, count, since_due, window_left, what in PLAN:
            for _ in range(count if code == "SH01" else max(1, count // 2)):
                customer = next(customers, None)
                if customer is None:
                    break
                with transaction.atomic():
                    made += _one(kind, customer, now, since_due, window_left, what, specialist, consultant, advisor)
    with transaction.atomic():
        proactive = scans.scan_maintenance_due(now=now)
    while True:  # what is due now goes through the dispatcher, as the beat would send it
        token, ids = dispatch.claim_due(now=now)
        if not ids:
            break
        dispatch.process_batch(token, ids)
    stdout.write(f"Demo follow-ups: {made} calls in the queue and its history, {proactive} maintenance-due calls.")


def _one(kind, customer, now, since_due, window_left, what, specialist, consultant, advisor) -> int:
    due_at = now - datetime.timedelta(hours=since_due)
    is_lead = kind == FollowUpKind.LEAD_FOLLOWUP
    row = services.followup_schedule(
        kind=kind,
        subject=customer.vehicles.all()[0],
        customer=customer,
        due_at=due_at,
        window_ends_at=now + datetime.timedelta(hours=window_left),
        assignee=consultant if is_lead else None,
        team=(Role.SALES_CONSULTANT if is_lead else Role.CUSTOMER_SPECIALIST).value,
        data={
            "demo": True,
            "responsible_id": advisor.pk,
            "delivered_at": (due_at - datetime.timedelta(hours=15)).isoformat(),
            "starts_at": (now + datetime.timedelta(hours=1)).isoformat(),
        },
    )
    FollowUp.objects.filter(pk=row.pk).update(status=FollowUpStatus.QUEUED)
    record = lambda **outcome: services.followup_record_outcome(followup_id=row.pk, actor=specialist, **outcome)  # noqa: E731
    if what == "no_answer":
        record(outcome=Outcome.NO_ANSWER)
        FollowUp.objects.filter(pk=row.pk).update(due_at=due_at)
    elif what == "escalated":
        record(outcome=Outcome.NO_ANSWER)
        FollowUp.objects.filter(pk=row.pk).update(status=FollowUpStatus.QUEUED)
        record(outcome=Outcome.NO_ANSWER)  # the second time: up to the rooftop's lead
        FollowUp.objects.filter(pk=row.pk).update(due_at=due_at)
    elif what == "reached":
        record(outcome=Outcome.REACHED, satisfaction=5 if row.pk % 3 else 4, notes="车辆使用正常,对服务满意")
    elif what == "unhappy":
        record(outcome=Outcome.REACHED, satisfaction=2, notes="交车时车内不干净,等待时间过长")
    return 1

"""Sales KPIs (DESIGN §6), one function per KPI over the period's counters, and the snapshot figures.

Metrics (counted per rooftop and local day; staff = the consultant):

* ``leads``: leads created that day, per owner; dim = the lead's source.
* ``visits``: showroom visits (activities of kind ``visit``) that began that day, per actor.
* The funnel of the leads created that day (the **cohort**), per owner, by each lead's state now:

  * ``lead_test_driven``: the leads with at least one test drive done;
  * ``lead_ordered``: the leads with an order that is not cancelled; dim ``test_driven`` when the lead
    also has a test drive done, else ``no_test_drive``;
  * ``lead_delivered``: the leads with a delivered order;
  * ``lead_lost``: the leads closed as lost (the manager approved the lost application); dim = the
    lost reason's id.

  A lead's later test drive, order or loss changes the figures of the day it was created: writes to
  test drives and orders mark that day stale through the lead.
* ``orders``: orders signed that day and not cancelled, per the order's consultant; total = days (of
  24 hours) from the lead's creation to the order's.
* ``deliveries``: orders delivered that day, per the order's consultant.

A ratio of an empty period is ``None`` (shown as "—").
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count

from crm.retention import rate
from dms.rollups import Facts, metric

from .choices import OPEN_STAGES, Grade, LeadSource
from .models import Lead

LEAD = "sales_lead"
TEST_DRIVE = "sales_testdrive"
ORDER = "sales_order"
CREATED = "SELECT x.dealership_id, x.created_at AS ts FROM {rows} x"
DELIVERED = "SELECT x.dealership_id, x.delivered_at AS ts FROM {rows} x"
# a test drive or an order changes the cohort of its lead's creation day
LEAD_CREATED = "SELECT l.dealership_id, l.created_at AS ts FROM {rows} x JOIN sales_lead l ON l.id = x.lead_id"
# a lead's creation time is part of its orders' lead-to-order days
LEAD_ORDERS = "SELECT o.dealership_id, o.created_at AS ts FROM {rows} x JOIN sales_order o ON o.lead_id = x.id"

TEST_DRIVEN = "EXISTS (SELECT 1 FROM sales_testdrive d WHERE d.lead_id = t.id AND d.status = 'done')"
ORDERED = "EXISTS (SELECT 1 FROM sales_order o WHERE o.lead_id = t.id AND o.status <> 'cancelled')"
HAS_DELIVERY = "EXISTS (SELECT 1 FROM sales_order o WHERE o.lead_id = t.id AND o.status = 'delivered')"

metric("leads", table=LEAD, date="t.created_at", staff="t.owner_id", dim="t.source")
metric(
    "visits",
    table="sales_activity",
    date="t.occurred_at",
    staff="t.actor_id",
    where="t.kind = 'visit'",
)
metric(
    "lead_test_driven",
    table=LEAD,
    date="t.created_at",
    staff="t.owner_id",
    where=TEST_DRIVEN,
    sources={LEAD: (CREATED,), TEST_DRIVE: (LEAD_CREATED,)},
)
metric(
    "lead_ordered",
    table=LEAD,
    date="t.created_at",
    staff="t.owner_id",
    dim=f"CASE WHEN {TEST_DRIVEN} THEN 'test_driven' ELSE 'no_test_drive' END",
    where=ORDERED,
    sources={LEAD: (CREATED,), TEST_DRIVE: (LEAD_CREATED,), ORDER: (LEAD_CREATED,)},
)
metric(
    "lead_delivered",
    table=LEAD,
    date="t.created_at",
    staff="t.owner_id",
    where=HAS_DELIVERY,
    sources={LEAD: (CREATED,), ORDER: (LEAD_CREATED,)},
)
metric(
    "lead_lost",
    table=LEAD,
    date="t.created_at",
    staff="t.owner_id",
    dim="t.lost_reason_id",
    where="t.lost_review = 'approved'",
)
metric(
    "orders",
    table=ORDER,
    joins="JOIN sales_lead l ON l.id = t.lead_id",
    date="t.created_at",
    staff="t.consultant_id",
    total="sum(extract(epoch FROM t.created_at - l.created_at) / 86400)",
    where="t.status <> 'cancelled'",
    sources={ORDER: (CREATED,), LEAD: (LEAD_ORDERS,)},
)
metric(
    "deliveries",
    table=ORDER,
    date="t.delivered_at",
    staff="t.consultant_id",
    where="t.status = 'delivered'",
    sources={ORDER: (DELIVERED,)},
)

METRICS = (
    "leads",
    "visits",
    "lead_test_driven",
    "lead_ordered",
    "lead_delivered",
    "lead_lost",
    "orders",
    "deliveries",
)

TENTHS = Decimal("0.1")
TOP_LOST_REASONS = 5



def leads_by_source(facts: Facts, staff: int | None = None) -> dict[str, int]:
    """Leads created in the period, per source (every source, in the choices' order)."""
    counts = facts.by_dim("leads", staff)
    return {source: counts.get(source, (0, 0))[0] for source in LeadSource.values}


def leads(facts: Facts, staff: int | None = None) -> int:
    """Leads created in the period: the cohort every funnel ratio divides by."""
    return facts.n("leads", staff=staff)


def visits(facts: Facts, staff: int | None = None) -> int:
    """Showroom visits that began in the period (the consultant who logged or received them)."""
    return facts.n("visits", staff=staff)


def lead_to_test_drive_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Leads created in the period with a test drive done / leads created in the period."""
    return rate(facts.n("lead_test_driven", staff=staff), leads(facts, staff))


def test_drive_to_order_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Leads created in the period with both a test drive done and a live order / those with a test
    drive done."""
    return rate(facts.n("lead_ordered", "test_driven", staff), facts.n("lead_test_driven", staff=staff))


def close_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Leads created in the period that have a live (not cancelled) order / leads created in the period."""
    return rate(facts.n("lead_ordered", staff=staff), leads(facts, staff))


def lost_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Leads created in the period closed as lost (approved) / leads created in the period."""
    return rate(facts.n("lead_lost", staff=staff), leads(facts, staff))


def top_lost_reasons(facts: Facts, staff: int | None = None) -> list[tuple[int, int]]:
    """The five commonest reasons of the lost leads created in the period: ``(reason id, leads)``, most
    first (ties by reason id); a lost lead without a reason counts in the lost rate only."""
    counts = [(int(dim), n) for dim, (n, _total) in facts.by_dim("lead_lost", staff).items() if dim and n]
    return sorted(counts, key=lambda item: (-item[1], item[0]))[:TOP_LOST_REASONS]


def days_lead_to_order(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Mean days (of 24 hours) from the lead's creation to the order, over the live orders signed in the
    period; one decimal."""
    return rate(facts.total("orders", staff=staff), facts.n("orders", staff=staff), TENTHS)


def orders(facts: Facts, staff: int | None = None) -> int:
    """Orders signed in the period and not cancelled."""
    return facts.n("orders", staff=staff)


def deliveries(facts: Facts, staff: int | None = None) -> int:
    """Cars delivered in the period."""
    return facts.n("deliveries", staff=staff)


def deliveries_per_consultant(facts: Facts, staff: int | None = None) -> dict[int, int]:
    """Cars delivered in the period per the order's consultant (those with at least one)."""
    consultants = facts.staff_ids("deliveries") if staff is None else {staff}
    counts = {consultant: facts.n("deliveries", staff=consultant) for consultant in sorted(consultants)}
    return {consultant: n for consultant, n in counts.items() if n}


def funnel(facts: Facts, staff: int | None = None) -> list[tuple[str, int]]:
    """The leads created in the period, and how many of them were test-driven, ordered (a live order)
    and delivered."""
    return [
        ("leads", leads(facts, staff)),
        ("test_driven", facts.n("lead_test_driven", staff=staff)),
        ("ordered", facts.n("lead_ordered", staff=staff)),
        ("delivered", facts.n("lead_delivered", staff=staff)),
    ]


def _open_leads(dealership_ids: Sequence[int], owner: int | None):
    found = Lead.objects.filter(dealership_id__in=dealership_ids, stage__in=OPEN_STAGES)
    return found if owner is None else found.filter(owner_id=owner)


def overdue_lead_followups(dealership_ids: Sequence[int], today: datetime.date, owner: int | None = None) -> int:
    """Open leads (new to negotiating) whose next follow-up was due before ``today`` (a snapshot). One
    query, on the open leads' follow-up index."""
    return _open_leads(dealership_ids, owner).filter(next_followup_on__lt=today).count()


def overdue_by_owner(dealership_ids: Sequence[int], today: datetime.date) -> dict[int, int]:
    """``overdue_lead_followups`` per consultant (those with at least one). One query."""
    rows = (
        _open_leads(dealership_ids, None)
        .filter(next_followup_on__lt=today)
        .values_list("owner_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return dict(rows)


def grade_mix(dealership_ids: Sequence[int], owner: int | None = None) -> dict[str, int]:
    """Open leads now per grade (H, A, B, C, then ``""`` for ungraded; a snapshot). One query."""
    counts = dict(_open_leads(dealership_ids, owner).values_list("grade").annotate(count=Count("pk")).order_by())
    return {grade: counts.get(grade, 0) for grade in (*Grade.values, "")}

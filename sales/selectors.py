"""What the sales pages and API read: each list a bounded number of queries whatever its length, and
the consultant's own leads only (a manager sees all of their rooftops', as ``services.leads_for``)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import User

from .choices import OPEN_STAGES, ActivityKind, LostReview, OrderStatus, Stage, TestDriveStatus
from .models import Activity, Lead, LeadEvent, Order, Quote, StockVehicle, TestDrive
from .services import leads_for, sees_own_leads_only

PIPELINE_STAGES = (*OPEN_STAGES, Stage.ORDERED)
PIPELINE_CARDS = 25
STAGE_LABELS = dict(Stage.choices)
EVENT_FIELDS = {
    "stage": _("Stage"),
    "grade": _("Grade"),
    "owner": _("Consultant"),
    "lost_review": _("Lost review"),
    "discount": _("Discount approved"),
}  # cards per column; the column header carries the full count


def lead_list(*, user: User, action: str = "view") -> QuerySet[Lead]:
    return leads_for(user, action).select_related("customer", "owner", "dealership")


def lead_detail(*, user: User, lead_id: int) -> Lead:
    """One lead with its timeline (activities and events), test drives, quotes and orders."""
    return (
        lead_list(user=user)
        .select_related("referrer", "lost_reason", "updated_by")
        .prefetch_related(
            Prefetch("activities", queryset=Activity.objects.select_related("actor").order_by("-occurred_at", "-id")),
            Prefetch("events", queryset=LeadEvent.objects.select_related("actor").order_by("-created_at", "-id")),
            Prefetch("test_drives", queryset=TestDrive.objects.select_related("demo_vehicle").order_by("-starts_at")),
            Prefetch(
                "quotes",
                queryset=Quote.objects.select_related("stock_vehicle", "discount_approved_by").order_by("-version"),
            ),
            Prefetch("orders", queryset=Order.objects.select_related("stock_vehicle", "delivery_advisor")),
        )
        .get(pk=lead_id)
    )


def timeline(lead: Lead) -> list[tuple[datetime.datetime, str, object]]:
    """Activities and history events of a prefetched lead, newest first."""
    rows = [(activity.occurred_at, "activity", activity) for activity in lead.activities.all()]
    for event in lead.events.all():
        labels = STAGE_LABELS if event.field == "stage" else {}
        event.from_label = labels.get(event.from_value, event.from_value)
        event.to_label = labels.get(event.to_value, event.to_value)
        event.field_label = EVENT_FIELDS.get(event.field, event.field)
        rows.append((event.created_at, "event", event))
    return sorted(rows, key=lambda row: row[0], reverse=True)


def _owned(user: User, consultant_id: int | None) -> QuerySet[Lead]:
    rows = lead_list(user=user)
    return rows.filter(owner_id=consultant_id) if consultant_id else rows.filter(owner=user)


def leads_due(*, user: User, today: datetime.date, consultant_id: int | None = None, limit: int = 100) -> list[Lead]:
    """The follow-ups a consultant owes by ``today``: overdue first, then today's, oldest promise first.
    A lead waiting for the manager's lost review owes nothing."""
    return list(
        _owned(user, consultant_id)
        .filter(stage__in=OPEN_STAGES, next_followup_on__lte=today)
        .exclude(lost_review=LostReview.APPLIED)
        .order_by("next_followup_on", "pk")[:limit]
    )


def test_drive_list(*, user: User, action: str = "view") -> QuerySet[TestDrive]:
    """Test drives of the leads ``user`` may see (a consultant's own)."""
    return (
        TestDrive.objects.for_user(user, action)
        .filter(lead__in=leads_for(user, action).values("pk"))
        .select_related("lead__customer", "demo_vehicle")
    )


def test_drives_between(
    *, user: User, start: datetime.datetime, end: datetime.datetime, consultant_id: int | None = None
) -> list[TestDrive]:
    leads = _owned(user, consultant_id)
    return list(
        test_drive_list(user=user)
        .filter(lead__in=leads.values("pk"), starts_at__gte=start, starts_at__lt=end)
        .exclude(status=TestDriveStatus.CANCELLED)
        .order_by("starts_at")
    )


def deliveries_between(
    *, user: User, start: datetime.datetime, end: datetime.datetime, consultant_id: int | None = None
) -> list[Order]:
    rows = order_list(user=user).filter(
        delivery_at__gte=start, delivery_at__lt=end, status__in=(OrderStatus.CONTRACTED, OrderStatus.PAID)
    )
    rows = rows.filter(consultant_id=consultant_id) if consultant_id else rows.filter(consultant=user)
    return list(rows.order_by("delivery_at"))


@dataclass
class Today:
    due: list[Lead]
    overdue_count: int
    test_drives: list[TestDrive]
    deliveries: list[Order]


def consultant_today(*, user: User, now: datetime.datetime, zone, consultant_id: int | None = None) -> Today:
    """A consultant's day: follow-ups due and overdue first, then today's test drives and deliveries."""
    today = timezone.localtime(now, zone).date()
    start = datetime.datetime.combine(today, datetime.time.min, tzinfo=zone)
    end = start + datetime.timedelta(days=1)
    due = leads_due(user=user, today=today, consultant_id=consultant_id)
    return Today(
        due=due,
        overdue_count=sum(1 for lead in due if lead.next_followup_on < today),
        test_drives=test_drives_between(user=user, start=start, end=end, consultant_id=consultant_id),
        deliveries=deliveries_between(user=user, start=start, end=end, consultant_id=consultant_id),
    )


def pipeline(*, user: User, consultant_id: int | None = None, dealership_id: int | None = None) -> list[tuple]:
    """The kanban: for each stage from new to ordered, its lead count and its first cards (the most
    urgent follow-up first). Two statements whatever the number of leads: the counts, and the cards of
    every column in one ``UNION ALL`` of per-stage ``LIMIT`` queries."""
    rows = lead_list(user=user)
    if consultant_id:
        rows = rows.filter(owner_id=consultant_id)
    if dealership_id:
        rows = rows.filter(dealership_id=dealership_id)
    counts = dict(rows.filter(stage__in=PIPELINE_STAGES).values_list("stage").annotate(n=Count("pk")).order_by())
    columns = [
        rows.filter(stage=stage).order_by("next_followup_on", "-updated_at", "pk")[:PIPELINE_CARDS]
        for stage in PIPELINE_STAGES
    ]
    cards: dict[str, list[Lead]] = {stage: [] for stage in PIPELINE_STAGES}
    for lead in columns[0].union(*columns[1:], all=True):
        cards[lead.stage].append(lead)
    return [(Stage(stage), counts.get(stage, 0), cards[stage]) for stage in PIPELINE_STAGES]


def visits_between(
    *, user: User, dealership_id: int, start: datetime.datetime, end: datetime.datetime
) -> list[Activity]:
    """The showroom visit log 展厅来店登记 of a day at one rooftop, newest first."""
    return list(
        Activity.objects.for_user(user)
        .filter(dealership_id=dealership_id, kind=ActivityKind.VISIT, occurred_at__gte=start, occurred_at__lt=end)
        .select_related("lead__customer", "lead__owner", "actor")
        .order_by("-occurred_at", "-id")[:200]
    )


def lost_leads(*, user: User) -> QuerySet[Lead]:
    """The manager's review list: applications waiting first, then the leads closed as lost."""
    return (
        lead_list(user=user)
        .filter(Q(lost_review=LostReview.APPLIED) | Q(stage=Stage.LOST))
        .select_related("lost_reason")
        .order_by("-lost_review", "-updated_at", "-pk")
    )


def lost_summary(*, user: User, by: str) -> list[dict]:
    """Lost leads counted by reason, model or consultant (the lost-lead analysis of DESIGN.md §2)."""
    field = {"reason": "lost_reason__name", "model": "model_of_interest", "consultant": "owner__username"}[by]
    return list(
        lead_list(user=user)
        .filter(stage=Stage.LOST)
        .values(key=F(field))
        .annotate(n=Count("pk"))
        .order_by("-n", "key")[:20]
    )


def order_list(*, user: User, action: str = "view") -> QuerySet[Order]:
    """Orders of the user's rooftops; a consultant's own only."""
    rows = Order.objects.for_user(user, action).select_related(
        "customer", "consultant", "stock_vehicle", "dealership", "lead"
    )
    return rows.filter(consultant=user) if sees_own_leads_only(user) else rows


def quote_list(*, user: User) -> QuerySet[Quote]:
    return Quote.objects.filter(lead__in=leads_for(user).values("pk")).select_related(
        "lead__customer", "stock_vehicle", "dealership"
    )


def stock_list(*, user: User) -> QuerySet[StockVehicle]:
    return StockVehicle.objects.for_user(user).select_related("dealership")


def customer_sales(*, user: User, customer_id: int) -> tuple[list[Lead], list[Order]]:
    """The customer 360's sales panel: their leads and orders the user may see."""
    leads = list(lead_list(user=user).filter(customer_id=customer_id).order_by("-created_at")[:20])
    orders = list(order_list(user=user).filter(customer_id=customer_id).order_by("-created_at")[:20])
    return leads, orders

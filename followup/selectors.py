"""What the call queue, the SLA view, the API and the customer 360 read.

The queue is read as a union of small index-ordered slices (the caller's own calls, then each of
their rooftops' team calls), so a page costs the same with ten thousand or a million rows behind it.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role
from crm.models import Complaint, SurveyResponse
from crm.querysets import user_dealership_ids

from .choices import FollowUpKind, FollowUpStatus
from .models import Attempt, FollowUp

QUEUE_STATUSES = (FollowUpStatus.QUEUED, FollowUpStatus.IN_PROGRESS, FollowUpStatus.ESCALATED)
TWO_DAY_KINDS = (FollowUpKind.DELIVERY_FOLLOWUP, FollowUpKind.SERVICE_FOLLOWUP)
QUEUE_PAGE = 50
# Counts above this show as "200+": a queue that long needs a manager, not an exact figure (the SLA view
# and the dashboards count exactly).
COUNT_CAP = 200


def followup_list(*, user, action: str = "view") -> QuerySet[FollowUp]:
    return FollowUp.objects.for_user(user, action).select_related("customer", "dealership", "assignee")


def _teams(user) -> list[str]:
    return sorted(user.role_names)


def sees_whole_queue(user) -> bool:
    return user.is_superuser or user.has_role(Role.MANAGER, Role.ADMINISTRATOR)


@dataclasses.dataclass
class Queue:
    rows: list[FollowUp]
    due: int
    overdue: int
    capped: bool


def call_queue(
    *, user, scope: str = "mine", kind: str = "", now: datetime.datetime | None = None, limit: int = QUEUE_PAGE
) -> Queue:
    """The calls due now that ``user`` should make, theirs first, then their teams', oldest first.

    ``scope`` "mine" is the caller's own calls and their teams' unassigned ones; "all" (managers)
    is every call due in their rooftops. One statement reads the first ``COUNT_CAP + 1`` due rows
    of each slice (an index-only scan of a partial index each), which gives the list and both
    counts; a second one loads the listed rows. Past the cap the counts show as "200+".
    """
    now = now or timezone.now()
    live = FollowUp.objects.for_user(user, "change").filter(status__in=QUEUE_STATUSES, due_at__lte=now)
    if kind:
        live = live.filter(kind=kind)
    if scope == "all" and sees_whole_queue(user):
        slices = [live.filter(dealership_id=rooftop) for rooftop in user_dealership_ids(user)]
    else:
        slices = [live.filter(assignee=user)] + [
            live.filter(dealership_id=rooftop, assignee__isnull=True, team=team)
            for rooftop in user_dealership_ids(user)
            for team in _teams(user)
        ]
    heads = [
        part.order_by("due_at", "pk").values_list("pk", "due_at", "window_ends_at", "assignee_id")[: COUNT_CAP + 1]
        for part in slices
    ]
    if not heads:
        return Queue(rows=[], due=0, overdue=0, capped=False)
    due_rows = list(heads[0].union(*heads[1:], all=True)) if len(heads) > 1 else list(heads[0])
    overdue_before = now - datetime.timedelta(days=1)
    overdue = sum(1 for _, due_at, ends, _ in due_rows if (ends < now if ends else due_at < overdue_before))
    mine = scope != "all"
    due_rows.sort(key=lambda row: (not (mine and row[3] == user.pk), row[1], row[0]))
    ids = [row[0] for row in due_rows[:limit]]
    by_id = {
        row.pk: row for row in FollowUp.objects.filter(pk__in=ids).select_related("customer", "dealership", "assignee")
    }
    rows = [by_id[pk] for pk in ids if pk in by_id]
    for row in rows:
        row.is_overdue = row.window_ends_at < now if row.window_ends_at else row.due_at < overdue_before
        row.is_mine = row.assignee_id == user.pk
    capped = len(due_rows) > COUNT_CAP
    return Queue(rows=rows, due=min(len(due_rows), COUNT_CAP), overdue=min(overdue, COUNT_CAP), capped=capped)


def call_detail(*, user, followup_id: int) -> FollowUp:
    """One call with what the specialist needs beside it: the customer's vehicles, earlier calls and
    their attempts, and open complaints."""
    followup = followup_list(user=user).get(pk=followup_id)
    followup.attempt_rows = list(followup.attempt_log.select_related("actor"))
    followup.history = list(
        FollowUp.objects.filter(customer_id=followup.customer_id)
        .exclude(pk=followup.pk)
        .select_related("assignee")
        .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.select_related("actor")))
        .order_by("-due_at")[:10]
    )
    followup.vehicles = list(followup.customer.vehicles.all()[:5])
    followup.complaints = list(
        Complaint.objects.filter(customer_id=followup.customer_id).select_related("owner").order_by("-created_at")[:5]
    )
    return followup


def customer_followups(*, user, customer_id: int, limit: int = 20) -> list[FollowUp]:
    return list(
        followup_list(user=user)
        .filter(customer_id=customer_id)
        .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.select_related("actor")))
        .order_by("-due_at", "-pk")[:limit]
    )


@dataclasses.dataclass
class SlaRow:
    dealership_id: int
    dealership: str
    due_now: int
    open_in_window: int
    overdue: int
    done_in_window: int
    done_late: int

    @property
    def closed(self) -> int:
        return self.done_in_window + self.done_late

    @property
    def rate(self) -> float | None:
        """Share of the period's 2-day follow-ups done within 48 h, of those done or overdue."""
        judged = self.closed + self.overdue
        return round(100 * self.done_in_window / judged, 1) if judged else None


def two_day_sla(*, user, since: datetime.datetime, now: datetime.datetime | None = None) -> list[SlaRow]:
    """Per rooftop, the 2-day follow-ups whose window ends after ``since``: due now, still open inside
    their window, overdue, done within the window and done late. One grouped query."""
    now = now or timezone.now()
    rows = (
        FollowUp.objects.for_user(user)
        .filter(kind__in=TWO_DAY_KINDS, window_ends_at__gte=since)
        .exclude(status=FollowUpStatus.CANCELLED)
        .values("dealership_id", "dealership__name")
        .annotate(
            due_now=Count("pk", filter=Q(status__in=QUEUE_STATUSES, due_at__lte=now, window_ends_at__gte=now)),
            open_in_window=Count(
                "pk", filter=Q(status__in=(*QUEUE_STATUSES, FollowUpStatus.SCHEDULED), window_ends_at__gte=now)
            ),
            overdue=Count(
                "pk",
                filter=Q(status__in=(*QUEUE_STATUSES, FollowUpStatus.SCHEDULED), window_ends_at__lt=now)
                | Q(status=FollowUpStatus.FAILED),
            ),
            done_in_window=Count("pk", filter=Q(status=FollowUpStatus.DONE, done_at__lte=F("window_ends_at"))),
            done_late=Count("pk", filter=Q(status=FollowUpStatus.DONE, done_at__gt=F("window_ends_at"))),
        )
        .order_by("dealership__name")
    )
    return [
        SlaRow(
            dealership_id=row["dealership_id"],
            dealership=row["dealership__name"],
            due_now=row["due_now"],
            open_in_window=row["open_in_window"],
            overdue=row["overdue"],
            done_in_window=row["done_in_window"],
            done_late=row["done_late"],
        )
        for row in rows
    ]


def overdue_two_day_calls(*, user, now: datetime.datetime | None = None, limit: int = 20) -> list[FollowUp]:
    """The oldest open 2-day follow-ups past their 48 h, for the SLA view's list."""
    now = now or timezone.now()
    return list(
        followup_list(user=user)
        .filter(
            kind__in=TWO_DAY_KINDS,
            status__in=(*QUEUE_STATUSES, FollowUpStatus.SCHEDULED),
            window_ends_at__lt=now,
        )
        .order_by("window_ends_at")[:limit]
    )


def survey_to_ask(followup) -> str | None:
    """On a 2-day follow-up call, the delivery's satisfaction survey if not answered yet: the specialist may
    ask it there and then."""
    survey = (
        SurveyResponse.objects.filter(
            subject_type_id=followup.subject_type_id, subject_id=followup.subject_id, status="sent"
        )
        .values_list("pk", flat=True)
        .first()
    )
    return reverse("surveys:ask", args=[survey]) if survey else None

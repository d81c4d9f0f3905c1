"""CRM KPIs (DESIGN §6): CSI, complaints, retention 入库率 and lost customers, win-back.

Metrics (counted per rooftop and local day):

* ``csi``: surveys answered that day with a score, per staff member rated (``staff``); total = the score
  (0–100); dim = its band (``SCORE_BANDS``).
* ``complaints_received``: complaints created that day, per owner; dim = their category.
* ``complaints_closed``: complaints closed that day, per owner; total = hours from creation to closing.

Snapshots, not sums over days: the complaints open now (``open_complaints``), the retention figures
stored each night per rooftop as of its local today (``retention_snapshots_store``, read by
``retention_snapshot``), and the win-back campaigns' results (``win_back``).

A ratio or mean of an empty period is ``None`` (shown as "—").
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count

from dms.rollups import Facts, metric

from .campaigns import with_results
from .choices import OPEN_COMPLAINT_STATUSES, CampaignStatus, ComplaintStatus, SurveyStatus, VoucherKind
from .models import Campaign, Complaint, Dealership
from .retention import rate, retention_figures, retention_window

TENTHS = Decimal("0.1")
# A score in [low, high) falls in the band; 100 is in the last one.
SCORE_BANDS = (("0-59", 0, 60), ("60-69", 60, 70), ("70-79", 70, 80), ("80-89", 80, 90), ("90-100", 90, None))
RETENTION = "retention"
RETENTION_DIMS = ("base", "returned", "lost", "newer")


def _band_sql(column: str) -> str:
    cases = " ".join(f"WHEN {column} < {high} THEN '{band}'" for band, _low, high in SCORE_BANDS if high)
    return f"CASE {cases} ELSE '{SCORE_BANDS[-1][0]}' END"


metric(
    "csi",
    table="crm_surveyresponse",
    date="t.answered_at",
    staff="t.staff_id",
    dim=_band_sql("t.score"),
    total="sum(t.score)",
    # status = 'answered' then the date: the index crm_survey_results (dealership, status, answered_at).
    where=f"t.status = '{SurveyStatus.ANSWERED}' AND t.score IS NOT NULL",
)
metric("complaints_received", table="crm_complaint", date="t.created_at", staff="t.owner_id", dim="t.category")
metric(
    "complaints_closed",
    table="crm_complaint",
    date="t.closed_at",
    staff="t.owner_id",
    total="sum(extract(epoch FROM t.closed_at - t.created_at) / 3600)",
    where=f"t.status = '{ComplaintStatus.CLOSED}'",
)

METRICS = ("csi", "complaints_received", "complaints_closed")


def _mean(total: Decimal, n: int) -> Decimal | None:
    return (total / n).quantize(TENTHS, rounding=ROUND_HALF_UP) if n else None


def csi_average(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Mean score (0–100, one decimal) of the surveys answered with a score in the period."""
    return _mean(facts.total("csi", staff=staff), facts.n("csi", staff=staff))


def csi_distribution(facts: Facts, staff: int | None = None) -> dict[str, int]:
    """Surveys answered with a score in the period per score band, every band present."""
    counts = facts.by_dim("csi", staff)
    return {band: counts.get(band, (0, 0))[0] for band, _low, _high in SCORE_BANDS}


def complaints_received(facts: Facts, staff: int | None = None) -> int:
    """Complaints created in the period (``staff``: owned by them now)."""
    return facts.n("complaints_received", staff=staff)


def mean_resolution_hours(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Mean hours from creation to closing (one decimal) of the complaints closed in the period."""
    return _mean(facts.total("complaints_closed", staff=staff), facts.n("complaints_closed", staff=staff))


def open_complaints(dealership_ids: Sequence[int], owner: int | None = None) -> dict[str, int]:
    """Open complaints now, by status, every open status present (a snapshot, not a period figure).
    One query on the index crm_complaint_open (dealership, status, due_at)."""
    complaints = Complaint.objects.filter(dealership_id__in=dealership_ids, status__in=OPEN_COMPLAINT_STATUSES)
    if owner is not None:
        complaints = complaints.filter(owner_id=owner)
    counts = dict(complaints.values_list("status").annotate(count=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in OPEN_COMPLAINT_STATUSES}


# --- retention 入库率: a nightly snapshot ----------------------------------------------------------


def retention_snapshots_store() -> int:
    """Store every rooftop's retention figures (``crm.retention``) as of its local today as ``KpiRollup``
    rows: grain ``s``, metric ``retention``, that day, staff 0, dims ``base`` / ``returned`` / ``lost`` /
    ``newer`` with ``n`` the vehicles. Running again the same day replaces that day's rows (one upsert
    per rooftop). Returns the rooftops stored."""
    from dms.models import Grain, KpiRollup

    rooftops = list(Dealership.objects.order_by("pk"))
    for dealership in rooftops:
        figures = retention_figures(retention_window(dealership=dealership))
        counts = {
            "base": figures.total.base,
            "returned": figures.total.returned,
            "lost": figures.total.lost,
            "newer": figures.newer,
        }
        KpiRollup.objects.bulk_create(
            [
                KpiRollup(
                    grain=Grain.SNAPSHOT,
                    dealership_id=dealership.pk,
                    day=figures.window.today,
                    metric=RETENTION,
                    staff_id=0,
                    dim=dim,
                    n=n,
                )
                for dim, n in counts.items()
            ],
            update_conflicts=True,
            unique_fields=("grain", "dealership_id", "day", "metric", "staff_id", "dim"),
            update_fields=("n", "total"),
        )
    return len(rooftops)


# Each rooftop's latest snapshot day on or before the date (a backward probe of the kpi_rollup_key index),
# then that day's rows.
RETENTION_SNAPSHOT_SQL = """
SELECT r.dim, sum(r.n), min(r.day)
FROM unnest(%s::int[]) AS v(dealership_id)
CROSS JOIN LATERAL (
    SELECT max(x.day) AS day FROM dms_kpirollup x
    WHERE x.grain = 's' AND x.dealership_id = v.dealership_id AND x.day <= %s AND x.metric = %s
) latest
JOIN dms_kpirollup r ON r.grain = 's' AND r.dealership_id = v.dealership_id AND r.day = latest.day
    AND r.metric = %s AND r.staff_id = 0
GROUP BY r.dim
"""


def retention_snapshot(dealership_ids: Sequence[int], on: datetime.date) -> dict:
    """The rooftops' retention figures from each one's latest snapshot on or before ``on``, summed: ``base``,
    ``returned``, ``lost``, ``newer`` (vehicles, as ``crm.retention`` defines them), ``return_rate`` 入库率
    = returned / base (``None`` for an empty base), ``lost_customers`` = lost (the owners of lost vehicles,
    counted per vehicle as the retention page does) and ``as_of``, the oldest snapshot day used (``None``
    when there is none). One query."""
    counts = dict.fromkeys(RETENTION_DIMS, 0)
    as_of = None
    with connection.cursor() as cursor:
        cursor.execute(RETENTION_SNAPSHOT_SQL, [list(dealership_ids), on, RETENTION, RETENTION])
        for dim, n, day in cursor.fetchall():
            counts[dim] = int(n)
            as_of = day if as_of is None else min(as_of, day)
    return {
        **counts,
        "return_rate": rate(counts["returned"], counts["base"]),
        "lost_customers": counts["lost"],
        "as_of": as_of,
    }


# --- win-back --------------------------------------------------------------------------------------


def win_back(dealership_ids: Sequence[int], first: datetime.date, last: datetime.date) -> dict:
    """The results of the win-back campaigns (a voucher type of kind win-back) launched (running or
    finished) and starting in [first, last], summed (``crm.campaigns.with_results``): ``campaigns``;
    ``targeted``, the calls and messages the launches promised (one per customer and campaign);
    ``contacted`` (done, the customer heard the offer); ``booked``; ``vouchers_redeemed``, the customers who
    came back and used the voucher; ``revenue`` of the orders they were redeemed on; and ``win_back_rate`` =
    vouchers redeemed / targeted, the "redeemed" share of a campaign's results (``None`` when none were
    targeted). One query."""
    rows = with_results(
        Campaign.objects.filter(
            dealership_id__in=dealership_ids,
            voucher_type__kind=VoucherKind.WIN_BACK,
            status__in=(CampaignStatus.RUNNING, CampaignStatus.FINISHED),
            starts_on__range=(first, last),
        )
    ).values_list("contact_count", "contacted_count", "booked_count", "redeemed_count", "revenue")
    totals = [0, 0, 0, 0, Decimal("0.00")]
    campaigns = 0
    for row in rows:
        campaigns += 1
        totals = [total + value for total, value in zip(totals, row, strict=True)]
    targeted, contacted, booked, redeemed, revenue = totals
    return {
        "campaigns": campaigns,
        "targeted": targeted,
        "contacted": contacted,
        "booked": booked,
        "vouchers_redeemed": redeemed,
        "revenue": revenue,
        "win_back_rate": rate(redeemed, targeted),
    }

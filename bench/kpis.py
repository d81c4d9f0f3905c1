"""``make bench``: the KPI dashboards and ``/api/kpis/`` over three years of ten rooftops, at full size and at 1%.

Each scale (``--scales``, a fraction of the full size; default 0.01 and 1) gets a database of its own,
``dms_bench_kpis_0``, ``_1``, … (``bench.service``'s ``ServiceBench`` gives the per-scale database and
the switching of Django's connection between them), re-created and migrated, with the same ten
Shanghai rooftops and staff at every scale: 5 service advisors, 5 sales consultants, 3 technicians and
2 customer specialists each, business hours every day, 5 lost reasons, 8 demo cars, two questionnaires,
this month's targets, and a manager of all ten. Then, in SQL (``INSERT … SELECT FROM generate_series``),
``scale ×`` the full history, spread uniformly over the 3 years before today (in opening hours, local
time), row ``j`` of each kind at rooftop ``(j - 1) mod 10``:

* service: 3,000,000 repair orders on 500,000 vehicles (six visits each), 97% delivered and 3% cancelled,
  each with 1–2 labour lines (the second additional work, decided, one in seven declined) and 1–3 parts
  lines (the third additional), a promised time (on time about 80%), 3% comebacks, 55% from an
  appointment (arrived), 5% more appointments missed (no-show, cancelled), a job with its clocked time
  on one delivered order in twenty (a sample);
* sales: 1,000,000 leads (a customer each), a call and a showroom visit each, a test drive on a third
  of them (never two on one demo car at once), an order on 12% (quote, stock car; delivered 20 days
  after the order, one in twelve cancelled), 45% lost with a reason (approved), the rest dormant;
* customer care: 1,000,000 follow-ups (delivery and service follow-ups with their 48 h window, done in
  time, late, failed or cancelled; reminders and surveys sent; maintenance and lead calls) with their
  call attempts, 30,000 complaints (closed) and 200,000 surveys (60% answered with a score).

What is "now" does not grow with the history, as a real dealership's does not: at every scale each
rooftop has the same 10 open repair orders, 20 open leads (some overdue), 10 open follow-ups, 2 open
complaints and 10 surveys waiting (its latest rows of each). The secondary indexes and foreign keys of
the loaded tables are dropped for the load and rebuilt after it (not those of the test drives, whose
exclusion constraint stays). The KPI triggers log stale days all through the load; then
``dms.rollups.refresh()`` recomputes every one of them (timed: ``kpis-rollup-build``), the nightly
retention snapshot is stored (``crm.kpis.retention_snapshots_store``), and everything is vacuumed,
analysed and checkpointed.

Then, logged in through the Django test client as the manager (all ten rooftops, no filter), every
page of every scale is requested in turn, one of each a round (Django's connection switched between the
scales' databases, untimed; a garbage collection between rounds), ``--requests`` rounds after
``--warmup`` untimed ones: ``/dashboard/service/``, ``/dashboard/sales/``, ``/dashboard/care/`` and
``/api/kpis/`` (every dashboard), each with ``?preset=this_month`` and ``?preset=this_year``. A page
that answers 404 or fails (not written yet) is skipped with a ``kpis-skip`` line and measured once it
exists. After the timing, at every scale: the rollups of this year against the same counters computed
from the raw rows (``rollups.raw_facts`` == ``rollups.read_periods``, every registered metric), and
figures written by hand in SQL against ``/api/kpis/?preset=this_year`` (orders opened and delivered,
labour and parts revenue, leads, orders, deliveries, surveys answered and their mean score, complaints);
and, for information, what one stale day (one rooftop's yesterday) costs the next ``rollups.refresh()``.

JSON lines on stdout: ``kpis-load`` per scale (rows and seconds per phase), ``kpis-rollup-build`` per
scale (seconds, days recomputed, rows in ``dms_kpirollup``), ``kpis-page`` per scale, page and preset
(p50/p95 ms, queries per request, SQL share, bytes), ``kpis-summary`` per page and preset: p95 at the
largest scale within 1.5× p95 at the smallest (a dashboard's cost follows the period shown, not the
history stored) and the same query count; ``kpis-period-summary`` per page and scale: this year's p95
within 2× this month's; ``kpis-equality``, ``kpis-figure`` and ``kpis-refresh`` per scale;
``kpis-explain`` with the plan of the slowest statement behind a goal missed (EXPLAIN ANALYZE, largest
scale); and ``kpis-goals``, all goals at once. The cache is a Redis server of the benchmark's own; with ``DATABASE_URL`` set, the
databases are created on that server instead of the embedded one, and dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import statistics
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from bench.care import drop_databases
from bench.load import Laps, SecondaryDdl, _session, restore_after_load, vacuum_analyze
from bench.sales import SqlClock, _describe
from bench.search import (
    checked_scale_options,
    emit,
    emit_scale_summaries,
    recreate_bench_database,
    scale_parser,
    setup_django,
    with_private_redis,
)
from bench.service import (
    COLOURS,
    CONCERNS,
    GIVEN,
    MODELS,
    OPERATIONS,
    PART_NAMES,
    SURNAMES,
    ServiceBench,
    _coprime,
    create_staff,
)

BENCH_DATABASE = "dms_bench_kpis"
DEFAULT_SCALES = (0.01, 1.0)
FULL_REPAIR_ORDERS = 3_000_000
FULL_LEADS = 1_000_000
FULL_FOLLOWUPS = 1_000_000
FULL_COMPLAINTS = 30_000
FULL_SURVEYS = 200_000
VISITS_PER_VEHICLE = 6  # over the three years: every six months
HISTORY_DAYS = 3 * 365
ZONE = "Asia/Shanghai"
ROOFTOPS = 10
PROVINCES = ("沪", "京", "粤", "苏", "浙", "川", "鄂", "湘", "鲁", "闽")
ADVISORS, CONSULTANTS, TECHNICIANS, SPECIALISTS = 5, 5, 3, 2  # per rooftop
DEMO_CARS = 8  # per rooftop: a lead's drive is on car (its number at the rooftop) mod 8, so none overlap
PARTS = 200  # per rooftop
LOST_REASONS = ("价格", "买了竞品", "在别家店买了", "暂缓购车", "联系不上")
UNSOLD_CARS = 30  # per rooftop
# "Now", the same at every scale: each rooftop's latest rows of each kind are the open ones.
OPEN_REPAIR_ORDERS = 10
OPEN_LEADS = 20
OPEN_FOLLOWUPS = 10
OPEN_COMPLAINTS = 2
SENT_SURVEYS = 10
JOB_SAMPLE = 20  # one delivered order in JOB_SAMPLE has its job and clocked time
SCALE_GOAL = 1.5  # p95 at the largest scale over p95 at the smallest
PERIOD_GOAL = 2.0  # p95 of this year over p95 of this month, at the largest scale
PAGES = {
    "service": "/dashboard/service/",
    "sales": "/dashboard/sales/",
    "care": "/dashboard/care/",
    "api": "/api/kpis/",
}
PRESETS = ("this_month", "this_year")
LOADED_TABLES = (
    "crm_customer",
    "crm_vehicle",
    "service_repairorder",
    "service_labourline",
    "service_partline",
    "service_appointment",
    "service_job",
    "service_timeentry",
    "sales_lead",
    "sales_activity",
    "sales_stockvehicle",
    "sales_quote",
    "sales_order",
    "followup_followup",
    "followup_attempt",
    "crm_complaint",
    "crm_surveyresponse",
)
# Filled with explicit ids: their sequences are moved past them after the load.
WITH_EXPLICIT_IDS = (
    "crm_customer",
    "crm_vehicle",
    "service_part",
    "service_repairorder",
    "service_appointment",
    "service_job",
    "sales_lead",
    "sales_stockvehicle",
    "sales_quote",
    "sales_order",
    "followup_followup",
    "crm_complaint",
    "crm_surveyresponse",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = scale_parser(
        "python -m bench.kpis",
        __doc__,
        scales_help="comma-separated fractions of 3,000,000 repair orders, 1,000,000 leads and 1,000,000 follow-ups;"
        " default 0.01,1",
        requests=30,
        warmup=3,
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases (default: drop them at the end)")
    return checked_scale_options(
        parser, argv, default_scales=DEFAULT_SCALES, smallest="3,000 repair orders and 1,000 leads over ten rooftops"
    )


def _at(index: str, count: str, start: str, minutes: int) -> str:
    """Row ``index`` (1-based, bigint) of ``count``: its instant, the rows spread evenly over the history's
    days (from ``first_day`` to yesterday) and, within a day, over ``minutes`` from ``start`` local time."""
    return (
        f"((%(first_day)s::date + (({index} - 1) * %(days)s / %({count})s)::int) + time '{start}'"
        f" + ((({index} - 1) * %(days)s %% %({count})s) * {minutes} / %({count})s) * interval '1 minute')"
        " AT TIME ZONE %(zone)s"
    )


def _rooftop(index: str) -> str:
    return f"(%(rooftops)s::bigint[])[1 + ({index} - 1) %% %(n)s]"


# A lead's order: 9 days after the lead came in (half-way to now for the newest), delivered 20 days later
# when that is past. The leads, stock, quotes and orders statements all read them from here.
ORDERED_AT = "({c} + least(interval '9 days', (%(now)s - {c}) / 2))"
DELIVERED_AT = (
    "CASE WHEN {c} + least(interval '9 days', (%(now)s - {c}) / 2) + interval '20 days' < %(now)s"
    " THEN {c} + least(interval '9 days', (%(now)s - {c}) / 2) + interval '20 days' END"
)
# u = (id × 37) mod 100 decides a lead's fate: < 11 ordered, 11 ordered then cancelled (lost), < 21 and
# 36–70 lost, the rest dormant; < 9 and 12–35 test-driven. A rooftop's latest OPEN_LEADS are open instead.
LEAD_OPEN = "((id - 1) / %(n)s >= %(leads_per_rooftop)s - %(open_leads)s)"
BUYER = f"(NOT {LEAD_OPEN} AND (id * 37) %% 100 < 12)"
TEST_DRIVEN = "((id * 37) %% 100 < 9 OR (id * 37) %% 100 BETWEEN 12 AND 35)"
MESSAGE_KINDS_SQL = "('appointment_reminder', 'survey')"
TWO_DAY_SQL = "('delivery_followup', 'service_followup')"

# (name, statement), in dependency order (the foreign keys are dropped during the load and re-validated
# after it; the test drives keep theirs).
LOAD_SQL = (
    (
        "customers",
        f"""
        INSERT INTO crm_customer (
            id, dealership_id, kind, full_name, salutation, mobile, other_phone, email, preferred_channel,
            marketing_consent, source, notes, address, id_number, tags, version, created_at, updated_at)
        SELECT i, {_rooftop("i")}, 'person',
            (%(surnames)s::text[])[1 + i %% 16] || (%(given)s::text[])[1 + (i / 16) %% 16]
                || CASE WHEN i %% 3 = 0 THEN (%(given)s::text[])[1 + (i / 256) %% 16] ELSE '' END,
            (ARRAY['mr', 'ms'])[1 + i %% 2], '+86137' || lpad(i::text, 8, '0'), '', '',
            (ARRAY['phone', 'wechat', 'sms'])[1 + i %% 3], i %% 4 = 0,
            (ARRAY['walk_in', 'phone', 'web', 'referral', 'service'])[1 + i %% 5], '', '', '', '{{}}', 1, at, at
        FROM (SELECT i, {_at("i", "customers", "09:00", 540)} AS at FROM generate_series(1::bigint, %(customers)s) AS i) g
        """,
    ),
    (
        "vehicles",
        f"""
        INSERT INTO crm_vehicle (
            id, dealership_id, owner_id, vin, plate, make, model, trim, year, colour, purchased_on,
            warranty_ends_on, odometer_km, version, created_at, updated_at, sales_channel)
        SELECT i, {_rooftop("i")}, i, 'LSVKP' || lpad(i::text, 12, '0'),
            (%(provinces)s::text[])[1 + (i - 1) %% %(n)s]
                || (ARRAY['A','B','C','D','E','F','G','H','J','K','L','M','N'])[1 + (i / 100000) %% 13]
                || lpad((i %% 100000)::text, 5, '0'),
            '大众', (%(models)s::text[])[1 + i %% 8], '', 2018 + i %% 8, (%(colours)s::text[])[1 + i %% 6],
            purchased, purchased + 3 * 365, 20000 + (i * 37) %% 60000, 1,
            purchased::timestamp AT TIME ZONE %(zone)s, purchased::timestamp AT TIME ZONE %(zone)s,
            (ARRAY['own', 'own', 'own', 'secondary', 'other_dealer'])[1 + i %% 5]
        FROM (SELECT i, %(first_day)s::date - (i %% 1500)::int - 30 AS purchased
              FROM generate_series(1::bigint, %(vehicles)s) AS i) g
        """,
    ),
    (
        "parts",
        """
        INSERT INTO service_part (id, dealership_id, part_number, description, unit_price, stock_on_hand, unit)
        SELECT r * %(parts)s + m + 1, (%(rooftops)s::bigint[])[1 + r], 'P' || lpad(m::text, 6, '0'),
            (%(part_names)s::text[])[1 + m %% 8] || ' ' || m, 20 + (m * 37) %% 800, 10 + m %% 50, '件'
        FROM generate_series(0, %(n)s - 1) AS r, generate_series(0, %(parts)s - 1) AS m
        """,
    ),
    (
        # Order j: rooftop p = (j - 1) mod 10, its number q = (j - 1) / 10 there; the rooftop's vehicles
        # visited in a scattered order; numbered gap-free per rooftop and year.
        "repair_orders",
        f"""
        INSERT INTO service_repairorder (
            id, dealership_id, number, year, sequence, customer_id, vehicle_id, appointment_id, advisor_id,
            service_type, status, pay_type, is_comeback, odometer_km, fuel_level, valuables, warning_lights,
            concern, diagnosis, promised_at, payment_method, old_parts, free_wash, discount_amount, tax_rate,
            approved_by_name, approved_at, approval_channel, rework_count, checked_in_at, ready_at, delivered_at,
            paid_at, version, updated_by_id, created_by_id, created_at, updated_at)
        SELECT j, rooftop, code || '-' || year || '-' || lpad(sequence::text, 6, '0'), year, sequence,
            vehicle, vehicle, CASE WHEN j %% 20 < 11 THEN j END, advisor,
            CASE WHEN j %% 20 < 11 THEN 'maintenance' WHEN j %% 20 < 18 THEN 'repair' ELSE 'quick' END,
            status, pay_type, j %% 33 = 7, 20000 + (j * 37) %% 80000, (ARRAY[25, 50, 75])[1 + j %% 3], '', '',
            (%(concerns)s::text[])[1 + j %% 6], '', CASE WHEN j %% 25 <> 3 THEN at + interval '4 hours' END,
            CASE pay_type WHEN 'warranty' THEN 'warranty_claim' WHEN 'internal' THEN 'internal'
                ELSE (ARRAY['wechat', 'alipay', 'card', 'wechat', 'cash'])[1 + j %% 5] END,
            CASE WHEN pay_type = 'warranty' THEN 'warranty' ELSE 'return' END, true,
            CASE WHEN j %% 10 = 0 THEN 50 ELSE 0 END, 0.1300,
            CASE WHEN status IN ('estimate', 'cancelled') THEN '' ELSE '车主本人' END,
            CASE WHEN status NOT IN ('estimate', 'cancelled') THEN at + interval '20 minutes' END,
            CASE WHEN status IN ('estimate', 'cancelled') THEN '' ELSE 'in_person' END, 0, at,
            CASE WHEN status = 'delivered' THEN delivered - interval '30 minutes'
                WHEN status = 'ready' THEN at + interval '3 hours' END,
            delivered, CASE WHEN status = 'delivered' AND pay_type = 'customer' THEN delivered END,
            1, advisor, advisor, at, coalesce(delivered, at + interval '1 hour')
        FROM (
            SELECT *, row_number() OVER (PARTITION BY p, year ORDER BY j) AS sequence
            FROM (
                SELECT j, p, at, status, (%(rooftops)s::bigint[])[1 + p] AS rooftop, (%(codes)s::text[])[1 + p] AS code,
                    %(n)s * ((q * %(spread)s) %% %(vehicles_per_rooftop)s) + 1 + p AS vehicle,
                    (%(advisors)s::bigint[])[1 + p][1 + q %% {ADVISORS}] AS advisor,
                    extract(year FROM at AT TIME ZONE %(zone)s)::int AS year,
                    CASE WHEN status = 'delivered' THEN at + (120 + (j * 37) %% 150) * interval '1 minute' END
                        AS delivered,
                    CASE WHEN j %% 13 = 5 THEN 'warranty' WHEN j %% 50 = 7 THEN 'internal' ELSE 'customer' END
                        AS pay_type
                FROM (
                    SELECT *, CASE WHEN q >= %(ros_per_rooftop)s - %(open_ros)s
                            THEN (ARRAY['estimate', 'approved', 'in_progress', 'waiting_parts', 'quality_check',
                                'ready'])[1 + q %% 6]
                            WHEN j %% 33 = 0 THEN 'cancelled' ELSE 'delivered' END AS status
                    FROM (
                        SELECT j, (j - 1) %% %(n)s AS p, (j - 1) / %(n)s AS q, {_at("j", "ros", "08:00", 540)} AS at
                        FROM generate_series(1::bigint, %(ros)s) AS j
                    ) g
                ) s
            ) h
        ) numbered
        """,
    ),
    (
        "repair_order_counters",
        """
        INSERT INTO service_repairordercounter (dealership_id, year, last)
        SELECT dealership_id, year, max(sequence) FROM service_repairorder GROUP BY dealership_id, year
        """,
    ),
    (
        "appointments",
        f"""
        INSERT INTO service_appointment (
            id, dealership_id, customer_id, vehicle_id, advisor_id, service_type, starts_at, ends_at, concern,
            parts_to_reserve, status, version, created_by_id, created_at, updated_at)
        SELECT appointment_id, dealership_id, customer_id, vehicle_id, advisor_id, service_type,
            date_trunc('hour', checked_in_at), date_trunc('hour', checked_in_at) + interval '1 hour', concern, '',
            'arrived', 1, advisor_id, checked_in_at - interval '3 days', checked_in_at
        FROM service_repairorder WHERE appointment_id IS NOT NULL
        UNION ALL
        SELECT %(ros)s + m, (%(rooftops)s::bigint[])[1 + p], vehicle, vehicle, advisor, 'maintenance', at,
            at + interval '1 hour', '', '', CASE WHEN m %% 3 = 0 THEN 'cancelled' ELSE 'no_show' END, 1, advisor,
            at - interval '3 days', at + interval '2 hours'
        FROM (
            SELECT m, p, at, %(n)s * ((q * 7919) %% %(vehicles_per_rooftop)s) + 1 + p AS vehicle,
                (%(advisors)s::bigint[])[1 + p][1 + (q + 2) %% {ADVISORS}] AS advisor
            FROM (
                SELECT m, (m - 1) %% %(n)s AS p, (m - 1) / %(n)s AS q, {_at("m", "missed", "10:00", 420)} AS at
                FROM generate_series(1::bigint, %(missed)s) AS m
            ) g
        ) missed
        """,
    ),
    (
        "labour_lines",
        f"""
        INSERT INTO service_labourline (
            repair_order_id, description, pay_type, discount_amount, status, is_additional, note, added_by_id,
            decided_by_name, decided_at, decided_channel, created_at, operation_code, hours, rate, technician_id)
        SELECT r.id, (%(op_names)s::text[])[1 + (r.id + n) %% 6], r.pay_type,
            CASE WHEN r.id %% 9 = 0 THEN 20 ELSE 0 END,
            CASE WHEN n = 2 AND r.id %% 7 = 0 THEN 'declined' ELSE 'approved' END, n = 2, '', r.advisor_id,
            CASE WHEN n = 2 THEN '车主本人' ELSE '' END,
            CASE WHEN n = 2 THEN r.checked_in_at + interval '2 hours' END,
            CASE WHEN n = 2 THEN 'phone' ELSE '' END,
            r.checked_in_at + (n - 1) * interval '90 minutes', (%(op_codes)s::text[])[1 + (r.id + n) %% 6],
            (%(op_hours)s::numeric[])[1 + (r.id + n) %% 6], 300.00,
            (%(technicians)s::bigint[])[1 + (r.id - 1) %% %(n)s][1 + ((r.id - 1) / %(n)s + n) %% {TECHNICIANS}]
        FROM service_repairorder AS r CROSS JOIN LATERAL generate_series(1, 1 + (r.id %% 5 < 2)::int) AS n
        """,
    ),
    (
        "part_lines",
        """
        INSERT INTO service_partline (
            repair_order_id, part_id, description, pay_type, discount_amount, status, is_additional, note,
            added_by_id, decided_by_name, decided_at, decided_channel, created_at, part_number, quantity, unit_price,
            to_order, issued_quantity)
        SELECT r.id, part.id, part.description, r.pay_type, CASE WHEN r.id %% 11 = 0 THEN 10 ELSE 0 END,
            CASE WHEN n = 3 AND r.id %% 4 = 0 THEN 'declined' ELSE 'approved' END, n = 3, '', r.advisor_id,
            CASE WHEN n = 3 THEN '车主本人' ELSE '' END,
            CASE WHEN n = 3 THEN r.checked_in_at + interval '150 minutes' END,
            CASE WHEN n = 3 THEN 'phone' ELSE '' END,
            r.checked_in_at, part.part_number, quantity, part.unit_price, false,
            CASE WHEN r.status = 'delivered' THEN quantity ELSE 0 END
        FROM (
            SELECT r.id, r.pay_type, r.advisor_id, r.checked_in_at, r.status, n,
                (ARRAY[1, 1, 2, 4])[1 + (r.id + n) %% 4] AS quantity,
                ((r.id - 1) %% %(n)s) * %(parts)s + (r.id * 7 + n * 13) %% %(parts)s + 1 AS part_id
            FROM service_repairorder AS r CROSS JOIN LATERAL generate_series(1, 1 + (r.id %% 3)::int) AS n
        ) AS r
        JOIN service_part AS part ON part.id = r.part_id
        """,
    ),
    (
        "jobs",
        f"""
        INSERT INTO service_job (id, repair_order_id, technician_id, bay, planned_hours, created_at)
        SELECT id, id, (%(technicians)s::bigint[])[1 + (id - 1) %% %(n)s][1 + ((id - 1) / %(n)s) %% {TECHNICIANS}],
            'B' || (1 + id %% 8), 1.5, checked_in_at + interval '30 minutes'
        FROM service_repairorder WHERE status = 'delivered' AND ((id - 1) / %(n)s) %% %(job_sample)s = 0
        """,
    ),
    (
        "time_entries",
        """
        INSERT INTO service_timeentry (job_id, technician_id, started_at, ended_at)
        SELECT id, technician_id, created_at + interval '10 minutes', created_at + interval '100 minutes'
        FROM service_job
        """,
    ),
    (
        "leads",
        f"""
        INSERT INTO sales_lead (
            id, dealership_id, customer_id, owner_id, source, referrer_id, model_of_interest, budget,
            intended_use, timeframe, trade_in, finance_need, stage, grade, last_contact_at, next_followup_on,
            lost_review, lost_reason_id, lost_note, stage_before_lost, version, updated_by_id, created_at,
            updated_at)
        SELECT id, (%(rooftops)s::bigint[])[1 + p], id, owner,
            (ARRAY['walk_in', 'phone', 'web', 'referral', 'event', 'secondary', 'other'])[1 + (q * 3 + p) %% 7],
            NULL, (%(models)s::text[])[1 + id %% 8], 150000 + (id %% 20) * 10000,
            (ARRAY['家用代步', '上下班通勤', '周末自驾游', '商务接待'])[1 + id %% 4],
            CASE grade WHEN 'H' THEN 'week' WHEN 'A' THEN 'fortnight' WHEN 'B' THEN 'month' WHEN 'C' THEN 'later'
                ELSE '' END,
            CASE WHEN id %% 5 = 0 THEN '大众 宝来 2016' ELSE '' END, id %% 3 = 0, stage, grade,
            CASE WHEN stage <> 'new' THEN least(created + interval '1 day', %(now)s - interval '1 hour') END,
            CASE WHEN open THEN %(today)s::date + (q %% 7)::int - 3 END,
            CASE WHEN stage = 'lost' THEN 'approved' ELSE '' END,
            CASE WHEN stage = 'lost' THEN p * {len(LOST_REASONS)} + 1 + (id / 7) %% {len(LOST_REASONS)} END,
            CASE WHEN stage = 'lost' THEN '客户已在别处购车' ELSE '' END,
            CASE WHEN stage = 'lost' THEN 'negotiating' ELSE '' END,
            1, owner, created, CASE WHEN open THEN created ELSE least(created + interval '20 days', %(now)s) END
        FROM (
            SELECT *, CASE WHEN stage = 'new' THEN '' ELSE (ARRAY['H', 'A', 'B', 'C'])[1 + id %% 4] END AS grade
            FROM (
                SELECT *,
                    CASE WHEN open THEN (ARRAY['new', 'contacted', 'needs_analysed', 'presented', 'test_driven',
                            'negotiating'])[1 + q %% 6]
                        WHEN u < 11 THEN CASE WHEN delivered IS NOT NULL THEN 'delivered' ELSE 'ordered' END
                        WHEN u < 21 OR u BETWEEN 36 AND 70 THEN 'lost'
                        ELSE 'dormant' END AS stage
                FROM (
                    SELECT id, p, q, created, (id * 37) %% 100 AS u, {LEAD_OPEN} AS open,
                        (%(consultants)s::bigint[])[1 + p][1 + q %% {CONSULTANTS}] AS owner,
                        {DELIVERED_AT.format(c="created")} AS delivered
                    FROM (
                        SELECT id, (id - 1) %% %(n)s AS p, (id - 1) / %(n)s AS q,
                            {_at("id", "leads", "09:00", 540)} AS created
                        FROM generate_series(1::bigint, %(leads)s) AS id
                    ) g
                ) l
            ) s
        ) graded
        """,
    ),
    (
        "activities",
        """
        INSERT INTO sales_activity (
            dealership_id, lead_id, kind, actor_id, occurred_at, ended_at, party_size, outcome, next_step)
        SELECT l.dealership_id, l.id, a.kind, l.owner_id, at, CASE WHEN a.kind = 'visit' THEN at + interval '70 minutes' END,
            CASE WHEN a.kind = 'visit' THEN 1 + l.id %% 4 END, a.outcome, ''
        FROM sales_lead AS l
        CROSS JOIN (VALUES ('call', interval '2 hours', '电话沟通,客户关注油耗'), ('visit', interval '25 hours', '到店看车'))
            AS a(kind, after, outcome)
        CROSS JOIN LATERAL (SELECT least(l.created_at + a.after, %(now)s - interval '5 minutes') AS at) AS t
        """,
    ),
    (
        "test_drives",
        f"""
        INSERT INTO sales_testdrive (
            dealership_id, lead_id, demo_vehicle_id, starts_at, ends_at, licence_number, licence_expires_on, status,
            feedback, booked_by_id, created_at)
        SELECT dealership_id, id, ((id - 1) %% %(n)s) * {DEMO_CARS} + 1 + ((id - 1) / %(n)s) %% {DEMO_CARS},
            created_at + interval '1 day', created_at + interval '1 day 30 minutes',
            '310101199001' || lpad((id %% 1000000)::text, 6, '0'), %(today)s::date + 1000,
            CASE WHEN created_at + interval '1 day 30 minutes' < %(now)s THEN 'done' ELSE 'booked' END,
            CASE WHEN created_at + interval '1 day 30 minutes' < %(now)s THEN '动力满意' ELSE '' END, owner_id,
            created_at + interval '2 hours'
        FROM sales_lead WHERE {TEST_DRIVEN}
        """,
    ),
    (
        "stock",
        f"""
        INSERT INTO sales_stockvehicle (
            id, dealership_id, vin, make, model, trim, colour, options, list_price, status, arrived_on)
        SELECT id, dealership_id, 'LSVST' || lpad(id::text, 12, '0'), '大众', model_of_interest, '', '白色', '', budget,
            CASE WHEN stage = 'delivered' THEN 'delivered' WHEN (id * 37) %% 100 = 11 THEN 'in_stock' ELSE 'sold' END,
            (created_at AT TIME ZONE %(zone)s)::date - 10
        FROM sales_lead WHERE {BUYER}
        UNION ALL
        SELECT %(leads)s + m, {_rooftop("m")}, 'LSVUS' || lpad(m::text, 12, '0'), '大众',
            (%(models)s::text[])[1 + m %% 8], '', '黑色', '', 180000, 'in_stock', %(today)s::date - (m %% 120)::int
        FROM generate_series(1::bigint, %(n)s * {UNSOLD_CARS}) AS m
        """,
    ),
    (
        "quotes",
        f"""
        INSERT INTO sales_quote (
            id, dealership_id, lead_id, version, stock_vehicle_id, model, list_price, discount, accessories,
            accessories_price, trade_in_value, insurance, total, accepted_at, created_by_id, created_at)
        SELECT id, dealership_id, id, 1, id, model_of_interest, budget, 3000, '', 0, 0, 6800, budget - 3000 + 6800,
            ordered, owner_id, created_at + (ordered - created_at) / 2
        FROM (SELECT *, {ORDERED_AT.format(c="created_at")} AS ordered FROM sales_lead WHERE {BUYER}) AS l
        """,
    ),
    (
        "orders",
        f"""
        INSERT INTO sales_order (
            id, dealership_id, number, lead_id, customer_id, quote_id, stock_vehicle_id, consultant_id, total,
            deposit, paid, status, delivery_at, pdi_checklist, documents_checklist, delivered_at, version,
            created_at, updated_at)
        SELECT l.id, l.dealership_id, 'C' || lpad(l.id::text, 9, '0'), l.id, l.customer_id, l.id, l.id, l.owner_id,
            q.total, 10000, CASE WHEN status = 'cancelled' THEN 0 ELSE q.total END, status, delivered, '{{}}', '{{}}',
            delivered, 1, ordered, coalesce(delivered, ordered)
        FROM (
            SELECT *, CASE WHEN (id * 37) %% 100 = 11 THEN 'cancelled' WHEN delivered IS NOT NULL THEN 'delivered'
                    ELSE 'paid' END AS status
            FROM (
                SELECT *, {ORDERED_AT.format(c="created_at")} AS ordered,
                    CASE WHEN (id * 37) %% 100 <> 11 THEN {DELIVERED_AT.format(c="created_at")} END AS delivered
                FROM sales_lead WHERE {BUYER}
            ) AS l
        ) AS l
        JOIN sales_quote AS q ON q.id = l.id
        """,
    ),
    (
        # Follow-up m: kind by (m × 7) mod 20, fate by w = (m × 13) mod 100 (< 3 cancelled, < 8 failed, < 15
        # done late, else done in time); a rooftop's latest OPEN_FOLLOWUPS are in the queue instead.
        "followups",
        f"""
        INSERT INTO followup_followup (
            id, dealership_id, kind, customer_id, subject_type_id, subject_id, due_at, window_ends_at, assignee_id,
            team, status, attempts, outcome, satisfaction, notes, data, claimed_by, done_at, created_at, updated_at)
        SELECT m, (%(rooftops)s::bigint[])[1 + p], kind, customer,
            CASE kind WHEN 'delivery_followup' THEN %(order_type)s WHEN 'lead_followup' THEN %(lead_type)s
                ELSE %(repair_order_type)s END,
            m, due, window_ends, CASE WHEN NOT message THEN assignee END,
            CASE WHEN message THEN '' WHEN kind = 'lead_followup' THEN 'Sales consultant' ELSE 'Customer specialist' END,
            status,
            CASE WHEN status = 'done' AND message THEN 1 WHEN status = 'done' THEN 1 + (w %% 3 = 0)::int
                WHEN status = 'failed' THEN 3 ELSE 0 END,
            CASE WHEN status = 'done' AND message THEN 'sent'
                WHEN status = 'done' THEN (ARRAY['reached', 'booked', 'refused'])[1 + m %% 3]
                WHEN status = 'failed' THEN 'wrong_number' ELSE '' END,
            CASE WHEN status = 'done' AND NOT message AND m %% 3 = 0 THEN 4 + (m %% 2)::int END,
            '', '{{}}', '', done, due - interval '1 day', coalesce(done, due)
        FROM (
            SELECT *,
                CASE WHEN status = 'done' THEN least(
                    CASE WHEN w >= 15 THEN due + interval '3 hours'
                        WHEN window_ends IS NOT NULL THEN window_ends + interval '5 hours'
                        ELSE due + interval '3 days' END,
                    %(now)s - interval '1 minute') END AS done
            FROM (
                SELECT *,
                    CASE WHEN kind IN {TWO_DAY_SQL} THEN due + interval '48 hours' END AS window_ends,
                    kind IN {MESSAGE_KINDS_SQL} AS message,
                    CASE WHEN q >= %(followups_per_rooftop)s - %(open_followups)s
                            THEN (ARRAY['queued', 'in_progress', 'escalated', 'scheduled'])[1 + q %% 4]
                        WHEN w < 3 THEN 'cancelled' WHEN w < 8 THEN 'failed' ELSE 'done' END AS status,
                    CASE WHEN kind = 'lead_followup' THEN (%(consultants)s::bigint[])[1 + p][1 + q %% {CONSULTANTS}]
                        ELSE (%(specialists)s::bigint[])[1 + p][1 + q %% {SPECIALISTS}] END AS assignee,
                    %(n)s * ((q * %(customer_spread)s) %% %(customers_per_rooftop)s) + 1 + p AS customer
                FROM (
                    SELECT m, (m - 1) %% %(n)s AS p, (m - 1) / %(n)s AS q, (m * 13) %% 100 AS w,
                        {_at("m", "followups", "09:00", 540)} AS due,
                        CASE WHEN (m * 7) %% 20 < 3 THEN 'delivery_followup' WHEN (m * 7) %% 20 < 12 THEN 'service_followup'
                            WHEN (m * 7) %% 20 < 14 THEN 'appointment_reminder'
                            WHEN (m * 7) %% 20 < 16 THEN 'maintenance_due'
                            WHEN (m * 7) %% 20 < 18 THEN 'survey' ELSE 'lead_followup' END AS kind
                    FROM generate_series(1::bigint, %(followups)s) AS m
                ) g
            ) k
        ) f
        """,
    ),
    (
        "attempts",
        f"""
        INSERT INTO followup_attempt (
            followup_id, number, actor_id, outcome, satisfaction, refusal_reason, callback_at, notes, created_at)
        SELECT f.id, a.n, f.assignee_id,
            CASE WHEN f.kind IN {MESSAGE_KINDS_SQL} THEN 'sent'
                WHEN f.status = 'failed' THEN CASE WHEN a.n = 3 THEN 'wrong_number' ELSE 'no_answer' END
                WHEN a.n < f.attempts THEN 'no_answer' ELSE f.outcome END,
            CASE WHEN a.n = f.attempts THEN f.satisfaction END,
            CASE WHEN f.outcome = 'refused' AND a.n = f.attempts THEN 'not_interested' ELSE '' END, NULL, '',
            CASE WHEN f.status = 'done' AND a.n = f.attempts THEN f.done_at
                ELSE least(f.due_at + a.n * interval '2 hours', %(now)s - interval '1 minute') END
        FROM followup_followup AS f CROSS JOIN LATERAL generate_series(1, f.attempts) AS a(n)
        WHERE f.attempts > 0
        """,
    ),
    (
        "complaints",
        f"""
        INSERT INTO crm_complaint (
            id, dealership_id, customer_id, source, severity, status, category, subject_type_id, subject_id,
            description, solution, owner_id, due_at, closed_at, version, updated_by_id, created_by_id, created_at,
            updated_at)
        SELECT k, (%(rooftops)s::bigint[])[1 + p], customer,
            (ARRAY['followup_call', 'phone', 'walk_in', 'survey', 'web'])[1 + k %% 5],
            (ARRAY['low', 'medium', 'medium', 'high'])[1 + k %% 4], status,
            (ARRAY['service_quality', 'waiting', 'price', 'attitude', 'parts', 'vehicle', 'sales', 'other'])[1 + k %% 8],
            %(repair_order_type)s, k, '客户反映等待时间过长', CASE WHEN status = 'closed' THEN '致歉并赠送一次保养' ELSE '' END,
            owner, created + interval '72 hours', closed, 1, owner, owner, created, coalesce(closed, created)
        FROM (
            SELECT *, CASE WHEN status = 'closed'
                    THEN least(created + (24 + k %% 120) * interval '1 hour', %(now)s - interval '1 minute') END AS closed
            FROM (
                SELECT k, p, created,
                    CASE WHEN q >= %(complaints_per_rooftop)s - %(open_complaints)s
                        THEN (ARRAY['received', 'investigating'])[1 + q %% 2] ELSE 'closed' END AS status,
                    (%(specialists)s::bigint[])[1 + p][1 + q %% {SPECIALISTS}] AS owner,
                    %(n)s * ((q * 7919) %% %(customers_per_rooftop)s) + 1 + p AS customer
                FROM (
                    SELECT k, (k - 1) %% %(n)s AS p, (k - 1) / %(n)s AS q, {_at("k", "complaints", "10:00", 480)} AS created
                    FROM generate_series(1::bigint, %(complaints)s) AS k
                ) g
            ) s
        ) c
        """,
    ),
    (
        # Survey r: about a service visit (3 in 4, questionnaire 2p + 1) or a delivery (2p + 2); w = (r × 17)
        # mod 10: < 6 answered with a score, < 9 expired, 9 answered without a scored question.
        "surveys",
        f"""
        INSERT INTO crm_surveyresponse (
            id, dealership_id, questionnaire_id, customer_id, subject_type_id, subject_id, staff_id, status, channel,
            expires_at, answered_at, score, created_at)
        SELECT r, (%(rooftops)s::bigint[])[1 + p], 2 * p + CASE WHEN service THEN 1 ELSE 2 END, customer,
            CASE WHEN service THEN %(repair_order_type)s ELSE %(order_type)s END, r,
            CASE WHEN service THEN (%(advisors)s::bigint[])[1 + p][1 + q %% {ADVISORS}]
                ELSE (%(consultants)s::bigint[])[1 + p][1 + q %% {CONSULTANTS}] END,
            status, CASE WHEN status = 'answered' THEN (ARRAY['link', 'call'])[1 + r %% 2] ELSE '' END,
            created + interval '7 days',
            CASE WHEN status = 'answered'
                THEN least(created + (2 + r %% 40) * interval '1 hour', %(now)s - interval '1 minute') END,
            CASE WHEN status = 'answered' AND w < 6 THEN least(100, 55 + (r * 37) %% 46 + (r %% 2) * 0.5) END,
            created
        FROM (
            SELECT r, p, q, w, created, r %% 4 <> 0 AS service,
                CASE WHEN q >= %(surveys_per_rooftop)s - %(sent_surveys)s THEN 'sent'
                    WHEN w < 6 OR w = 9 THEN 'answered' ELSE 'expired' END AS status,
                %(n)s * ((q * 104729) %% %(customers_per_rooftop)s) + 1 + p AS customer
            FROM (
                SELECT r, (r - 1) %% %(n)s AS p, (r - 1) / %(n)s AS q, (r * 17) %% 10 AS w,
                    {_at("r", "surveys", "11:00", 420)} AS created
                FROM generate_series(1::bigint, %(surveys)s) AS r
            ) g
        ) s
        """,
    ),
)

# Hand-written figures for /api/kpis/?preset=this_year: (dashboard, tile keys it may have, what, SQL). The
# bounds are the period's local days as instants; every row belongs to one of the rooftops.
IN_PERIOD = "dealership_id = ANY(%(rooftops)s) AND {column} >= %(starts)s AND {column} < %(ends)s"
FIGURES = (
    (
        "service",
        ("ros_opened",),
        "repair orders checked in, not cancelled",
        "SELECT count(*) FROM service_repairorder WHERE status <> 'cancelled' AND "
        + IN_PERIOD.format(column="checked_in_at"),
    ),
    (
        "service",
        ("ros_delivered",),
        "repair orders delivered",
        "SELECT count(*) FROM service_repairorder WHERE status = 'delivered' AND "
        + IN_PERIOD.format(column="delivered_at"),
    ),
    (
        "service",
        ("labour_revenue",),
        "approved labour of the orders delivered, less line discounts",
        "SELECT coalesce(sum(l.hours * l.rate - l.discount_amount), 0) FROM service_labourline l"
        " JOIN service_repairorder r ON r.id = l.repair_order_id WHERE l.status = 'approved' AND r.status = 'delivered'"
        " AND r." + IN_PERIOD.format(column="r.delivered_at"),
    ),
    (
        "service",
        ("parts_revenue",),
        "approved parts of the orders delivered, less line discounts",
        "SELECT coalesce(sum(l.quantity * l.unit_price - l.discount_amount), 0) FROM service_partline l"
        " JOIN service_repairorder r ON r.id = l.repair_order_id WHERE l.status = 'approved' AND r.status = 'delivered'"
        " AND r." + IN_PERIOD.format(column="r.delivered_at"),
    ),
    (
        "sales",
        ("leads", "new_leads", "leads_created"),
        "leads created",
        "SELECT count(*) FROM sales_lead WHERE " + IN_PERIOD.format(column="created_at"),
    ),
    (
        "sales",
        ("orders", "orders_signed"),
        "orders signed, not cancelled",
        "SELECT count(*) FROM sales_order WHERE status <> 'cancelled' AND " + IN_PERIOD.format(column="created_at"),
    ),
    (
        "sales",
        ("deliveries", "cars_delivered"),
        "cars delivered",
        "SELECT count(*) FROM sales_order WHERE status = 'delivered' AND " + IN_PERIOD.format(column="delivered_at"),
    ),
    (
        "care",
        ("surveys_answered", "csi_responses", "csi_count", "surveys"),
        "surveys answered with a score",
        "SELECT count(*) FROM crm_surveyresponse WHERE status = 'answered' AND score IS NOT NULL AND "
        + IN_PERIOD.format(column="answered_at"),
    ),
    (
        "care",
        ("csi_average", "csi", "csi_score"),
        "mean score of the surveys answered (one decimal)",
        "SELECT round(avg(score), 1) FROM crm_surveyresponse WHERE status = 'answered' AND score IS NOT NULL AND "
        + IN_PERIOD.format(column="answered_at"),
    ),
    (
        "care",
        ("complaints_received", "complaints"),
        "complaints received",
        "SELECT count(*) FROM crm_complaint WHERE " + IN_PERIOD.format(column="created_at"),
    ),
)


def _secondary_ddl(cursor, tables) -> SecondaryDdl:
    """``bench.load.SecondaryDdl`` for ``tables``: all but their primary keys."""
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary ORDER BY 1",
        [list(tables)],
    )
    indexes = tuple(cursor.fetchall())
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, conindid::regclass::text,"
        " CASE WHEN condeferred THEN ' DEFERRABLE INITIALLY DEFERRED'"
        " WHEN condeferrable THEN ' DEFERRABLE' ELSE '' END"
        " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u' ORDER BY 2",
        [list(tables)],
    )
    unique_constraints = tuple(cursor.fetchall())
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f' ORDER BY 2",
        [list(tables)],
    )
    return SecondaryDdl(indexes, unique_constraints, tuple(cursor.fetchall()))


def _sizes(scale: float) -> dict[str, int]:
    """Row counts of a scale, each a multiple of the rooftops (every rooftop has as many)."""

    def per_rooftop(full: int) -> int:
        return max(1, round(full * scale / ROOFTOPS))

    ros = per_rooftop(FULL_REPAIR_ORDERS)
    vehicles = max(1, ros // VISITS_PER_VEHICLE)
    leads = per_rooftop(FULL_LEADS)
    customers = max(leads, vehicles)
    return {
        "ros": ROOFTOPS * ros,
        "ros_per_rooftop": ros,
        "missed": ROOFTOPS * max(1, ros // 20),
        "vehicles": ROOFTOPS * vehicles,
        "vehicles_per_rooftop": vehicles,
        "customers": ROOFTOPS * customers,
        "customers_per_rooftop": customers,
        "leads": ROOFTOPS * leads,
        "leads_per_rooftop": leads,
        "followups": ROOFTOPS * per_rooftop(FULL_FOLLOWUPS),
        "followups_per_rooftop": per_rooftop(FULL_FOLLOWUPS),
        "complaints": ROOFTOPS * per_rooftop(FULL_COMPLAINTS),
        "complaints_per_rooftop": per_rooftop(FULL_COMPLAINTS),
        "surveys": ROOFTOPS * per_rooftop(FULL_SURVEYS),
        "surveys_per_rooftop": per_rooftop(FULL_SURVEYS),
    }


class KpiBench(ServiceBench):
    """One scale: ``bench.service``'s database of its own and the switching of Django's connection to it
    (``__init__``, ``active``, ``connect``), with this benchmark's rooftops, staff, load and pages."""

    def create_staff(self) -> None:
        from django.contrib.auth.models import Group
        from django.contrib.contenttypes.models import ContentType
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from bench.timing import _allowed_host
        from crm.choices import Role, SurveyKind
        from crm.models import BusinessHours, Dealership, Questionnaire, User
        from dms.models import KpiTarget, TargetKpi
        from sales.models import DemoVehicle, Lead, LostReason, Order
        from service.models import RepairOrder

        call_command("migrate", verbosity=0, interactive=False)
        self.zone = ZoneInfo(ZONE)
        self.rooftops = [
            Dealership.objects.create(
                code=f"R{number + 1:02d}",
                name=f"大众4S店 {number + 1}",
                time_zone=ZONE,
                phone_region="CN",
                labour_rate_amount=Decimal("300.00"),
            )
            for number in range(ROOFTOPS)
        ]

        self.advisors = create_staff(self.rooftops, "advisor", Role.SERVICE_ADVISOR, ADVISORS)
        self.consultants = create_staff(self.rooftops, "consultant", Role.SALES_CONSULTANT, CONSULTANTS)
        self.technicians = create_staff(self.rooftops, "technician", Role.TECHNICIAN, TECHNICIANS)
        self.specialists = create_staff(self.rooftops, "specialist", Role.CUSTOMER_SPECIALIST, SPECIALISTS)
        self.manager = User.objects.create_user(username="bench-kpi-manager", full_name="钱经理")
        self.manager.groups.add(Group.objects.get(name=Role.MANAGER.value))
        self.manager.dealerships.set(self.rooftops)
        self.client = Client(HTTP_HOST=_allowed_host())
        self.client.force_login(self.manager)

        BusinessHours.objects.bulk_create(
            BusinessHours(
                dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(18)
            )
            for rooftop in self.rooftops
            for weekday in range(7)
        )
        LostReason.objects.bulk_create(
            LostReason(id=index * len(LOST_REASONS) + number + 1, dealership=rooftop, name=name)
            for index, rooftop in enumerate(self.rooftops)
            for number, name in enumerate(LOST_REASONS)
        )
        DemoVehicle.objects.bulk_create(
            DemoVehicle(
                id=index * DEMO_CARS + number + 1,
                dealership=rooftop,
                model=MODELS[number % len(MODELS)],
                plate=f"{PROVINCES[index]}D{number:03d}试",
                vin=f"LSVDEMO{index:06d}{number:04d}",
            )
            for index, rooftop in enumerate(self.rooftops)
            for number in range(DEMO_CARS)
        )
        Questionnaire.objects.bulk_create(
            Questionnaire(id=2 * index + number + 1, dealership=rooftop, kind=kind, name=name)
            for index, rooftop in enumerate(self.rooftops)
            for number, (kind, name) in enumerate(
                ((SurveyKind.SERVICE_VISIT, "维修保养满意度"), (SurveyKind.SALES_DELIVERY, "新车交付满意度"))
            )
        )
        month = datetime.datetime.now(self.zone).date().replace(day=1)
        goals = {
            TargetKpi.LEADS: 3000,
            TargetKpi.ORDERS: 350,
            TargetKpi.DELIVERIES: 330,
            TargetKpi.RO_DELIVERED: 8000,
            TargetKpi.LABOUR_REVENUE: 3_500_000,
            TargetKpi.PARTS_REVENUE: 5_000_000,
            TargetKpi.SURVEYS: 300,
        }
        KpiTarget.objects.bulk_create(
            KpiTarget(dealership=rooftop, month=month, kpi=kpi, value=Decimal(value))
            for rooftop in self.rooftops
            for kpi, value in goals.items()
        )
        self.content_types = {
            "repair_order_type": ContentType.objects.get_for_model(RepairOrder).pk,
            "order_type": ContentType.objects.get_for_model(Order).pk,
            "lead_type": ContentType.objects.get_for_model(Lead).pk,
        }
        with connection.cursor() as cursor:
            self.ddl = _secondary_ddl(cursor, LOADED_TABLES)

    # --- loading -----------------------------------------------------------------------------

    def load(self) -> dict:
        with self.active():
            return self._load()

    def _load(self) -> dict:
        from django.db import connection

        sizes = _sizes(self.scale)
        now = datetime.datetime.now(datetime.UTC)
        today = now.astimezone(self.zone).date()
        params = {
            **sizes,
            **self.content_types,
            "n": ROOFTOPS,
            "now": now,
            "today": today,
            "first_day": today - datetime.timedelta(days=HISTORY_DAYS),
            "days": HISTORY_DAYS,
            "zone": ZONE,
            "spread": _coprime(sizes["vehicles_per_rooftop"], 7919, 104_729, 1_000_003),
            "customer_spread": _coprime(sizes["customers_per_rooftop"], 7919, 104_729, 1_000_003),
            "open_ros": OPEN_REPAIR_ORDERS,
            "open_leads": OPEN_LEADS,
            "open_followups": OPEN_FOLLOWUPS,
            "open_complaints": OPEN_COMPLAINTS,
            "sent_surveys": SENT_SURVEYS,
            "job_sample": JOB_SAMPLE,
            "parts": PARTS,
            "rooftops": [rooftop.pk for rooftop in self.rooftops],
            "codes": [rooftop.code for rooftop in self.rooftops],
            "provinces": list(PROVINCES),
            "advisors": [[user.pk for user in people] for people in self.advisors],
            "consultants": [[user.pk for user in people] for people in self.consultants],
            "technicians": [[user.pk for user in people] for people in self.technicians],
            "specialists": [[user.pk for user in people] for people in self.specialists],
            "surnames": list(SURNAMES),
            "given": list(GIVEN),
            "models": list(MODELS),
            "colours": list(COLOURS),
            "concerns": list(CONCERNS),
            "op_codes": [code for code, _name, _hours in OPERATIONS],
            "op_names": [name for _code, name, _hours in OPERATIONS],
            "op_hours": [Decimal(hours) for _code, _name, hours in OPERATIONS],
            "part_names": list(PART_NAMES),
        }
        lap = Laps()

        connection.close()  # nothing of Django's holds a lock on the tables while they are loaded
        with _session(self.connect) as cursor:
            cursor.execute("BEGIN")
            self.ddl.drop(cursor)
            cursor.execute("COMMIT")
            cursor.execute("SET work_mem = '256MB'")
            for name, statement in LOAD_SQL:
                cursor.execute(statement, params)
                lap(f"insert_{name}_s")
        restore_after_load(self.connect, self.ddl, lap, WITH_EXPLICIT_IDS)
        with _session(self.connect) as cursor:

            tables = [*LOADED_TABLES, "sales_testdrive", "service_part", "service_repairordercounter"]
            vacuum_analyze(self.connect, tables)
            lap("vacuum_analyze_s")
            counts = {}
            for table in (*LOADED_TABLES, "sales_testdrive", "dms_kpidirty"):
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cursor.fetchone()[0]
            cursor.execute("SELECT status, count(*) FROM service_repairorder GROUP BY 1 ORDER BY 1")
            statuses = dict(cursor.fetchall())
            cursor.execute("SELECT stage, count(*) FROM sales_lead GROUP BY 1 ORDER BY 1")
            stages = dict(cursor.fetchall())
            cursor.execute("SELECT status, count(*) FROM followup_followup GROUP BY 1 ORDER BY 1")
            followups = dict(cursor.fetchall())
        lap.timings["total_s"] = lap.total()
        return {
            "rooftops": ROOFTOPS,
            "first_day": params["first_day"].isoformat(),
            "today": today.isoformat(),
            "rows": counts,
            "repair_orders": statuses,
            "leads": stages,
            "followups": followups,
            **lap.timings,
        }

    def build_rollups(self) -> dict:
        """``rollups.refresh()`` over every day the load logged stale (timed), the nightly retention snapshot,
        then VACUUM ANALYZE and a checkpoint."""
        from django.core.cache import cache
        from django.db import connection

        from dms import rollups

        with self.active():
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*), count(DISTINCT (dealership_id, day)) FROM dms_kpidirty")
                dirty_rows, dirty_days = cursor.fetchone()
            started = time.perf_counter()
            days = rollups.refresh()
            seconds = time.perf_counter() - started
            snapshot: dict = {}
            started = time.perf_counter()
            try:
                from crm.kpis import retention_snapshots_store

                snapshot["retention_rooftops"] = retention_snapshots_store()
            except Exception as error:  # the care dashboard's code is being written: say so, go on
                snapshot["retention_error"] = f"{type(error).__name__}: {error}"
            snapshot["retention_snapshot_s"] = round(time.perf_counter() - started, 2)
            connection.close()
        started = time.perf_counter()
        with _session(self.connect) as cursor:
            for table in ("dms_kpirollup", "dms_kpidirty"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            cursor.execute("CHECKPOINT")
            vacuum_s = time.perf_counter() - started
            cursor.execute("SELECT grain, count(*) FROM dms_kpirollup GROUP BY 1 ORDER BY 1")
            by_grain = dict(cursor.fetchall())
            cursor.execute("SELECT pg_total_relation_size('dms_kpirollup')")
            size = cursor.fetchone()[0]
        cache.clear()  # nothing cached while loading outlives it
        return {
            "dirty_rows": dirty_rows,
            "dirty_days": dirty_days,
            "days_recomputed": days,
            "seconds": round(seconds, 2),
            "rollup_rows": sum(by_grain.values()),
            "rollup_rows_by_grain": by_grain,
            "rollup_mb": round(size / 2**20, 1),
            **snapshot,
            "vacuum_analyze_checkpoint_s": round(vacuum_s, 2),
        }

    # --- checks ------------------------------------------------------------------------------

    def check(self) -> list[dict]:
        with self.active():
            return [self._equality(), *self._figures()]

    def _year(self) -> tuple[datetime.date, datetime.date]:
        from django.utils import timezone

        from dms.periods import preset_period

        period = preset_period("this_year", timezone.localdate())
        return period.first, period.last

    def _equality(self) -> dict:
        """This year's rollups of every metric, all rooftops, against the same counters from the raw rows."""
        from dms import rollups

        names = sorted(rollups.metrics())
        ids = [rooftop.pk for rooftop in self.rooftops]
        first, last = self._year()
        started = time.perf_counter()
        raw = rollups.raw_facts(names, ids, first, last)
        raw_s = time.perf_counter() - started
        started = time.perf_counter()
        rolled = rollups.read_periods(names, ids, {"c": (first, last)})["c"]
        rollup_s = time.perf_counter() - started

        def only(facts: rollups.Facts, name: str) -> rollups.Facts:
            return rollups.Facts({key: value for key, value in facts.counters.items() if key[0] == name})

        mismatched = {
            name: {
                "raw": [raw.n(name), str(raw.total(name))],
                "rollups": [rolled.n(name), str(rolled.total(name))],
            }
            for name in names
            if only(raw, name) != only(rolled, name)
        }
        equal = raw == rolled
        return {
            "bench": "kpis-equality",
            "scale": self.scale,
            "period": [first.isoformat(), last.isoformat()],
            "metrics": len(names),
            "counters": len(raw.counters),
            "rows_counted": sum(n for n, _total in raw.counters.values()),
            "raw_facts_ms": round(raw_s * 1000, 1),
            "read_periods_ms": round(rollup_s * 1000, 1),
            "mismatched": mismatched,
            "goal": "raw_facts == read_periods for every metric",
            "goal_met": equal,
        }

    def _figures(self) -> list[dict]:
        """Each hand-written figure against the tile of ``/api/kpis/?preset=this_year&dashboard=…``."""
        from django.db import connection

        answers: dict[str, tuple[dict | None, str]] = {}
        for name in dict.fromkeys(dashboard for dashboard, *_rest in FIGURES):
            try:
                response = self.client.get(PAGES["api"], {"preset": "this_year", "dashboard": name})
                problem = "" if response.status_code == 200 else f"answered {response.status_code}"
            except Exception as error:
                response, problem = None, f"failed: {type(error).__name__}: {error}"
            answers[name] = (response.json() if not problem else None, problem)
        first, last = self._year()
        rows = []
        for dashboard, keys, what, statement in FIGURES:
            data, problem = answers[dashboard]
            if data is not None:
                first, last = (datetime.date.fromisoformat(data["period"][end]) for end in ("first", "last"))
            starts = datetime.datetime.combine(first, datetime.time(), tzinfo=self.zone)
            ends = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), tzinfo=self.zone)
            with connection.cursor() as cursor:
                cursor.execute(
                    statement, {"rooftops": [rooftop.pk for rooftop in self.rooftops], "starts": starts, "ends": ends}
                )
                value = cursor.fetchone()[0]
            value = None if value is None else float(value)
            record = {"bench": "kpis-figure", "scale": self.scale, "dashboard": dashboard, "what": what, "sql": value}
            kpis = (data or {}).get("dashboards", {}).get(dashboard, {}).get("kpis", {})
            key = next((key for key in keys if key in kpis), None)
            if key is None:
                reason = f"/api/kpis/?dashboard={dashboard} {problem}" if problem else f"no tile {' or '.join(keys)}"
                record.update({"kpi": keys[0], "api": None, "goal_met": None, "skipped": reason})
                if not problem:
                    record["tiles"] = sorted(kpis)
            else:
                api = kpis[key]["value"]
                met = (api is None and value is None) or (
                    api is not None and value is not None and abs(api - value) <= 0.005
                )
                record.update({"kpi": key, "api": api, "goal_met": met})
            rows.append(record)
        return rows

    def refresh_one_day(self, times: int = 3) -> dict:
        """What a write costs the next refresh: one rooftop's yesterday logged stale, ``rollups.refresh()``
        timed (every metric recomputes that day), ``times`` times."""
        from django.db import connection
        from django.utils import timezone

        from dms import rollups

        day = timezone.localdate() - datetime.timedelta(days=1)
        timings = []
        with self.active():
            for _ in range(times):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO dms_kpidirty (dealership_id, day) VALUES (%s, %s)", [self.rooftops[0].pk, day]
                    )
                started = time.perf_counter()
                rollups.refresh()
                timings.append((time.perf_counter() - started) * 1000)
        return {
            "bench": "kpis-refresh",
            "scale": self.scale,
            "stale": [self.rooftops[0].code, day.isoformat()],
            "ms": [round(value, 1) for value in timings],
            "median_ms": round(statistics.median(timings), 1),
        }

    # --- timing ------------------------------------------------------------------------------

    def explain(self, url: str) -> dict:
        """The slowest statement of one request, with its plan (EXPLAIN ANALYZE) in short."""
        from django.db import connection

        with self.active():
            clock = SqlClock()
            with connection.execute_wrapper(clock):
                self.client.get(url)
            seconds, statement, params = clock.slowest
            explained = {"statement_ms": round(seconds * 1000, 2), "queries": clock.queries, "sql": statement}
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params)
                    plan = cursor.fetchone()[0]
                plan = plan if isinstance(plan, list) else json.loads(plan)
                explained.update({"execution_ms": plan[0]["Execution Time"], "plan": _describe(plan[0]["Plan"])[:60]})
        return explained


def _items() -> dict[str, str]:
    """Every page with every preset: ``"service/this_month"`` → its URL."""
    return {f"{page}/{preset}": f"{url}?preset={preset}" for page, url in PAGES.items() for preset in PRESETS}


def time_pages(benches: list[KpiBench], requests: int, warmup: int) -> tuple[dict[float, dict[str, dict]], dict]:
    """Request every page of every scale in turn, one of each a round, so a busy moment of the (shared)
    machine falls on all of them alike; the first ``warmup`` rounds are not timed. A page that answers
    other than 200 at any scale is left out from then on (returned with why)."""
    from django.db import connection

    items = _items()
    skipped: dict[str, dict] = {}
    taken: dict[float, dict[str, dict[str, list]]] = {bench.scale: {} for bench in benches}
    for number in range(requests + warmup):
        gc.collect()  # untimed, between rounds
        for bench in benches:
            with bench.active():
                for name, url in items.items():
                    if name in skipped:
                        continue
                    clock = SqlClock()
                    try:
                        with connection.execute_wrapper(clock):
                            started = time.perf_counter()
                            response = bench.client.get(url)
                            elapsed = time.perf_counter() - started
                        status, problem = response.status_code, ""
                    except Exception as error:  # the test client re-raises what a view raised
                        status, problem = 500, f"{type(error).__name__}: {error}"
                    if status != 200:
                        reason = "no such page yet" if status == 404 else problem or "the page failed"
                        skipped[name] = {"url": url, "scale": bench.scale, "status": status, "reason": reason[:500]}
                        for by_name in taken.values():
                            by_name.pop(name, None)
                        continue
                    if number < warmup:
                        continue
                    values = taken[bench.scale].setdefault(name, {})
                    for key, value in (
                        ("ms", elapsed * 1000),
                        ("queries", clock.queries),
                        ("sql_s", clock.seconds),
                        ("bytes", len(response.content)),
                    ):
                        values.setdefault(key, []).append(value)
    results: dict[float, dict[str, dict]] = {}
    for scale, by_name in taken.items():
        for name, values in by_name.items():
            timings = sorted(values["ms"])
            results.setdefault(scale, {})[name] = {
                "url": items[name],
                "requests": len(timings),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
                "queries": max(values["queries"]),
                "queries_min": min(values["queries"]),
                "sql_share": round(sum(values["sql_s"]) * 1000 / sum(timings), 3),
                "bytes": max(values["bytes"]),
            }
    return results, skipped


def period_summaries(results: dict[float, dict[str, dict]], scales: list[float]) -> list[dict]:
    """Per page and scale: this year's p95 over this month's (the goal holds at the largest scale)."""
    rows = []
    for scale in scales:
        for page in PAGES:
            month, year = (results.get(scale, {}).get(f"{page}/{preset}") for preset in PRESETS)
            if not month or not year:
                continue
            ratio = year["p95_ms"] / month["p95_ms"]
            goal = scale == scales[-1]
            rows.append(
                {
                    "bench": "kpis-period-summary",
                    "page": page,
                    "scale": scale,
                    "p95_this_month_ms": month["p95_ms"],
                    "p95_this_year_ms": year["p95_ms"],
                    "this_year_over_this_month": round(ratio, 2),
                    "queries_this_month": month["queries"],
                    "queries_this_year": year["queries"],
                    "goal": f"<= {PERIOD_GOAL}" if goal else None,
                    "goal_met": ratio <= PERIOD_GOAL if goal else None,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    with_private_redis(run, parse_args(argv))


def run(options: argparse.Namespace) -> None:
    urls = [recreate_bench_database(f"{BENCH_DATABASE}_{index}") for index in range(len(options.scales))]
    benches: list[KpiBench] = []
    try:
        setup_django(urls[0])
        benches = [KpiBench(scale, url) for scale, url in zip(options.scales, urls, strict=True)]
        for bench in benches:
            emit({"bench": "kpis-load", "scale": bench.scale, **bench.load()})
            emit({"bench": "kpis-rollup-build", "scale": bench.scale, **bench.build_rollups()})
        timed, skipped = time_pages(benches, options.requests, options.warmup)
        for name, why in skipped.items():
            emit({"bench": "kpis-skip", "page": name, **why, "note": "not measured in this run"})
        results: dict[str, dict[float, dict]] = {}
        for scale, by_name in timed.items():
            for name, result in by_name.items():
                results.setdefault(name, {})[scale] = result
                emit({"bench": "kpis-page", "page": name, "scale": scale, **result})
        emit_scale_summaries("kpis", results, options.scales, SCALE_GOAL)
        periods = period_summaries(timed, options.scales)
        for row in periods:
            emit(row)
        checks = [row for bench in benches for row in bench.check()]
        checks += [bench.refresh_one_day() for bench in benches]
        for row in checks:
            emit(row)
        report_goals(benches[-1], results, periods, checks, skipped, options.scales)
    finally:
        from django.db import connections

        for bench in benches:
            bench.database.close()
        with contextlib.suppress(Exception):
            connections.close_all()
        if not options.keep:
            drop_databases(urls)


def report_goals(
    largest: KpiBench, results: dict, periods: list[dict], checks: list[dict], skipped: dict, scales: list[float]
) -> None:
    """Explain the slowest statement behind each goal missed (at the largest scale), then every goal at once."""
    small, large = scales[0], scales[-1]
    scale_ratios = {
        name: round(by_scale[large]["p95_ms"] / by_scale[small]["p95_ms"], 2) for name, by_scale in results.items()
    }
    period_ratios = {row["page"]: row["this_year_over_this_month"] for row in periods if row["scale"] == large}
    missed = [name for name, ratio in scale_ratios.items() if ratio > SCALE_GOAL]
    missed += [f"{page}/this_year" for page, ratio in period_ratios.items() if ratio > PERIOD_GOAL]
    for name in dict.fromkeys(missed):
        emit({"bench": "kpis-explain", "page": name, "scale": large, **largest.explain(results[name][large]["url"])})
    equality = [row for row in checks if row["bench"] == "kpis-equality" and row["scale"] == large]
    figures = [row for row in checks if row["bench"] == "kpis-figure" and row["scale"] == large]
    refresh = {row["scale"]: row["median_ms"] for row in checks if row["bench"] == "kpis-refresh"}
    emit(
        {
            "bench": "kpis-goals",
            "small_scale": small,
            "large_scale": large,
            "p95_large_over_small": scale_ratios,
            "scale_goal": f"<= {SCALE_GOAL}",
            "scale_goal_met": all(ratio <= SCALE_GOAL for ratio in scale_ratios.values()),
            "this_year_over_this_month": period_ratios,
            "period_goal": f"<= {PERIOD_GOAL}",
            "period_goal_met": all(ratio <= PERIOD_GOAL for ratio in period_ratios.values()),
            "rollups_equal_raw": all(row["goal_met"] for row in equality),
            "figures_checked": sum(row["goal_met"] is not None for row in figures),
            "figures_met": all(row["goal_met"] for row in figures if row["goal_met"] is not None),
            "figures_not_checked": [row["kpi"] for row in figures if row["goal_met"] is None],
            "pages_skipped": sorted(skipped),
            "refresh_one_day_ms": refresh,  # for information: no goal
        }
    )


if __name__ == "__main__":
    main()

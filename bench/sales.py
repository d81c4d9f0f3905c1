"""``make bench``: the sales pages with 1,000,000 leads and 5,000,000 activities, and at 1%.

The data is shaped like a growing dealer group, not like one consultant with a million leads: every
sales consultant has the same book at every scale, ``LEADS_PER_CONSULTANT`` (500) leads of which 150
are open (new … negotiating, about 40 of them due or overdue today, two lost applications waiting),
10 ordered (two handed over today) and 340 closed ones from up to three years back (delivered, lost,
dormant); each rooftop has ``CONSULTANTS_PER_ROOFTOP`` (10) consultants, a manager and three demo cars.
So the history grows with the scale (``scale × 1,000,000`` leads: 2 rooftops and 20 consultants at
1%, 200 rooftops and 2,000 consultants at full scale) while what one consultant or one rooftop
manager works with does not: that is how a dealer group's data grows (more rooftops, more
consultants), and it is what these pages must not be slowed by. A fixed set of consultants each
holding tens of thousands of leads would time an impossible workload. (At 0.1%, the quick check's
small scale, the one rooftop has 2 consultants, so the manager's views show less there.)

Each scale reloads the database ``dms_bench_sales`` (re-created once, then migrated) in SQL
(``INSERT … SELECT FROM generate_series``): a customer per lead, the leads, 5 activities per lead on
average (calls, visits with party size, presentations, messages, test drives), a quote for every
lead from negotiating on, an order and a stock car for every ordered and delivered lead (plus 50
unsold cars per rooftop), test drives on the rooftop's demo cars that never overlap (three booked
today per consultant) and the rooftops' lost reasons. Secondary indexes and foreign keys of the big
tables are dropped for the load and rebuilt after it; then the tables are vacuumed, analysed and
checkpointed.

Then ``--requests`` rounds (after ``--warmup`` untimed ones) request each page once, through the
Django test client, logged in as the first rooftop's first consultant or its manager:

* ``today``: the consultant's today list, ``GET /sales/today/``;
* ``pipeline``: the consultant's kanban, ``GET /sales/pipeline/``;
* ``pipeline-rooftop``: the manager's kanban of the whole rooftop;
* ``lead-list``: the consultant's leads filtered by stage, grade and source
  (``?stage=negotiating&grade=H&source=walk_in``);
* ``lead-list-rooftop``: the same filter for the manager (the whole rooftop);
* ``lead-list-lost``: the manager's lost leads of one grade and source (history, not pipeline).

JSON lines on stdout: ``{"bench": "sales-load", ...}`` per scale (rows and seconds per phase),
``{"bench": "sales-page", ...}`` per scale and page (p50/p95 ms, queries per request, the share of
the request spent in SQL, rows shown), ``{"bench": "sales-explain", ...}`` per page at the largest
scale (the slowest statement of a request with its EXPLAIN ANALYZE plan, in short) and
``{"bench": "sales-summary", ...}`` per page: p95 at the largest scale over p95 at the smallest (goal:
at most 2) and whether the query count is the same at both (goal). The cache is a Redis server of
the benchmark's own; with ``DATABASE_URL`` set, the database is created on that server instead of
the embedded one.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import re
import statistics
import time
from zoneinfo import ZoneInfo

import psycopg2

from bench.load import Laps, SecondaryDdl, _session, restore_after_load, vacuum_analyze
from bench.search import (
    checked_scale_options,
    emit,
    emit_scale_summaries,
    recreate_bench_database,
    scale_parser,
    setup_django,
    with_private_redis,
)

BENCH_DATABASE = "dms_bench_sales"
DEFAULT_SCALES = (0.01, 1.0)
FULL_LEADS = 1_000_000
ACTIVITIES_PER_LEAD = 5
LEADS_PER_CONSULTANT = 500
CONSULTANTS_PER_ROOFTOP = 10
DEMO_CARS_PER_ROOFTOP = 3
UNSOLD_CARS_PER_ROOFTOP = 50
ZONE = "Asia/Shanghai"
GOAL_RATIO = 2.0
LOADED_TABLES = ("crm_customer", "sales_lead", "sales_activity", "sales_quote", "sales_order", "sales_stockvehicle")
FILTER = {"stage": "negotiating", "grade": "H", "source": "walk_in"}
# page: (who, URL name, query string, what is counted in the HTML as the rows shown)
PAGES = {
    "today": ("consultant", "sales:today", {}, r'class="list-group-item list-group-item-action call-row'),
    "pipeline": ("consultant", "sales:pipeline", {}, r'class="card lead-card'),
    "pipeline-rooftop": ("manager", "sales:pipeline", {}, r'class="card lead-card'),
    "lead-list": ("consultant", "sales:lead-list", FILTER, r'<span class="badge stage-'),
    "lead-list-rooftop": ("manager", "sales:lead-list", FILTER, r'<span class="badge stage-'),
    "lead-list-lost": (
        "manager",
        "sales:lead-list",
        {"stage": "lost", "grade": "B", "source": "web"},
        r'<span class="badge stage-',
    ),
}
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭")
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英")
MODELS = ("朗逸", "速腾", "迈腾", "帕萨特", "途观L", "宝来", "探岳", "ID.4")
NOTES = (
    "电话沟通,客户关注油耗",
    "到店看车",
    "微信发送报价单",
    "六方位绕车介绍",
    "约周末到店",
    "试驾后很满意",
    "全家到店",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = scale_parser(
        "python -m bench.sales",
        __doc__,
        scales_help="comma-separated fractions of 1,000,000 leads and 5,000,000 activities; default 0.01,1",
        requests=200,
        warmup=20,
    )
    return checked_scale_options(
        parser, argv, default_scales=DEFAULT_SCALES, smallest="1,000 leads: two consultants' books"
    )


class SqlClock:
    """A ``connection.execute_wrapper``: counts the statements, sums their time, keeps the slowest."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0
        self.slowest: tuple[float, str, object] = (0.0, "", None)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.seconds += elapsed
            self.queries += 1
            if elapsed > self.slowest[0]:
                self.slowest = (elapsed, sql, params)


class SalesBench:
    """The bench database with its staff, reloaded for each scale, and the two logged-in clients."""

    def __init__(self, database_url: str) -> None:
        from django.db import connection

        self.database_url = database_url
        self.zone = ZoneInfo(ZONE)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
                " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary ORDER BY 1",
                [list(LOADED_TABLES)],
            )
            indexes = tuple(cursor.fetchall())
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, conindid::regclass::text,"
                " CASE WHEN condeferred THEN ' DEFERRABLE INITIALLY DEFERRED'"
                " WHEN condeferrable THEN ' DEFERRABLE' ELSE '' END"
                " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u' ORDER BY 2",
                [list(LOADED_TABLES)],
            )
            unique_constraints = tuple(cursor.fetchall())
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f' ORDER BY 2",
                [list(LOADED_TABLES)],
            )
            self.ddl = SecondaryDdl(indexes, unique_constraints, tuple(cursor.fetchall()))

    def connect(self):
        return psycopg2.connect(self.database_url)

    # --- loading -----------------------------------------------------------------------------

    def load(self, scale: float) -> dict:
        from django.core.cache import cache
        from django.db import connection

        consultants = max(2, round(FULL_LEADS * scale / LEADS_PER_CONSULTANT))
        leads = consultants * LEADS_PER_CONSULTANT
        rooftops = -(-consultants // CONSULTANTS_PER_ROOFTOP)
        lap = Laps()

        connection.close()  # nothing of Django's holds a lock on the tables while they are replaced
        with _session(self.connect) as cursor:
            cursor.execute("BEGIN")
            cursor.execute("TRUNCATE crm_dealership, crm_user RESTART IDENTITY CASCADE")
            self.ddl.drop(cursor)
            cursor.execute("COMMIT")
        staff = self.create_staff(rooftops, consultants)
        lap("truncate_staff_s")
        today = datetime.datetime.now(self.zone).date()
        params = {
            "leads": leads,
            "activities": leads * ACTIVITIES_PER_LEAD,
            "per_consultant": LEADS_PER_CONSULTANT,
            "per_rooftop": CONSULTANTS_PER_ROOFTOP,
            "cars": DEMO_CARS_PER_ROOFTOP,
            "unsold": UNSOLD_CARS_PER_ROOFTOP,
            "rooftop_count": rooftops,
            "today": today,
            "zone": ZONE,
            **staff,
            "surnames": list(SURNAMES),
            "given": list(GIVEN),
            "models": list(MODELS),
            "notes": list(NOTES),
        }
        with _session(self.connect) as cursor:
            cursor.execute("SET work_mem = '256MB'")
            for name, statement in LOAD_SQL:
                cursor.execute(statement, params)
                lap(f"insert_{name}_s")
        restore_after_load(self.connect, self.ddl, lap, LOADED_TABLES)
        with _session(self.connect) as cursor:

            tables = [*LOADED_TABLES, "sales_testdrive", "sales_demovehicle", "sales_lostreason", "crm_user"]
            vacuum_analyze(self.connect, tables)
            cursor.execute("CHECKPOINT")
            lap("vacuum_analyze_checkpoint_s")
            counts = {}
            for table in ("crm_customer", "sales_lead", "sales_activity", "sales_order", "sales_testdrive"):
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table.split("_", 1)[1]] = cursor.fetchone()[0]
            cursor.execute("SELECT stage, count(*) FROM sales_lead GROUP BY stage ORDER BY stage")
            stages = dict(cursor.fetchall())
        cache.clear()  # the staff were re-created behind Django's back: no permission snapshot survives
        self.log_in(staff)
        lap.timings["total_s"] = lap.total()
        return {"rooftops": rooftops, "consultants": consultants, **counts, "stages": stages, **lap.timings}

    def create_staff(self, rooftops: int, consultants: int) -> dict:
        """Rooftops, their consultants and managers (bulk, ids in order), lost reasons and demo cars."""
        from decimal import Decimal

        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group

        from crm.choices import Role
        from crm.models import Dealership, User
        from sales.models import DemoVehicle, LostReason

        dealerships = Dealership.objects.bulk_create(
            Dealership(
                code=f"R{number:03d}",
                name=f"大众4S店 {number}",
                time_zone=ZONE,
                phone_region="CN",
                labour_rate_amount=Decimal("300.00"),
            )
            for number in range(rooftops)
        )
        password = make_password(None)  # unusable: the clients are logged in with force_login
        people = User.objects.bulk_create(
            [
                User(
                    username=f"bench-sales-{number}",
                    full_name=f"{SURNAMES[number % 16]}{GIVEN[number // 16 % 16]}",
                    password=password,
                )
                for number in range(consultants)
            ]
            + [
                User(username=f"bench-manager-{number}", full_name=f"经理{number}", password=password)
                for number in range(rooftops)
            ],
            batch_size=1000,
        )
        sellers, managers = people[:consultants], people[consultants:]
        groups = {role: Group.objects.get(name=role.value) for role in (Role.SALES_CONSULTANT, Role.MANAGER)}
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=user.pk, group_id=groups[Role.SALES_CONSULTANT].pk) for user in sellers]
            + [User.groups.through(user_id=user.pk, group_id=groups[Role.MANAGER].pk) for user in managers],
            batch_size=1000,
        )
        User.dealerships.through.objects.bulk_create(
            [
                User.dealerships.through(user_id=user.pk, dealership_id=dealerships[n // CONSULTANTS_PER_ROOFTOP].pk)
                for n, user in enumerate(sellers)
            ]
            + [
                User.dealerships.through(user_id=user.pk, dealership_id=dealerships[n].pk)
                for n, user in enumerate(managers)
            ],
            batch_size=1000,
        )
        reasons = ("价格", "买了竞品", "在别家店买了", "暂缓购车", "联系不上")
        LostReason.objects.bulk_create(
            [
                LostReason(id=r * 5 + m + 1, dealership=dealership, name=reasons[m])
                for r, dealership in enumerate(dealerships)
                for m in range(5)
            ],
            batch_size=1000,
        )
        DemoVehicle.objects.bulk_create(
            [
                DemoVehicle(
                    id=r * DEMO_CARS_PER_ROOFTOP + m + 1,
                    dealership=dealership,
                    model=MODELS[m],
                    plate=f"沪A{r:03d}{m}试",
                    vin=f"LSVDEMO{r:06d}{m:04d}",
                )
                for r, dealership in enumerate(dealerships)
                for m in range(DEMO_CARS_PER_ROOFTOP)
            ],
            batch_size=1000,
        )
        return {
            "rooftops": [dealership.pk for dealership in dealerships],
            "codes": [dealership.code for dealership in dealerships],
            "consultants": [user.pk for user in sellers],
            "consultant": sellers[0].pk,
            "manager": managers[0].pk,
        }

    def log_in(self, staff: dict) -> None:
        from django.test import Client

        from bench.timing import _allowed_host
        from crm.models import User

        self.clients = {}
        for role, pk in (("consultant", staff["consultant"]), ("manager", staff["manager"])):
            client = Client(HTTP_HOST=_allowed_host())
            client.force_login(User.objects.get(pk=pk))
            self.clients[role] = client

    # --- timing ------------------------------------------------------------------------------

    def time_pages(self, requests: int, warmup: int) -> dict[str, dict]:
        """Each round requests every page once, so a busy moment of the (shared) machine falls on all
        of them alike; the first ``warmup`` rounds are not timed, and a garbage collection runs between
        rounds (untimed), else a full collection lands on whichever page comes first when it is due."""
        from django.db import connection
        from django.urls import reverse

        urls = {name: reverse(url_name) for name, (_role, url_name, _query, _shown) in PAGES.items()}
        taken: dict[str, dict[str, list]] = {name: {} for name in PAGES}
        for number in range(requests + warmup):
            gc.collect()
            for name, (role, _url_name, query, shown) in PAGES.items():
                clock = SqlClock()
                with connection.execute_wrapper(clock):
                    started = time.perf_counter()
                    response = self.clients[role].get(urls[name], query)
                    elapsed = time.perf_counter() - started
                assert response.status_code == 200, (name, response.status_code)
                if number < warmup:
                    continue
                for key, value in (
                    ("ms", elapsed * 1000),
                    ("queries", clock.queries),
                    ("sql_s", clock.seconds),
                    ("shown", len(re.findall(shown, response.content.decode()))),
                ):
                    taken[name].setdefault(key, []).append(value)
        results = {}
        for name, values in taken.items():
            timings = sorted(values["ms"])
            role, _url_name, query, _shown = PAGES[name]
            results[name] = {
                "role": role,
                "url": urls[name] + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else ""),
                "requests": len(timings),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
                "queries": max(values["queries"]),
                "queries_min": min(values["queries"]),
                "sql_share": round(sum(values["sql_s"]) * 1000 / sum(timings), 3),
                "rows_shown": round(statistics.mean(values["shown"]), 1),
            }
        return results

    def explain(self) -> dict[str, dict]:
        """The slowest statement of one request per page, with its plan (EXPLAIN ANALYZE) in short."""
        import json

        from django.db import connection
        from django.urls import reverse

        explained = {}
        for name, (role, url_name, query, _shown) in PAGES.items():
            clock = SqlClock()
            with connection.execute_wrapper(clock):
                self.clients[role].get(reverse(url_name), query)
            seconds, sql, params = clock.slowest
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
                plan = cursor.fetchone()[0]
            plan = plan if isinstance(plan, list) else json.loads(plan)
            lines = _describe(plan[0]["Plan"])
            explained[name] = {
                "statement_ms": round(seconds * 1000, 2),
                "execution_ms": plan[0]["Execution Time"],
                "sql": re.sub(r"SELECT .+? FROM ", "SELECT … FROM ", sql, flags=re.DOTALL),
                "seq_scans": sorted({line.strip() for line in lines if line.strip().startswith("Seq Scan")}),
                "plan": lines[:40],
            }
        return explained


def _describe(node: dict, depth: int = 0) -> list[str]:
    """One line per plan node: its type, relation and index, rows and time (ms, per loop)."""
    line = "  " * depth + node["Node Type"]
    if "Relation Name" in node:
        line += f" on {node['Relation Name']}"
    if "Index Name" in node:
        line += f" using {node['Index Name']}"
    line += f" (rows={node.get('Actual Rows')} loops={node.get('Actual Loops')} ms={node.get('Actual Total Time')})"
    lines = [line]
    for child in node.get("Plans", []):
        lines += _describe(child, depth + 1)
    return lines


# Lead i (1-based) is consultant c = (i - 1) / 500's lead number k = (i - 1) % 500; its rooftop is
# c / 10. k fixes its place in the consultant's book (the same book for every consultant):
#   0–14 new, 15–44 contacted, 45–69 needs analysed, 70–94 presented, 95–114 test-driven,
#   115–149 negotiating (44 and 69 wait for the manager's lost review), 150–159 ordered
#   (150–154 paid, 150 and 151 handed over today), 160–259 delivered, 260–409 lost, 410–499 dormant.
LEAD = """
    (i - 1) %% %(per_consultant)s AS k,
    (i - 1) / %(per_consultant)s AS c,
    (%(rooftops)s::bigint[])[1 + (i - 1) / %(per_consultant)s / %(per_rooftop)s] AS rooftop,
    (%(consultants)s::bigint[])[1 + (i - 1) / %(per_consultant)s] AS owner,
    ((%(today)s::date - CASE
        WHEN (i - 1) %% %(per_consultant)s < 15 THEN (i - 1) %% 3
        WHEN (i - 1) %% %(per_consultant)s < 150 THEN 3 + ((i - 1) %% %(per_consultant)s * 7) %% 57
        WHEN (i - 1) %% %(per_consultant)s < 160 THEN 20 + (i - 1) %% 20
        ELSE 40 + ((i::bigint * 7919) %% 1060)::int END) + time '09:00' + (i %% 480) * interval '1 minute')
        AT TIME ZONE %(zone)s AS created
"""
STAGE = """CASE WHEN k < 15 THEN 'new' WHEN k < 45 THEN 'contacted' WHEN k < 70 THEN 'needs_analysed'
    WHEN k < 95 THEN 'presented' WHEN k < 115 THEN 'test_driven' WHEN k < 150 THEN 'negotiating'
    WHEN k < 160 THEN 'ordered' WHEN k < 260 THEN 'delivered' WHEN k < 410 THEN 'lost' ELSE 'dormant' END"""

LOAD_SQL = (
    (
        "customers",
        f"""
        INSERT INTO crm_customer (
            id, dealership_id, kind, full_name, salutation, mobile, other_phone, email, preferred_channel,
            marketing_consent, source, notes, address, id_number, tags, version, created_at, updated_at, owner_id)
        SELECT i, rooftop, 'person',
            (%(surnames)s::text[])[1 + i %% 16] || (%(given)s::text[])[1 + (i / 16) %% 16]
                || CASE WHEN i %% 3 = 0 THEN (%(given)s::text[])[1 + (i / 256) %% 16] ELSE '' END,
            (ARRAY['mr', 'ms'])[1 + i %% 2], '+86139' || lpad(i::text, 8, '0'), '', '',
            (ARRAY['phone', 'wechat', 'sms'])[1 + i %% 3], i %% 4 = 0,
            (ARRAY['walk_in', 'phone', 'web', 'referral', 'event', 'secondary_network', 'other'])[1 + (k / 4 + c) %% 7],
            '', '', '', '{{}}', 1, created, created, owner
        FROM (SELECT i, {LEAD} FROM generate_series(1, %(leads)s) AS i) AS g
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
        SELECT i, rooftop, i, owner, source,
            CASE WHEN source = 'referral' THEN c * %(per_consultant)s + (k + 250) %% %(per_consultant)s + 1 END,
            (%(models)s::text[])[1 + i %% 8], 150000 + (i %% 20) * 10000,
            (ARRAY['家用代步', '上下班通勤', '周末自驾游', '商务接待'])[1 + i %% 4],
            CASE grade WHEN 'H' THEN 'week' WHEN 'A' THEN 'fortnight' WHEN 'B' THEN 'month' WHEN 'C' THEN 'later'
                ELSE '' END,
            CASE WHEN i %% 5 = 0 THEN '大众 宝来 2016' ELSE '' END, i %% 3 = 0, stage, grade,
            CASE WHEN stage <> 'new' THEN least(created + interval '2 days', now() - interval '1 hour') END,
            CASE WHEN stage = 'new' THEN (created AT TIME ZONE %(zone)s)::date + 1
                WHEN k < 150 AND k NOT IN (44, 69) THEN %(today)s::date + (k * 37) %% 24 - 4 END,
            CASE WHEN stage = 'lost' THEN 'approved' WHEN k IN (44, 69) THEN 'applied' ELSE '' END,
            CASE WHEN stage = 'lost' OR k IN (44, 69)
                THEN ((i - 1) / %(per_consultant)s / %(per_rooftop)s) * 5 + k %% 5 + 1 END,
            CASE WHEN stage = 'lost' THEN '客户已在别处购车' ELSE '' END,
            CASE WHEN stage = 'lost' THEN 'negotiating' ELSE '' END,
            1, owner, created,
            CASE WHEN k < 150 THEN greatest(created, now() - (k %% 10) * interval '1 day' - k * interval '1 minute')
                ELSE least(created + interval '20 days', now() - interval '1 day') END
        FROM (
            SELECT *, {STAGE} AS stage,
                CASE WHEN k < 15 THEN '' ELSE (ARRAY['H', 'A', 'B', 'C'])[1 + k %% 4] END AS grade,
                (ARRAY['walk_in', 'phone', 'web', 'referral', 'event', 'secondary', 'other'])[1 + (k / 4 + c) %% 7]
                    AS source
            FROM (SELECT i, {LEAD} FROM generate_series(1, %(leads)s) AS i) AS g
        ) AS l
        """,
    ),
    (
        # Activity j: consultant c's activity number m (5 × 500 a consultant) is about lead 15 + m × 485
        # / 2,500 of their book (new leads have none), a few days after the lead came in.
        "activities",
        """
        INSERT INTO sales_activity (
            dealership_id, lead_id, kind, actor_id, occurred_at, ended_at, party_size, outcome, next_step)
        SELECT l.dealership_id, l.id, kind,
            l.owner_id, at, CASE WHEN kind = 'visit' THEN at + interval '70 minutes' END,
            CASE WHEN kind = 'visit' THEN 1 + m %% 4 END, (%(notes)s::text[])[1 + m %% 7], ''
        FROM (
            SELECT j, m, (ARRAY['call', 'visit', 'message', 'presentation', 'call', 'test_drive', 'visit'])[1 + m %% 7]
                    AS kind,
                (j / (%(per_consultant)s * 5)) * %(per_consultant)s + 15 + (m * (%(per_consultant)s - 15))
                    / (%(per_consultant)s * 5) + 1 AS lead_id
            FROM (SELECT j, j %% (%(per_consultant)s * 5) AS m FROM generate_series(0, %(activities)s - 1) AS j) AS g
        ) AS a
        JOIN sales_lead AS l ON l.id = a.lead_id
        CROSS JOIN LATERAL (
            SELECT least(l.created_at + (m %% 9) * interval '1 day' + (m %% 6) * interval '1 hour',
                now() - interval '2 hours') AS at
        ) AS t
        """,
    ),
    (
        "quotes",
        """
        INSERT INTO sales_quote (
            id, dealership_id, lead_id, version, stock_vehicle_id, model, list_price, discount, accessories,
            accessories_price, trade_in_value, insurance, down_payment, term_months, annual_rate, monthly_payment,
            total, accepted_at, created_by_id, created_at)
        SELECT id, dealership_id, id, 1, CASE WHEN stage IN ('ordered', 'delivered') THEN id END, model_of_interest,
            budget, 3000, '', 0, 0, 6800,
            CASE WHEN finance_need THEN round(budget * 0.3) END, CASE WHEN finance_need THEN 36 END,
            CASE WHEN finance_need THEN 0.0399 END, CASE WHEN finance_need THEN round(budget * 0.7 / 33.8, 2) END,
            budget - 3000 + 6800, CASE WHEN stage IN ('ordered', 'delivered') THEN created_at + interval '9 days' END,
            owner_id, created_at + interval '5 days'
        FROM sales_lead WHERE stage IN ('negotiating', 'ordered', 'delivered')
        """,
    ),
    (
        "stock",
        """
        INSERT INTO sales_stockvehicle (id, dealership_id, vin, make, model, trim, colour, options, list_price, status,
            arrived_on)
        SELECT id, dealership_id, 'LSVST' || lpad(id::text, 12, '0'), '大众', model_of_interest, '', '白色', '', budget,
            CASE WHEN stage = 'delivered' THEN 'delivered' WHEN (id - 1) %% %(per_consultant)s < 155 THEN 'sold'
                ELSE 'reserved' END,
            (created_at AT TIME ZONE %(zone)s)::date - 10
        FROM sales_lead WHERE stage IN ('ordered', 'delivered')
        UNION ALL
        SELECT %(leads)s + n, (%(rooftops)s::bigint[])[1 + (n - 1) / %(unsold)s], 'LSVUS' || lpad(n::text, 12, '0'),
            '大众', (%(models)s::text[])[1 + n %% 8], '', '黑色', '', 180000,
            CASE WHEN n %% 5 = 0 THEN 'in_transit' ELSE 'in_stock' END,
            CASE WHEN n %% 5 <> 0 THEN %(today)s::date - n %% 120 END
        FROM generate_series(1, %(rooftop_count)s * %(unsold)s) AS n
        """,
    ),
    (
        "orders",
        """
        INSERT INTO sales_order (
            id, dealership_id, number, lead_id, customer_id, quote_id, stock_vehicle_id, consultant_id, total, deposit,
            paid, status, delivery_at, pdi_checklist, documents_checklist, delivered_at, version, created_at,
            updated_at)
        SELECT l.id, l.dealership_id, 'C' || lpad(l.id::text, 9, '0'), l.id, l.customer_id, l.id, l.id, l.owner_id,
            q.total, 10000, CASE WHEN status = 'contracted' THEN 10000 ELSE q.total END, status,
            CASE WHEN k = 150 THEN (%(today)s::date + time '10:00') AT TIME ZONE %(zone)s
                WHEN k = 151 THEN (%(today)s::date + time '15:00') AT TIME ZONE %(zone)s
                WHEN k < 155 THEN (%(today)s::date + (k - 151)::int + time '10:00') AT TIME ZONE %(zone)s
                WHEN status = 'delivered' THEN l.created_at + interval '20 days' END,
            '{}', '{}', CASE WHEN status = 'delivered' THEN l.created_at + interval '20 days' END, 1,
            l.created_at + interval '9 days', l.updated_at
        FROM (
            SELECT *, (id - 1) %% %(per_consultant)s AS k,
                CASE WHEN stage = 'delivered' THEN 'delivered' WHEN (id - 1) %% %(per_consultant)s < 155 THEN 'paid'
                    ELSE 'contracted' END AS status
            FROM sales_lead WHERE stage IN ('ordered', 'delivered')
        ) AS l
        JOIN sales_quote AS q ON q.id = l.id
        """,
    ),
    (
        # A rooftop's drives numbered n: demo car n mod 3 on every other day back from yesterday (one
        # drive a car a day, between 09:00 and 16:00); today's, three a consultant (leads 92–94),
        # every 45 minutes from 09:00.
        "test_drives",
        """
        INSERT INTO sales_testdrive (
            dealership_id, lead_id, demo_vehicle_id, starts_at, ends_at, licence_number, licence_expires_on, status,
            feedback, booked_by_id, created_at)
        SELECT dealership_id, id, (rooftop_number * %(cars)s) + n %% %(cars)s + 1, at, at + interval '30 minutes',
            '31010119900101' || lpad((id %% 10000)::text, 4, '0'), %(today)s::date + 1000,
            CASE WHEN today THEN 'booked' ELSE 'done' END, CASE WHEN today THEN '' ELSE '动力满意' END, owner_id,
            at - interval '1 day'
        FROM (
            SELECT *,
                CASE WHEN today
                    THEN (%(today)s::date + time '09:00' + (n / %(cars)s) * interval '45 minutes') AT TIME ZONE %(zone)s
                    ELSE ((%(today)s::date - 1 - 2 * (n / %(cars)s)::int) + time '09:00'
                        + ((n / %(cars)s) %% 8) * interval '1 hour') AT TIME ZONE %(zone)s
                END AS at
            FROM (
                SELECT id, dealership_id, owner_id, k < 95 AS today,
                    (id - 1) / %(per_consultant)s / %(per_rooftop)s AS rooftop_number,
                    CASE WHEN k < 95 THEN ((id - 1) / %(per_consultant)s %% %(per_rooftop)s) * 3 + k - 92
                        ELSE ((id - 1) / %(per_consultant)s %% %(per_rooftop)s) * 165 + k - 95 END AS n
                FROM (SELECT *, (id - 1) %% %(per_consultant)s AS k FROM sales_lead) AS l
                WHERE k BETWEEN 92 AND 94 OR k BETWEEN 95 AND 259
            ) AS d
        ) AS timed
        """,
    ),
)


def main(argv: list[str] | None = None) -> None:
    with_private_redis(run, parse_args(argv))


def run(options: argparse.Namespace) -> None:
    database_url = recreate_bench_database(BENCH_DATABASE)
    setup_django(database_url)
    bench = SalesBench(database_url)
    results: dict[str, dict[float, dict]] = {}
    for scale in options.scales:
        emit({"bench": "sales-load", "scale": scale, **bench.load(scale)})
        for page, result in bench.time_pages(options.requests, options.warmup).items():
            results.setdefault(page, {})[scale] = result
            emit({"bench": "sales-page", "page": page, "scale": scale, **result})
        if scale == options.scales[-1]:
            for page, explained in bench.explain().items():
                emit({"bench": "sales-explain", "page": page, "scale": scale, **explained})
    emit_scale_summaries("sales", results, options.scales, GOAL_RATIO)


if __name__ == "__main__":
    main()

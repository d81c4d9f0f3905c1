"""``make bench``: the service pages' latency with 1,000,000 vehicles and 3,000,000 repair orders, and at 1%.

Each scale (``--scales``, a fraction of the full size; default 0.01 and 1) gets a database of its own,
``dms_bench_service_0``, ``_1``, …, re-created and migrated, then filled in SQL (``INSERT … SELECT
FROM generate_series``) with the history of a two-rooftop dealer group: ``1,000,000 × scale`` customers,
each owning one vehicle (with its ownership row), and 3 repair orders per vehicle over the last five
years (``3,000,000 × scale``, numbered gap-free per rooftop and year, with the counters to match),
97% delivered and the rest cancelled, each with 1–2 labour and 1–3 parts lines (about 10,000,000
lines at full scale) and an odometer reading, the delivered ones with a job and its clocked time and
(customer pay) a payment; 55% of the
orders came from an appointment, 5% more appointments were missed, and declined additional work is
kept on the vehicle. The secondary indexes and constraints of these tables (every one the
migrations create) are dropped for the load and rebuilt after it, then the tables are vacuumed,
analysed and checkpointed. Today is the same at every scale, as a real dealership's today does not
grow with its history: 36 appointments and the next two weeks' 280 bookings per rooftop (SQL), and
30 cars in the workshop per rooftop, 24 of them arrived for their appointment, opened and worked
through the service functions (``repair_order_open`` … ``quality_check_record``) into every state
from estimate to ready, with technicians clocked on.

Then, logged in through the Django test client as a service advisor of both rooftops, the pages of
every scale are requested in turn, one of each a round (Django's connection switched between the
scales' databases, untimed), ``--requests`` rounds after ``--warmup`` untimed ones, so a busy moment
of the machine falls on both scales alike (and a garbage collection between rounds, untimed):

* ``board``: the workshop board, ``GET /service/board/``;
* ``appointments-today``: the appointment calendar for today, ``GET /service/appointments/?day=…``;
* ``vehicle-history``: the vehicle page with its service history panel, ``GET /vehicles/<id>/``, a
  different vehicle each request (each has 3 or 4 orders at every scale);
* ``repair-orders``: the repair-order list filtered by status and advisor,
  ``GET /service/repair-orders/?status=delivered&advisor=…`` (that advisor's history: it grows
  with the scale);
* ``repair-orders-open``: the same list for an open status (``in_progress``) and an advisor who
  has such orders today (the same rows at every scale).

Each request's queries and the time spent in them are taken with ``connection.execute_wrapper``.
JSON lines on stdout: ``{"bench": "service-load", ...}`` per scale (rows and seconds per phase),
``{"bench": "service-page", ...}`` per scale and page (p50/p95 ms, queries per request, SQL share of
the request's time, rows shown), and ``{"bench": "service-summary", ...}`` per page: p95 at the
largest scale over p95 at the smallest (goal: at most 2) and whether the query count is the same
at both (goal). The cache is a Redis server of the benchmark's own; with ``DATABASE_URL`` set, the
databases are created on that server instead of the embedded one.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import re
import statistics
import time
from decimal import Decimal
from urllib.parse import urlsplit
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

BENCH_DATABASE = "dms_bench_service"
DEFAULT_SCALES = (0.01, 1.0)
FULL_VEHICLES = 1_000_000
ORDERS_PER_VEHICLE = 3
HISTORY_DAYS = 5 * 365
ZONE = "Asia/Shanghai"
ROOFTOPS = (("SH01", "上海浦东4S店", "沪"), ("BJ01", "北京朝阳4S店", "京"))
ADVISORS_PER_ROOFTOP = 6
TECHNICIANS_PER_ROOFTOP = 8
PARTS_PER_ROOFTOP = 200
APPOINTMENTS_TODAY = 36  # per rooftop, every half hour from 08:00
ARRIVED_TODAY = 24  # of those, in the workshop now
WALK_INS_TODAY = 6
BOOKINGS_PER_DAY = 20  # per rooftop, for the next BOOKING_DAYS days
BOOKING_DAYS = 14
GOAL_RATIO = 2.0
# The tables the history is loaded into: their secondary indexes and constraints are rebuilt after.
LOADED_TABLES = (
    "crm_customer",
    "crm_vehicle",
    "crm_vehicleownership",
    "crm_odometerreading",
    "service_appointment",
    "service_repairorder",
    "service_labourline",
    "service_partline",
    "service_payment",
    "service_job",
    "service_timeentry",
    "service_declinedwork",
)
WITH_EXPLICIT_IDS = ("crm_customer", "crm_vehicle", "service_part", "service_repairorder", "service_appointment")
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭")
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英")


def create_staff(rooftops, prefix: str, role, count: int) -> list[list]:
    """``count`` users of ``role`` (a ``crm.choices.Role``) at each rooftop, one list per rooftop."""
    from django.contrib.auth.models import Group

    from crm.models import User

    group = Group.objects.get(name=role.value)
    rows = []
    for index, rooftop in enumerate(rooftops):
        people = []
        for number in range(count):
            user = User.objects.create_user(
                username=f"bench-{prefix}-{rooftop.code.lower()}-{number}",
                full_name=f"{SURNAMES[(index + number) % 16]}{GIVEN[(index * count + number) % 16]}",
            )
            user.groups.add(group)
            user.dealerships.add(rooftop)
            people.append(user)
        rows.append(people)
    return rows
MODELS = ("朗逸", "速腾", "迈腾", "帕萨特", "途观L", "宝来", "探岳", "ID.4")
COLOURS = ("白色", "黑色", "银色", "灰色", "蓝色", "红色")
CONCERNS = ("常规保养", "刹车有异响", "空调不凉", "方向盘跑偏", "发动机故障灯亮", "保养并检查轮胎")
OPERATIONS = (
    ("M05K", "5000公里保养", "1.0"),
    ("M10K", "1万公里保养", "1.5"),
    ("BRK01", "更换前刹车片", "1.2"),
    ("ALN01", "四轮定位", "0.8"),
    ("AC01", "空调系统清洗", "0.6"),
    ("DIAG", "故障诊断", "1.0"),
)
PART_NAMES = ("机油滤清器", "机油 5W-30(升)", "前刹车片", "空调滤芯", "放油螺栓垫片", "火花塞", "雨刮片", "空气滤芯")
TODAY_STATES = ("estimate", "approved", "in_progress", "in_progress", "waiting_parts", "quality_check", "ready")
# What each page shows, counted in its HTML, to check that "today" is the same at every scale.
SHOWN = {
    "board": re.compile(r'class="card board-card'),
    "appointments-today": re.compile(r'class="border rounded p-1 mb-1 small appointment"'),
    "vehicle-history": re.compile(r'<td><a href="/service/repair-orders/\d+/">'),
    "repair-orders": re.compile(r'<span class="badge ro-'),
    "repair-orders-open": re.compile(r'<span class="badge ro-'),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = scale_parser(
        "python -m bench.service",
        __doc__,
        scales_help="comma-separated fractions of 1,000,000 vehicles and 3,000,000 repair orders; default 0.01,1",
        requests=200,
        warmup=20,
    )
    return checked_scale_options(
        parser, argv, default_scales=DEFAULT_SCALES, smallest="1,000 vehicles, enough for today's distinct cars"
    )


def _coprime(number: int, *candidates: int) -> int:
    """A multiplier that walks 0..number-1 in a scattered order (a bijection modulo ``number``)."""
    return next(candidate for candidate in candidates if math.gcd(candidate, number) == 1)


def _secondary_ddl(cursor) -> SecondaryDdl:
    """``bench.load.SecondaryDdl`` for ``LOADED_TABLES``: all but their primary keys."""
    tables = list(LOADED_TABLES)
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary ORDER BY 1",
        [tables],
    )
    indexes = tuple(cursor.fetchall())
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, conindid::regclass::text,"
        " CASE WHEN condeferred THEN ' DEFERRABLE INITIALLY DEFERRED'"
        " WHEN condeferrable THEN ' DEFERRABLE' ELSE '' END"
        " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u' ORDER BY 2",
        [tables],
    )
    unique_constraints = tuple(cursor.fetchall())
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f' ORDER BY 2",
        [tables],
    )
    return SecondaryDdl(indexes, unique_constraints, tuple(cursor.fetchall()))


class SqlClock:
    """A ``connection.execute_wrapper``: counts the statements and sums the time spent in them."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


class ServiceBench:
    """One scale: a database of its own with Django's connection to it (made the default connection
    while this scale is loaded or timed), its rooftops and staff, and the advisor's logged-in client."""

    def __init__(self, scale: float, database_url: str) -> None:
        # Every scale's database is made alike (migrations, rooftops, staff in the same order), so the
        # ids in the permission snapshots the cache shares between them hold for all.
        from django.db import connections

        default = connections["default"]
        self.scale = scale
        self.database_url = database_url
        self.database = type(default)({**default.settings_dict, "NAME": urlsplit(database_url).path[1:]}, "default")
        with self.active():
            self.create_staff()

    @contextlib.contextmanager
    def active(self):
        """Django's default connection is this scale's database inside the block."""
        from django.db import connections

        previous = connections["default"]
        connections["default"] = self.database
        try:
            yield
        finally:
            connections["default"] = previous

    def create_staff(self) -> None:
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from bench.timing import _allowed_host
        from crm.choices import Role
        from crm.models import Dealership

        call_command("migrate", verbosity=0, interactive=False)
        self.zone = ZoneInfo(ZONE)
        self.rooftops = [
            Dealership.objects.create(
                code=code, name=name, time_zone=ZONE, phone_region="CN", labour_rate_amount=Decimal("300.00")
            )
            for code, name, _province in ROOFTOPS
        ]

        self.advisors = create_staff(self.rooftops, "advisor", Role.SERVICE_ADVISOR, ADVISORS_PER_ROOFTOP)
        self.technicians = create_staff(self.rooftops, "technician", Role.TECHNICIAN, TECHNICIANS_PER_ROOFTOP)
        # The advisor the pages are timed for works at both rooftops (the front desk covers both).
        self.user = self.advisors[0][0]
        self.user.dealerships.set(self.rooftops)
        self.client = Client(HTTP_HOST=_allowed_host())
        self.client.force_login(self.user)
        with connection.cursor() as cursor:
            self.ddl = _secondary_ddl(cursor)

    # --- loading -----------------------------------------------------------------------------

    def connect(self):
        return psycopg2.connect(self.database_url)

    def load(self) -> dict:
        with self.active():
            return self._load(self.scale)

    def _load(self, scale: float) -> dict:
        from django.db import connection

        vehicles = 2 * round(FULL_VEHICLES * scale / 2)
        orders = ORDERS_PER_VEHICLE * vehicles
        half = vehicles // 2
        today = datetime.datetime.now(self.zone).date()
        first_day = today - datetime.timedelta(days=HISTORY_DAYS)
        params = {
            "vehicles": vehicles,
            "orders": orders,
            "half": half,
            "spread": _coprime(half, 1_000_003, 1_000_033, 1_000_037),
            "first_day": first_day,
            "today": today,
            "days": HISTORY_DAYS,
            "zone": ZONE,
            "rooftops": [rooftop.pk for rooftop in self.rooftops],
            "codes": [rooftop.code for rooftop in self.rooftops],
            "provinces": [province for _code, _name, province in ROOFTOPS],
            "advisors": [[user.pk for user in people] for people in self.advisors],
            "technicians": [[user.pk for user in people] for people in self.technicians],
            "surnames": list(SURNAMES),
            "given": list(GIVEN),
            "models": list(MODELS),
            "colours": list(COLOURS),
            "concerns": list(CONCERNS),
            "op_codes": [code for code, _name, _hours in OPERATIONS],
            "op_names": [name for _code, name, _hours in OPERATIONS],
            "op_hours": [Decimal(hours) for _code, _name, hours in OPERATIONS],
            "part_names": list(PART_NAMES),
            "parts": PARTS_PER_ROOFTOP,
            "slots": APPOINTMENTS_TODAY,
            "bookings": BOOKINGS_PER_DAY,
            "booking_days": BOOKING_DAYS,
        }
        lap = Laps()

        connection.close()  # nothing of Django's holds a lock on the tables while they are replaced
        with _session(self.connect) as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "TRUNCATE crm_customer, crm_vehicle, service_part, service_repairordercounter RESTART IDENTITY CASCADE"
            )
            self.ddl.drop(cursor)
            cursor.execute("COMMIT")
            lap("truncate_s")
            cursor.execute("SET work_mem = '256MB'")
            for statement in HISTORY_SQL:
                cursor.execute(statement, params)
            lap("insert_history_s")
        restore_after_load(self.connect, self.ddl, lap, WITH_EXPLICIT_IDS)
        with _session(self.connect) as cursor:
            cursor.execute(TODAY_SQL, params)
            lap("insert_today_sql_s")

            tables = [*LOADED_TABLES, "service_part", "service_repairordercounter"]
            vacuum_analyze(self.connect, tables)
            cursor.execute("CHECKPOINT")
            lap("vacuum_analyze_checkpoint_s")
        workshop = self.open_todays_workshop()
        lap("today_services_s")
        with _session(self.connect) as cursor:
            cursor.execute("ANALYZE service_repairorder")
            cursor.execute("SELECT status, count(*) FROM service_repairorder GROUP BY status ORDER BY status")
            statuses = dict(cursor.fetchall())
            counts = {}
            for table in ("service_labourline", "service_partline", "service_appointment"):
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table.removeprefix("service_")] = cursor.fetchone()[0]
        lap.timings["total_s"] = lap.total()
        return {
            "vehicles": vehicles,
            "customers": vehicles,
            "repair_orders": sum(statuses.values()),
            "lines": counts["labourline"] + counts["partline"],
            "appointments": counts["appointment"],
            "statuses": statuses,
            "workshop_today": workshop,
            **lap.timings,
        }

    def open_todays_workshop(self) -> int:
        """Today's cars per rooftop, each through the services an advisor and a technician would use."""
        from django.db import transaction
        from django.utils import timezone

        from crm.models import Vehicle
        from service import services
        from service.models import Appointment, Job

        now = timezone.now()
        made = 0
        for index, rooftop in enumerate(self.rooftops):
            advisors, technicians = self.advisors[index], self.technicians[index]
            midnight = datetime.datetime.combine(now.astimezone(self.zone).date(), datetime.time(), tzinfo=self.zone)
            arrivals = list(
                Appointment.objects.filter(
                    dealership=rooftop, starts_at__gte=midnight, starts_at__lt=midnight + datetime.timedelta(days=1)
                )
                .select_related("vehicle", "vehicle__owner", "customer")
                .order_by("starts_at", "pk")[:ARRIVED_TODAY]
            )
            taken = {appointment.vehicle_id for appointment in arrivals}
            walk_ins = list(
                Vehicle.objects.filter(dealership=rooftop)
                .select_related("owner")
                .exclude(pk__in=taken)
                .exclude(appointments__starts_at__gte=now - datetime.timedelta(days=1))
                .order_by("-pk")[:WALK_INS_TODAY]
            )
            cars = [(appointment.vehicle, appointment) for appointment in arrivals]
            cars += [(vehicle, None) for vehicle in walk_ins]
            to_clock_on: list[Job] = []
            for number, (vehicle, appointment) in enumerate(cars):
                target = TODAY_STATES[number % len(TODAY_STATES)]
                advisor = advisors[number % len(advisors)]
                technician = technicians[number % len(technicians)]
                code, name, hours = OPERATIONS[number % len(OPERATIONS)]
                with transaction.atomic():
                    order = services.repair_order_open(
                        actor=advisor,
                        vehicle=vehicle,
                        appointment=appointment,
                        concern=appointment.concern if appointment else CONCERNS[number % len(CONCERNS)],
                        odometer_km=(vehicle.odometer_km or 20_000) + 120,
                        service_type="maintenance" if appointment else "quick",
                        promised_at=now + datetime.timedelta(hours=1 + number % 5),
                    )
                    services.labour_line_add(
                        actor=advisor,
                        repair_order_id=order.pk,
                        operation_code=code,
                        description=name,
                        hours=Decimal(hours),
                    )
                    services.part_line_add(
                        actor=advisor,
                        repair_order_id=order.pk,
                        part_number=f"P{number % PARTS_PER_ROOFTOP:06d}",
                        quantity=Decimal("1"),
                    )
                made += 1
                if target == "estimate":
                    continue
                with transaction.atomic():
                    services.repair_order_approve(
                        actor=advisor,
                        repair_order_id=order.pk,
                        approved_by_name=vehicle.owner.full_name,
                        channel="in_person",
                    )
                    job = services.job_dispatch(
                        actor=advisor,
                        repair_order_id=order.pk,
                        technician=technician,
                        planned_hours=Decimal(hours),
                        bay=f"B{number % TECHNICIANS_PER_ROOFTOP + 1}",
                    )
                if target == "approved":
                    continue
                with transaction.atomic():
                    services.clock_on(actor=technician, job_id=job.pk)
                    services.clock_off(actor=technician, job_id=job.pk)
                if target == "in_progress":
                    with transaction.atomic():
                        services.labour_line_add(  # found on the lift: waits for the customer's answer
                            actor=technician,
                            repair_order_id=order.pk,
                            operation_code="BRK01",
                            description="更换前刹车片",
                            hours=Decimal("1.2"),
                            note="前刹车片剩余2mm",
                        )
                    to_clock_on.append(job)
                    continue
                with transaction.atomic():
                    if target == "waiting_parts":
                        services.repair_order_transition(
                            actor=technician, repair_order_id=order.pk, to_status="waiting_parts"
                        )
                        continue
                    services.repair_order_transition(
                        actor=technician, repair_order_id=order.pk, to_status="quality_check"
                    )
                    if target == "ready":
                        services.quality_check_record(actor=advisor, repair_order_id=order.pk, passed=True)
            clocked = set()
            for job in to_clock_on:  # on the lift now: one open clock per technician
                if job.technician_id not in clocked:
                    clocked.add(job.technician_id)
                    with transaction.atomic():
                        services.clock_on(actor=job.technician, job_id=job.pk)
        return made

    # --- timing ------------------------------------------------------------------------------

    def pages(self, count: int) -> dict[str, list[str]]:
        """The URLs each page is timed with: ``count`` of them (vehicles differ from one to the next)."""
        with self.active():
            return self._pages(self.scale, count)

    def _pages(self, scale: float, count: int) -> dict[str, list[str]]:
        from service.models import RepairOrder

        vehicles = 2 * round(FULL_VEHICLES * scale / 2)
        step = _coprime(vehicles, 7_368_787, 7_368_791)
        today = datetime.datetime.now(self.zone).date()
        history_of = self.advisors[0][1]
        open_advisor = (
            RepairOrder.objects.filter(status="in_progress", advisor__in=self.advisors[0])
            .order_by("pk")
            .values_list("advisor_id", flat=True)
            .first()
        )
        return {
            "board": ["/service/board/"] * count,
            "appointments-today": [f"/service/appointments/?day={today:%Y-%m-%d}"] * count,
            "vehicle-history": [f"/vehicles/{1 + (number * step) % vehicles}/" for number in range(1, count + 1)],
            "repair-orders": [f"/service/repair-orders/?status=delivered&advisor={history_of.pk}"] * count,
            "repair-orders-open": [f"/service/repair-orders/?status=in_progress&advisor={open_advisor}"] * count,
        }


def time_pages(benches: list[ServiceBench], requests: int, warmup: int) -> dict[float, dict[str, dict]]:
    """Request every page of every scale in turn, one of each a round, so a busy moment of the (shared)
    machine falls on all of them alike; the first ``warmup`` rounds are not timed."""
    import gc

    from django.db import connection

    pages = {bench.scale: bench.pages(requests + warmup) for bench in benches}
    taken: dict[float, dict[str, dict[str, list]]] = {scale: {name: {} for name in pages[scale]} for scale in pages}
    for number in range(requests + warmup):
        # Between rounds, untimed: else a full collection of this process's heap (100 ms and more)
        # lands on whichever page comes first when it falls due, and that page's p95 is the collector's.
        gc.collect()
        for bench in benches:
            with bench.active():
                for name, urls in pages[bench.scale].items():
                    clock = SqlClock()
                    with connection.execute_wrapper(clock):
                        started = time.perf_counter()
                        response = bench.client.get(urls[number])
                        elapsed = time.perf_counter() - started
                    assert response.status_code == 200, (bench.scale, urls[number], response.status_code)
                    if number < warmup:
                        continue
                    for key, value in (
                        ("ms", elapsed * 1000),
                        ("queries", clock.queries),
                        ("sql_s", clock.seconds),
                        ("share", clock.seconds / elapsed),
                        ("shown", len(SHOWN[name].findall(response.content.decode()))),
                    ):
                        taken[bench.scale][name].setdefault(key, []).append(value)
    results: dict[float, dict[str, dict]] = {}
    for scale, by_page in taken.items():
        for name, values in by_page.items():
            timings = sorted(values["ms"])
            results.setdefault(scale, {})[name] = {
                "url": pages[scale][name][-1],
                "requests": len(timings),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
                "queries": max(values["queries"]),
                "queries_min": min(values["queries"]),
                "sql_share": round(sum(values["sql_s"]) * 1000 / sum(timings), 3),
                "sql_share_p50": round(statistics.median(values["share"]), 3),
                "rows_shown": round(statistics.mean(values["shown"]), 1),
            }
    return results


# The history, in dependency order (the foreign keys are dropped during the load and re-validated
# after it). Repair order j: rooftop (j-1) mod 2, the rooftop's vehicles visited in a scattered order,
# each 3 times; checked in between 08:00 and 17:00 local, in order of j, from first_day to yesterday.
HISTORY_SQL = (
    """
    INSERT INTO crm_customer (
        id, dealership_id, kind, full_name, salutation, mobile, other_phone, email, preferred_channel,
        marketing_consent, source, notes, version, created_at, updated_at)
    SELECT i, (%(rooftops)s::bigint[])[1 + (i - 1) %% 2], 'person',
        (%(surnames)s::text[])[1 + i %% 16] || (%(given)s::text[])[1 + (i / 16) %% 16]
            || CASE WHEN i %% 3 = 0 THEN (%(given)s::text[])[1 + (i / 256) %% 16] ELSE '' END,
        '', '+86138' || lpad(i::text, 8, '0'), '', '',
        (ARRAY['phone', 'wechat', 'sms'])[1 + i %% 3], i %% 4 = 0,
        (ARRAY['walk_in', 'phone', 'web', 'referral', 'service'])[1 + i %% 5], '', 1,
        (%(first_day)s::date - (i %% 1500) - 30)::timestamp AT TIME ZONE %(zone)s,
        (%(first_day)s::date - (i %% 1500) - 30)::timestamp AT TIME ZONE %(zone)s
    FROM generate_series(1, %(vehicles)s) AS i
    """,
    """
    INSERT INTO crm_vehicle (
        id, dealership_id, owner_id, vin, plate, make, model, trim, year, colour, purchased_on,
        warranty_ends_on, odometer_km, next_service_on, next_service_km, version, created_at, updated_at)
    SELECT i, (%(rooftops)s::bigint[])[1 + (i - 1) %% 2], i,
        'LSVAB' || lpad(i::text, 12, '0'),
        (%(provinces)s::text[])[1 + (i - 1) %% 2]
            || (ARRAY['A','B','C','D','E','F','G','H','J','K','L','M','N'])[1 + (i / 100000) %% 13]
            || lpad((i %% 100000)::text, 5, '0'),
        '大众', (%(models)s::text[])[1 + i %% 8], '', 2015 + i %% 10, (%(colours)s::text[])[1 + i %% 6],
        purchased, purchased + 3 * 365,
        (%(today)s::date - purchased) * (20 + i %% 40),
        %(today)s::date + (i %% 240) - 60,
        ((%(today)s::date - purchased) * (20 + i %% 40) / 10000 + 1) * 10000,
        1, purchased::timestamp AT TIME ZONE %(zone)s, purchased::timestamp AT TIME ZONE %(zone)s
    FROM (SELECT i, %(first_day)s::date - (i %% 1500) - 30 AS purchased FROM generate_series(1, %(vehicles)s) AS i) AS g
    """,
    """
    INSERT INTO crm_vehicleownership (dealership_id, vehicle_id, customer_id, started_on, created_at)
    SELECT dealership_id, id, owner_id, purchased_on, created_at FROM crm_vehicle
    """,
    """
    INSERT INTO service_part (id, dealership_id, part_number, description, unit_price, stock_on_hand, unit)
    SELECT r * %(parts)s + m + 1, (%(rooftops)s::bigint[])[1 + r], 'P' || lpad(m::text, 6, '0'),
        (%(part_names)s::text[])[1 + m %% 8] || ' ' || m, 20 + (m * 37) %% 800, 10 + m %% 50, '件'
    FROM generate_series(0, 1) AS r, generate_series(0, %(parts)s - 1) AS m
    """,
    """
    INSERT INTO service_repairorder (
        id, dealership_id, number, year, sequence, customer_id, vehicle_id, appointment_id, advisor_id,
        service_type, status, pay_type, is_comeback, odometer_km, fuel_level, valuables, warning_lights,
        concern, diagnosis, promised_at, payment_method, old_parts, free_wash, discount_amount, tax_rate,
        approved_by_name, approved_at, approval_channel, rework_count, checked_in_at, ready_at, delivered_at,
        paid_at, version, updated_by_id, created_by_id, created_at, updated_at)
    SELECT j, (%(rooftops)s::bigint[])[1 + p],
        (%(codes)s::text[])[1 + p] || '-' || year || '-' || lpad(sequence::text, 6, '0'), year, sequence,
        vehicle, vehicle, CASE WHEN j %% 20 < 11 THEN j END, advisor,
        CASE WHEN j %% 20 < 11 THEN 'maintenance' WHEN j %% 20 < 18 THEN 'repair' ELSE 'quick' END,
        CASE WHEN cancelled THEN 'cancelled' ELSE 'delivered' END, pay_type, j %% 50 = 0,
        (day + vehicle %% 1500 + 30) * (20 + vehicle %% 40), (ARRAY[25, 50, 75])[1 + j %% 3], '', '',
        (%(concerns)s::text[])[1 + j %% 6], '', at + interval '4 hours',
        CASE pay_type WHEN 'warranty' THEN 'warranty_claim' WHEN 'internal' THEN 'internal'
            ELSE (ARRAY['wechat', 'alipay', 'card', 'wechat', 'cash'])[1 + j %% 5] END,
        CASE WHEN pay_type = 'warranty' THEN 'warranty' ELSE 'return' END, true, 0, 0.1300,
        CASE WHEN cancelled THEN '' ELSE '车主本人' END,
        CASE WHEN NOT cancelled THEN at + interval '20 minutes' END,
        CASE WHEN cancelled THEN '' ELSE 'in_person' END, (j %% 40 = 0)::int, at,
        CASE WHEN NOT cancelled THEN at + interval '3 hours' END,
        CASE WHEN NOT cancelled THEN at + interval '5 hours' END,
        CASE WHEN NOT cancelled AND pay_type = 'customer' THEN at + interval '5 hours' END,
        1, advisor, advisor, at, at + interval '5 hours'
    FROM (
        SELECT *, row_number() OVER (PARTITION BY p, year ORDER BY j) AS sequence
        FROM (
            SELECT j, p, vehicle, day, at, extract(year FROM at AT TIME ZONE %(zone)s)::int AS year,
                (%(advisors)s::bigint[])[1 + p][1 + ((j - 1) / 2) %% 6] AS advisor, j %% 33 = 0 AS cancelled,
                CASE WHEN j %% 13 = 5 THEN 'warranty' WHEN j %% 50 = 7 THEN 'internal' ELSE 'customer' END AS pay_type
            FROM (
                SELECT j, (j - 1) %% 2 AS p, 2 * ((((j - 1) / 2) * %(spread)s) %% %(half)s) + 1 + (j - 1) %% 2 AS vehicle,
                    ((j - 1) * %(days)s / %(orders)s)::int AS day,
                    ((%(first_day)s::date + ((j - 1) * %(days)s / %(orders)s)::int) + time '08:00'
                        + (((j - 1) * %(days)s %% %(orders)s) * 540 / %(orders)s) * interval '1 minute')
                        AT TIME ZONE %(zone)s AS at
                FROM generate_series(1::bigint, %(orders)s) AS j
            ) AS g
        ) AS h
    ) AS numbered
    """,
    """
    INSERT INTO service_repairordercounter (dealership_id, year, last)
    SELECT dealership_id, year, max(sequence) FROM service_repairorder GROUP BY dealership_id, year
    """,
    """
    INSERT INTO service_appointment (
        id, dealership_id, customer_id, vehicle_id, advisor_id, service_type, starts_at, ends_at, concern,
        parts_to_reserve, status, version, created_by_id, created_at, updated_at)
    SELECT appointment_id, dealership_id, customer_id, vehicle_id, advisor_id, service_type,
        date_trunc('hour', checked_in_at), date_trunc('hour', checked_in_at) + interval '1 hour', concern, '',
        'arrived', 1, advisor_id, checked_in_at - interval '3 days', checked_in_at
    FROM service_repairorder WHERE appointment_id IS NOT NULL
    """,
    """
    INSERT INTO service_appointment (
        id, dealership_id, customer_id, vehicle_id, advisor_id, service_type, starts_at, ends_at, concern,
        parts_to_reserve, status, version, created_by_id, created_at, updated_at)
    SELECT %(orders)s + m, (%(rooftops)s::bigint[])[1 + p], vehicle, vehicle, advisor, 'maintenance', at,
        at + interval '1 hour', '', '', CASE WHEN m %% 3 = 0 THEN 'cancelled' ELSE 'no_show' END, 1, advisor,
        at - interval '3 days', at + interval '2 hours'
    FROM (
        SELECT m, (m - 1) %% 2 AS p, 2 * (((m * 7919) %% %(half)s)) + 1 + (m - 1) %% 2 AS vehicle,
            (%(advisors)s::bigint[])[1 + (m - 1) %% 2][1 + m %% 6] AS advisor,
            ((%(first_day)s::date + ((m - 1) * %(days)s / (%(orders)s / 20))::int) + time '10:00'
                + (m %% 8) * interval '1 hour') AT TIME ZONE %(zone)s AS at
        FROM generate_series(1::bigint, %(orders)s / 20) AS m
    ) AS missed
    """,
    """
    INSERT INTO service_labourline (
        repair_order_id, description, pay_type, discount_amount, status, is_additional, note, added_by_id,
        decided_by_name, decided_at, decided_channel, created_at, operation_code, hours, rate, technician_id)
    SELECT r.id, (%(op_names)s::text[])[1 + (r.id + n) %% 6], r.pay_type, 0,
        CASE WHEN n = 2 AND r.id %% 7 = 0 THEN 'declined' ELSE 'approved' END, n = 2, '', r.advisor_id,
        CASE WHEN n = 2 THEN '车主本人' ELSE '' END,
        CASE WHEN n = 2 THEN r.checked_in_at + interval '2 hours' END,
        CASE WHEN n = 2 THEN 'phone' ELSE '' END,
        r.checked_in_at + (n - 1) * interval '90 minutes', (%(op_codes)s::text[])[1 + (r.id + n) %% 6],
        (%(op_hours)s::numeric[])[1 + (r.id + n) %% 6], 300.00,
        (%(technicians)s::bigint[])[1 + (r.id - 1) %% 2][1 + (r.id / 2 + n) %% 8]
    FROM service_repairorder AS r CROSS JOIN LATERAL generate_series(1, 1 + (r.id %% 5 < 2)::int) AS n
    """,
    """
    INSERT INTO service_partline (
        repair_order_id, part_id, description, pay_type, discount_amount, status, is_additional, note,
        added_by_id, decided_by_name, decided_channel, created_at, part_number, quantity, unit_price, to_order,
        issued_quantity)
    SELECT r.id, part.id, part.description, r.pay_type, 0, 'approved', false, '', r.advisor_id, '', '',
        r.checked_in_at, part.part_number, quantity, part.unit_price, false,
        CASE WHEN r.status = 'delivered' THEN quantity ELSE 0 END
    FROM (
        SELECT r.id, r.pay_type, r.advisor_id, r.checked_in_at, r.status, n,
            (ARRAY[1, 1, 2, 4])[1 + (r.id + n) %% 4] AS quantity,
            ((r.id - 1) %% 2) * %(parts)s + (r.id * 7 + n * 13) %% %(parts)s + 1 AS part_id
        FROM service_repairorder AS r CROSS JOIN LATERAL generate_series(1, 1 + r.id %% 3) AS n
    ) AS r
    JOIN service_part AS part ON part.id = r.part_id
    """,
    """
    INSERT INTO service_payment (repair_order_id, amount, method, received_by_id, created_at)
    SELECT id, 150 + (id * 37) %% 2500, payment_method, advisor_id, paid_at
    FROM service_repairorder WHERE paid_at IS NOT NULL
    """,
    """
    INSERT INTO service_job (repair_order_id, technician_id, bay, planned_hours, created_at)
    SELECT id, (%(technicians)s::bigint[])[1 + (id - 1) %% 2][1 + (id / 2 + 1) %% 8], 'B' || (1 + id %% 8), 1.5,
        checked_in_at + interval '30 minutes'
    FROM service_repairorder WHERE status = 'delivered'
    """,
    """
    INSERT INTO service_timeentry (job_id, technician_id, started_at, ended_at)
    SELECT id, technician_id, created_at + interval '10 minutes', created_at + interval '100 minutes'
    FROM service_job
    """,
    """
    INSERT INTO service_declinedwork (
        dealership_id, vehicle_id, repair_order_id, description, amount, recommended_at)
    SELECT r.dealership_id, r.vehicle_id, r.id, l.description, l.hours * l.rate, l.decided_at
    FROM service_labourline AS l JOIN service_repairorder AS r ON r.id = l.repair_order_id
    WHERE l.status = 'declined'
    """,
    """
    INSERT INTO crm_odometerreading (dealership_id, vehicle_id, reading_km, read_on, correction_reason,
        recorded_by_id, created_at)
    SELECT dealership_id, vehicle_id, odometer_km, (checked_in_at AT TIME ZONE %(zone)s)::date, '', advisor_id,
        checked_in_at
    FROM service_repairorder
    """,
)

# Today and the next two weeks, the same at every scale: appointment m of rooftop p on a vehicle of
# that rooftop, the vehicles all different (m walks the rooftop's vehicles in a scattered order).
TODAY_SQL = """
    INSERT INTO service_appointment (
        dealership_id, customer_id, vehicle_id, advisor_id, service_type, starts_at, ends_at, concern,
        parts_to_reserve, status, version, created_by_id, created_at, updated_at)
    SELECT (%(rooftops)s::bigint[])[1 + p], vehicle, vehicle, (%(advisors)s::bigint[])[1 + p][1 + m %% 6],
        CASE WHEN m %% 4 = 0 THEN 'repair' ELSE 'maintenance' END, at, at + interval '1 hour',
        (%(concerns)s::text[])[1 + m %% 6], '', CASE WHEN m %% 3 = 0 THEN 'booked' ELSE 'confirmed' END, 1,
        (%(advisors)s::bigint[])[1 + p][1 + m %% 6], now() - interval '2 days', now() - interval '1 day'
    FROM (
        SELECT p, m, 2 * ((m * 104729) %% %(half)s) + 1 + p AS vehicle,
            CASE WHEN m < %(slots)s
                THEN (%(today)s::date + time '08:00' + (m / 2) * interval '30 minutes') AT TIME ZONE %(zone)s
                ELSE (%(today)s::date + 1 + (m - %(slots)s) / %(bookings)s + time '08:00'
                    + ((m - %(slots)s) %% %(bookings)s) * interval '30 minutes') AT TIME ZONE %(zone)s
            END AS at
        FROM generate_series(0, 1) AS p, generate_series(0, %(slots)s + %(bookings)s * %(booking_days)s - 1) AS m
    ) AS booked
"""


def main(argv: list[str] | None = None) -> None:
    with_private_redis(run, parse_args(argv))


def run(options: argparse.Namespace) -> None:
    urls = [recreate_bench_database(f"{BENCH_DATABASE}_{index}") for index in range(len(options.scales))]
    setup_django(urls[0])
    benches = [ServiceBench(scale, url) for scale, url in zip(options.scales, urls, strict=True)]
    for bench in benches:
        emit({"bench": "service-load", "scale": bench.scale, **bench.load()})
    timed = time_pages(benches, options.requests, options.warmup)
    results: dict[str, dict[float, dict]] = {}
    for scale, by_page in timed.items():
        for page, result in by_page.items():
            results.setdefault(page, {})[scale] = result
            emit({"bench": "service-page", "page": page, "scale": scale, **result})
    emit_scale_summaries("service", results, options.scales, GOAL_RATIO)


if __name__ == "__main__":
    main()

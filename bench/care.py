"""``make bench``: customer care with 1,000,000 customers and at 1%: a saved segment and the retention page.

Each scale (``--scales``, a fraction of the full size; default 0.01 and 1) gets a database of its own,
``dms_bench_care_0``, ``_1``, …, loaded by ``bench.service``'s loader (imported, not copied: its
``ServiceBench``): ``1,000,000 × scale`` customers of two rooftops, each owning one vehicle, with 3
repair orders per vehicle over five years (customer-pay ones paid), and today's workshop. Before the
indexes are rebuilt, the customer-care columns are filled in SQL: 40% of the customers consented to
marketing (with the moment they did), about half carry one tag or more (VIP, fleet, referral,
long-standing, complained), and each vehicle was sold through our showroom (60%), the secondary
network (25%), another dealer (10%) or is of unknown origin (5%, without a purchase date: a car that
came in from elsewhere). The vehicles' model, purchase date and odometer come from the loader. The
rooftops keep the default care settings (lost after 12 months), and a manager of both rooftops saves
the segment timed here at the second rooftop (where the loader puts the 朗逸 cars): ``SEGMENT_CRITERIA``, a vehicle criterion (model), a
repair-order aggregate (spend) and a customer column (consent).

Then, the scales' work alternating one of each item a round (Django's connection switched between
their databases, untimed; a garbage collection between rounds), ``--requests`` rounds after
``--warmup`` untimed ones, each scale times:

* ``care-page`` (through Django, p50/p95 and the statements each ran):
  ``segment-count``, ``crm.segments.segment_customers(criteria=criteria_clean(…), dealership=…)
  .count()``; ``segment-first-page``, the same ordered the way the segment page orders it (the
  customers' default ordering, newest first) ``[:25]``; ``segment-page``, ``GET /segments/<pk>/`` as
  the manager (test Client); ``retention-figures``, ``crm.retention.retention_figures`` for the
  rooftop's window; ``retention-overview``, ``crm.retention.retention_overview`` (the figures and the
  first page of lost vehicles, what the page shows); ``retention-page``, ``GET
  /retention/?dealership=<pk>`` as the manager;
* ``care-sql`` (hand-written SQL on a plain psycopg2 connection, with the session setting Django's
  connection has, ``max_parallel_workers_per_gather=0``): the segment count, the retention figures
  (one GROUP BY) and everything the retention page shows (the figures and the lost vehicles' first
  page with their owners, from one pass over the vehicles: the lost count is the figures' base less
  returned), each written two ways, per-row correlated subqueries and a join with GROUP BY; the
  faster form's p95 is the baseline.

The first round checks that Django and the SQL agree (the count, the figures, the lost page, the
counts the pages print). JSON lines on stdout: ``care-load`` per scale, ``care-page`` and
``care-sql`` per scale and item, ``care-summary`` per goal: the first page's p95 at the largest scale
within 3× the smallest's, and the count and the retention page each within 1.5× the faster SQL's p95
at the largest scale (the ratio at the smallest is given too); and ``care-explain`` with the plan of
the slowest statement behind a goal not met (EXPLAIN ANALYZE at the largest scale). ``--try-sql
STATEMENT`` (repeatable) then runs each statement on every scale's database (an index, say), analyses
it and times everything again (the lines carry ``"tried"``), so a fix can be measured before a
migration makes it. The databases are dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import re
import statistics
import time
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

from bench.load import _session
from bench.sales import SqlClock, _describe
from bench.search import (
    checked_scale_options,
    emit,
    recreate_bench_database,
    scale_parser,
    setup_django,
    with_private_redis,
)
from bench.service import ZONE, ServiceBench

BENCH_DATABASE = "dms_bench_care"
DEFAULT_SCALES = (0.01, 1.0)
PAGE_SIZE = 25
FIRST_PAGE_GOAL = 3.0  # p95 at the largest scale over p95 at the smallest
SQL_GOAL = 1.5  # p95 through Django over the faster hand-written SQL's p95
SEGMENT_MODEL = "朗逸"
SEGMENT_SPEND_MIN = 5000
SEGMENT_CRITERIA = {"vehicle_model": SEGMENT_MODEL, "spend_min": str(SEGMENT_SPEND_MIN), "consent": True}
SEGMENT_COUNT_SHOWN = re.compile(r'id="segment-count">\s*([\d,]+)')
LOST_COUNT_SHOWN = re.compile(r'id="lost-count">\s*([\d,]+)')

# The customer-care columns, filled while the loaded tables have only their primary keys. Consent
# (id mod 5) and the sales channel ((id / 8) mod 20) are independent of the model (id mod 8) and the
# rooftop ((id - 1) mod 2) the loader gives.
CARE_SQL = (
    """
    UPDATE crm_customer SET
        marketing_consent = id % 5 < 2,
        marketing_consent_at = CASE WHEN id % 5 < 2 THEN created_at + (id % 700) * interval '1 day' END,
        tags = array_remove(ARRAY[
            CASE WHEN id % 7 = 3 THEN 'VIP' END,
            CASE WHEN id % 11 = 5 THEN '车队客户' END,
            CASE WHEN id % 13 = 1 THEN '转介绍' END,
            CASE WHEN id % 6 = 4 THEN '老客户' END,
            CASE WHEN id % 17 = 9 THEN '投诉过' END
        ], NULL)::varchar(30)[]
    """,
    """
    UPDATE crm_vehicle SET
        sales_channel = CASE WHEN (id / 8) % 20 < 12 THEN 'own' WHEN (id / 8) % 20 < 17 THEN 'secondary'
            WHEN (id / 8) % 20 < 19 THEN 'other_dealer' ELSE 'unknown' END,
        purchased_on = CASE WHEN (id / 8) % 20 = 19 THEN NULL ELSE purchased_on END
    """,
)

# The segment's count, by hand. The grouped form is the same set only because spend_min > 0 (a
# customer without payments spent 0 and is out either way).
SEGMENT_COUNT_SQL = {
    "correlated": """
        SELECT count(*) FROM crm_customer AS c
        WHERE c.dealership_id = %(dealership)s AND c.marketing_consent = %(consent)s
            AND EXISTS (SELECT 1 FROM crm_vehicle AS v WHERE v.owner_id = c.id AND upper(v.model) LIKE %(model)s)
            AND (SELECT coalesce(sum(p.amount), 0) FROM service_repairorder AS r
                 JOIN service_payment AS p ON p.repair_order_id = r.id
                 WHERE r.customer_id = c.id AND r.status <> 'cancelled') >= %(spend_min)s
    """,
    "grouped": """
        SELECT count(*) FROM (
            SELECT c.id FROM crm_customer AS c
            JOIN service_repairorder AS r ON r.customer_id = c.id AND r.status <> 'cancelled'
            JOIN service_payment AS p ON p.repair_order_id = r.id
            WHERE c.dealership_id = %(dealership)s AND c.marketing_consent = %(consent)s
                AND EXISTS (SELECT 1 FROM crm_vehicle AS v WHERE v.owner_id = c.id AND upper(v.model) LIKE %(model)s)
            GROUP BY c.id HAVING sum(p.amount) >= %(spend_min)s
        ) AS matching
    """,
}
# Each owned vehicle of the rooftop with its last visit and since when it is on file (crm.retention's
# definitions), two ways.
VEHICLES_SQL = {
    "correlated": """
        SELECT v.id, v.owner_id, v.make, v.model, v.sales_channel, v.plate, v.vin, v.purchased_on,
            (SELECT max(r.checked_in_at) FROM service_repairorder AS r
             WHERE r.vehicle_id = v.id AND r.status <> 'cancelled') AS last_visit_at,
            coalesce(v.purchased_on, least(
                ((SELECT min(r.checked_in_at) FROM service_repairorder AS r
                  WHERE r.vehicle_id = v.id AND r.status <> 'cancelled') AT TIME ZONE %(zone)s)::date,
                (v.created_at AT TIME ZONE %(zone)s)::date)) AS known_since
        FROM crm_vehicle AS v WHERE v.dealership_id = %(dealership)s AND v.owner_id IS NOT NULL
    """,
    "grouped": """
        SELECT v.id, v.owner_id, v.make, v.model, v.sales_channel, v.plate, v.vin, v.purchased_on,
            max(r.checked_in_at) AS last_visit_at,
            coalesce(v.purchased_on, least(
                (min(r.checked_in_at) AT TIME ZONE %(zone)s)::date, (v.created_at AT TIME ZONE %(zone)s)::date))
                AS known_since
        FROM crm_vehicle AS v
        LEFT JOIN service_repairorder AS r ON r.vehicle_id = v.id AND r.status <> 'cancelled'
        WHERE v.dealership_id = %(dealership)s AND v.owner_id IS NOT NULL
        GROUP BY v.id
    """,
}
FIGURES_SQL = """
    SELECT make, model, sales_channel, count(*) AS owned,
        count(*) FILTER (WHERE known_since <= %(cutoff)s) AS base,
        count(*) FILTER (WHERE known_since <= %(cutoff)s AND last_visit_at >= %(cutoff_start)s) AS returned
    FROM vehicle GROUP BY make, model, sales_channel
"""
FIGURES_ONLY_SQL = "WITH vehicle AS ({vehicles}) " + FIGURES_SQL
# All the retention page shows, in one statement: the figures and the first page of lost vehicles.
PAGE_SQL = (
    "WITH vehicle AS MATERIALIZED ({vehicles}), figures AS ("
    + FIGURES_SQL
    + """), lost AS (
        SELECT id, owner_id, make, model, sales_channel, plate, vin, purchased_on, last_visit_at,
            coalesce((last_visit_at AT TIME ZONE %(zone)s)::date, known_since) AS last_seen_on
        FROM vehicle
        WHERE known_since <= %(cutoff)s AND (last_visit_at IS NULL OR last_visit_at < %(cutoff_start)s)
        ORDER BY last_seen_on DESC, id DESC LIMIT %(per_page)s
    )
    SELECT (SELECT json_agg(figures) FROM figures),
        (SELECT json_agg(page ORDER BY page.last_seen_on DESC, page.id DESC) FROM (
            SELECT lost.*, c.full_name, c.mobile FROM lost JOIN crm_customer AS c ON c.id = lost.owner_id) AS page)
"""
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = scale_parser(
        "python -m bench.care",
        __doc__,
        scales_help="comma-separated fractions of 1,000,000 customers (vehicles, 3,000,000 repair orders); default 0.01,1",
        requests=30,
        warmup=3,
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases (default: drop them at the end)")
    parser.add_argument(
        "--try-sql",
        action="append",
        default=[],
        metavar="STATEMENT",
        help="after the timing, run STATEMENT (e.g. a CREATE INDEX) on every scale's database, ANALYZE, and time"
        " everything again (repeatable): an index or statistics tried without a migration",
    )
    return checked_scale_options(
        parser, argv, default_scales=DEFAULT_SCALES, smallest="1,000 customers, enough for today's workshop"
    )


class _CareColumnsFirst:
    """``bench.service``'s SecondaryDdl, with the care columns filled just before the indexes are
    rebuilt: the loaded tables have only their primary keys then, so the UPDATEs write no index
    entries, and VACUUM FULL leaves the tables as compact as the loader's INSERTs made them."""

    def __init__(self, ddl, fill) -> None:
        self._ddl = ddl
        self._fill = fill

    def __getattr__(self, name: str):
        return getattr(self._ddl, name)

    def rebuild_indexes(self, connect) -> None:
        self._fill()
        self._ddl.rebuild_indexes(connect)


class CareBench(ServiceBench):
    """One scale: bench.service's database and load, a manager of both rooftops with a logged-in client,
    the care columns, the saved segment, and a plain psycopg2 connection for the hand-written SQL."""

    def create_staff(self) -> None:
        from django.contrib.auth.models import Group
        from django.test import Client

        from bench.timing import _allowed_host
        from crm.choices import Role
        from crm.models import User

        super().create_staff()
        self.manager = User.objects.create_user(username="bench-care-manager", full_name="钱经理")
        self.manager.groups.add(Group.objects.get(name=Role.MANAGER.value))
        self.manager.dealerships.set(self.rooftops)
        self.manager_client = Client(HTTP_HOST=_allowed_host())
        self.manager_client.force_login(self.manager)
        self.ddl = _CareColumnsFirst(self.ddl, self.fill_care_columns)
        self.care_columns_s = 0.0

    def fill_care_columns(self) -> None:
        started = time.perf_counter()
        with _session(self.connect) as cursor:
            cursor.execute("SET work_mem = '256MB'")
            for statement in CARE_SQL:
                cursor.execute(statement)
            for table in ("crm_customer", "crm_vehicle"):
                cursor.execute(sql.SQL("VACUUM FULL {}").format(sql.Identifier(table)))
        self.care_columns_s = round(time.perf_counter() - started, 2)

    def load(self) -> dict:
        loaded = super().load()
        with self.active():
            loaded.update(self.after_load())
        self.raw = psycopg2.connect(self.database_url, options="-c max_parallel_workers_per_gather=0")
        self.raw.autocommit = True
        return loaded

    def after_load(self) -> dict:
        from django.db.models import Count

        from crm import retention, segments
        from crm.models import CareSettings, Customer, Vehicle

        # The loader gives the rooftop of vehicle i by i's parity and its model by i mod 8: 朗逸 (Lavida)
        # cars are all at the second rooftop, so the segment and the retention page are that rooftop's.
        self.rooftop = self.rooftops[1]
        for rooftop in self.rooftops:
            CareSettings.of(rooftop)
        self.segment = segments.segment_save(
            actor=self.manager, dealership=self.rooftop, name="朗逸车主 消费满5000 同意营销", criteria=SEGMENT_CRITERIA
        )
        self.window = retention.retention_window(dealership=self.rooftop)
        customers = Customer.objects.filter(dealership=self.rooftop)
        channels = Vehicle.objects.filter(dealership=self.rooftop).values_list("sales_channel").order_by()
        return {
            "care_columns_s": self.care_columns_s,
            "consent_share": round(customers.filter(marketing_consent=True).count() / customers.count(), 3),
            "tagged_share": round(customers.exclude(tags=[]).count() / customers.count(), 3),
            "sales_channels": dict(channels.annotate(n=Count("*")).values_list("sales_channel", "n")),
            "segment": self.segment.criteria,
            "retention_cutoff": self.window.cutoff.isoformat(),
        }

    def drop_connections(self) -> None:
        if getattr(self, "raw", None) is not None:
            self.raw.close()
        self.database.close()

    # --- what is timed ------------------------------------------------------------------------

    def sql_params(self) -> dict:
        window = self.window
        return {
            "dealership": self.rooftop.pk,
            "consent": True,
            "model": SEGMENT_MODEL.upper() + "%",
            "spend_min": SEGMENT_SPEND_MIN,
            "zone": ZONE,
            "cutoff": window.cutoff,
            "cutoff_start": window.cutoff_start,
            "per_page": PAGE_SIZE,
        }

    def items(self) -> list[tuple[str, str, object]]:
        """(kind, name, callable): the ``care-page`` items through Django, then the ``care-sql`` ones."""
        from crm import retention, segments
        from crm.models import Customer

        segment, rooftop = self.segment, self.rooftop
        order = Customer._meta.ordering  # SegmentDetailView and CustomerTable set none: the default

        def customers():
            return segments.segment_customers(criteria=segments.criteria_clean(segment.criteria), dealership=rooftop)

        def page(url):
            def get():
                response = self.manager_client.get(url)
                assert response.status_code == 200, (self.scale, url, response.status_code)
                return response.content.decode()

            return get

        def figures():
            result = retention.retention_figures(retention.retention_window(dealership=rooftop))
            return result.total.base, result.total.returned, result.newer

        def overview():
            result, lost = retention.retention_overview(retention.retention_window(dealership=rooftop))
            return result.total.base, result.total.returned, result.newer, [vehicle.pk for vehicle in lost]

        params = self.sql_params()

        def raw(statement):
            def run():
                with self.raw.cursor() as cursor:
                    cursor.execute(statement, params)
                    return cursor.fetchall()

            return run

        items = [
            ("page", "segment-count", lambda: customers().count()),
            ("page", "segment-first-page", lambda: [row.pk for row in customers().order_by(*order)[:PAGE_SIZE]]),
            ("page", "segment-page", page(f"/segments/{segment.pk}/")),
            ("page", "retention-figures", figures),
            ("page", "retention-overview", overview),
            ("page", "retention-page", page(f"/retention/?dealership={rooftop.pk}")),
        ]
        for form, statement in SEGMENT_COUNT_SQL.items():
            items.append(("sql", f"segment-count/{form}", raw(statement)))
        for form, vehicles in VEHICLES_SQL.items():
            items.append(("sql", f"retention-figures/{form}", raw(FIGURES_ONLY_SQL.format(vehicles=vehicles))))
        for form, vehicles in VEHICLES_SQL.items():
            items.append(("sql", f"retention-page/{form}", raw(PAGE_SQL.format(vehicles=vehicles))))
        return items

    def check(self, results: dict) -> dict:
        """Django and the SQL agree on the first round's results; what the segment and page hold."""
        from crm import retention

        count = results["segment-count"]
        assert count > 0, (self.scale, "the segment is empty")
        for name, rows in results.items():
            if name.startswith("segment-count/"):
                assert rows[0][0] == count, (self.scale, name, rows[0][0], count)
        assert len(results["segment-first-page"]) == min(count, PAGE_SIZE), (self.scale, count)
        shown = SEGMENT_COUNT_SHOWN.search(results["segment-page"])
        assert shown and int(shown.group(1).replace(",", "")) == count, (self.scale, "segment-page", count)
        base, returned, newer = results["retention-figures"]
        lost_ids = list(retention.lost_vehicles(self.window).values_list("pk", flat=True)[:PAGE_SIZE])
        assert results["retention-overview"] == (base, returned, newer, lost_ids), (self.scale, "retention-overview")
        for name, rows in results.items():
            if name.startswith("retention-figures/"):
                tallies = rows
            elif name.startswith("retention-page/"):
                tallies = [tuple(row.values()) for row in rows[0][0]]
                assert [row["id"] for row in rows[0][1] or []] == lost_ids, (self.scale, name)
            else:
                continue
            totals = (sum(row[4] for row in tallies), sum(row[5] for row in tallies))
            assert totals == (base, returned), (self.scale, name, totals, (base, returned))
            assert sum(row[3] for row in tallies) - totals[0] == newer, (self.scale, name)
        shown = LOST_COUNT_SHOWN.search(results["retention-page"])
        assert shown and int(shown.group(1).replace(",", "")) == base - returned, (self.scale, "retention-page")
        return {"segment_count": count, "base": base, "returned": returned, "lost": base - returned, "newer": newer}

    def explain(self, name: str) -> dict:
        """The slowest statement of ``name`` (a care-page item), with its plan from EXPLAIN ANALYZE."""
        from django.db import connection

        with self.active():
            run = next(run for _kind, item, run in self.items() if item == name)
            clock = SqlClock()
            with connection.execute_wrapper(clock):
                run()
            seconds, statement, params = clock.slowest
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params)
                plan = cursor.fetchone()[0]
        plan = plan if isinstance(plan, list) else json.loads(plan)
        return {
            "statement_ms": round(seconds * 1000, 2),
            "execution_ms": plan[0]["Execution Time"],
            "sql": statement,
            "plan": _describe(plan[0]["Plan"])[:60],
        }


def _percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


def time_rounds(benches: list[CareBench], requests: int, warmup: int) -> dict[float, dict[str, dict]]:
    """Every item of every scale in turn, one of each a round; the first ``warmup`` rounds untimed, the
    very first checked."""
    from django.db import connection

    items = {bench.scale: bench.items() for bench in benches}
    taken: dict[float, dict[str, dict]] = {bench.scale: {} for bench in benches}
    for number in range(requests + warmup):
        gc.collect()  # untimed, between rounds
        for bench in benches:
            results = {}
            with bench.active():
                for kind, name, run in items[bench.scale]:
                    clock = SqlClock()
                    with connection.execute_wrapper(clock):
                        started = time.perf_counter()
                        results[name] = run()
                        elapsed = time.perf_counter() - started
                    values = taken[bench.scale].setdefault(name, {"kind": kind, "ms": [], "queries": []})
                    if number >= warmup:
                        values["ms"].append(elapsed * 1000)
                        values["queries"].append(clock.queries if kind == "page" else 1)
                if number == 0:
                    emit({"bench": "care-check", "scale": bench.scale, **bench.check(results)})
    return {
        scale: {
            name: {
                "kind": values["kind"],
                "requests": len(values["ms"]),
                **_percentiles(values["ms"]),
                "queries": max(values["queries"]),
                "queries_min": min(values["queries"]),
            }
            for name, values in by_name.items()
        }
        for scale, by_name in taken.items()
    }


def _fastest_sql(by_name: dict, prefix: str) -> tuple[str, dict]:
    forms = {name: result for name, result in by_name.items() if name.startswith(prefix + "/")}
    name = min(forms, key=lambda item: forms[item]["p95_ms"])
    return name, forms[name]


def summarise(results: dict[float, dict[str, dict]], small: float, large: float) -> list[dict]:
    rows = []
    first_small, first_large = results[small]["segment-first-page"], results[large]["segment-first-page"]
    ratio = first_large["p95_ms"] / first_small["p95_ms"]
    rows.append(
        {
            "goal": "segment-first-page",
            "measure": "p95 at the largest scale / p95 at the smallest",
            "p95_small_ms": first_small["p95_ms"],
            "p95_large_ms": first_large["p95_ms"],
            "ratio": round(ratio, 2),
            "target": f"<= {FIRST_PAGE_GOAL}",
            "met": ratio <= FIRST_PAGE_GOAL,
        }
    )
    for goal, page, baseline in (
        ("segment-count", "segment-count", "segment-count"),
        ("retention-page", "retention-page", "retention-page"),
        (None, "retention-overview", "retention-page"),  # for information: the page's function alone
        (None, "retention-figures", "retention-figures"),  # for information: the figures alone
        (None, "segment-page", "segment-count"),  # for information: the page (count, first page) over the count
    ):
        ratios = {}
        for scale in (small, large):
            form, fastest = _fastest_sql(results[scale], baseline)
            ratios[scale] = (results[scale][page]["p95_ms"] / fastest["p95_ms"], form, fastest["p95_ms"])
        ratio, form, sql_p95 = ratios[large]
        rows.append(
            {
                "goal": goal or f"({page}, for information)",
                "measure": f"p95 of {page} / p95 of the faster SQL ({form}) at the largest scale",
                "p95_ms": results[large][page]["p95_ms"],
                "sql_p95_ms": sql_p95,
                "sql": form,
                "ratio": round(ratio, 2),
                "ratio_at_smallest": round(ratios[small][0], 2),
                "target": f"<= {SQL_GOAL}" if goal else None,
                "met": ratio <= SQL_GOAL if goal else None,
            }
        )
    return rows


def drop_databases(urls: list[str]) -> None:
    server = urlsplit(urls[0])._replace(path="/postgres").geturl()
    admin = psycopg2.connect(server)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            for url in urls:
                name = urlsplit(url).path[1:]
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()


def main(argv: list[str] | None = None) -> None:
    with_private_redis(run, parse_args(argv))


def time_and_report(benches: list[CareBench], options: argparse.Namespace, tried: list[str]) -> None:
    """Time every scale, emit the items and the summary, and explain the statements behind goals not met."""
    extra = {"tried": True} if tried else {}
    results = time_rounds(benches, options.requests, options.warmup)
    for scale, by_name in results.items():
        for name, result in by_name.items():
            kind = result.pop("kind")
            emit({"bench": f"care-{kind}", "item": name, "scale": scale, **extra, **result})
    small, large = options.scales[0], options.scales[-1]
    summary = summarise(results, small, large)
    for row in summary:
        emit({"bench": "care-summary", "small_scale": small, "large_scale": large, **extra, **row})
    for row in summary:
        if row["met"] is False:
            explained = benches[-1].explain(row["goal"])
            emit({"bench": "care-explain", "item": row["goal"], "scale": large, **extra, **explained})


def run(options: argparse.Namespace) -> None:
    urls = [recreate_bench_database(f"{BENCH_DATABASE}_{index}") for index in range(len(options.scales))]
    benches: list[CareBench] = []
    try:
        setup_django(urls[0])
        benches = [CareBench(scale, url) for scale, url in zip(options.scales, urls, strict=True)]
        for bench in benches:
            emit({"bench": "care-load", "scale": bench.scale, **bench.load()})
        time_and_report(benches, options, [])
        if options.try_sql:
            for bench in benches:
                started = time.perf_counter()
                with bench.raw.cursor() as cursor:
                    for statement in options.try_sql:
                        cursor.execute(statement)
                    cursor.execute("ANALYZE")
                emit(
                    {
                        "bench": "care-try",
                        "scale": bench.scale,
                        "tried": options.try_sql,
                        "seconds": round(time.perf_counter() - started, 2),
                    }
                )
            time_and_report(benches, options, options.try_sql)
    finally:
        from django.db import connections

        for bench in benches:
            bench.drop_connections()
        with contextlib.suppress(Exception):
            connections.close_all()
        if not options.keep:
            drop_databases(urls)


if __name__ == "__main__":
    main()

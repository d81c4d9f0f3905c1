"""Timing the header search through the view and as raw SQL; imported once Django is set up.

Each query is timed three ways, interleaved: a GET of the real view, a direct ``search`` call (so
the ORM's share can be told from the request's) and the raw SQL. The raw side is the SQL ``crm.search.search`` itself issues for a query (captured once per query
with a fresh user object, as each request gets one), restricted to statements on the crm business
tables, so the permission look-ups of ``has_perm`` count on the view's side only. The captured
statements are replayed on a plain psycopg2 connection and their times summed per search.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg2
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from crm.choices import Role
from crm.models import Dealership, User
from crm.search import RESULT_LIMIT, SearchKind, classify, search

from .data import DataGenerator, Rooftop
from .load import SecondaryDdl, load

KINDS = ("name", "name2", "phone", "last4", "plate", "vin")
# What ``classify`` should make of each kind: a VIN's last 6 characters are digits, read as a phone
# fragment, which the search also matches against VINs ("VIN 后六位").
EXPECTED_CLASSES = {
    "name": {SearchKind.NAME},
    "name2": {SearchKind.NAME},
    "phone": {SearchKind.PHONE},
    "last4": {SearchKind.LAST4},
    "plate": {SearchKind.PLATE_OR_VIN},
    "vin": {SearchKind.PLATE_OR_VIN, SearchKind.PHONE},
}
VEHICLE_KINDS = {"plate", "vin"}
SEARCH_STATEMENT = re.compile(r'"crm_(customer|vehicle|dealership)"')
BIG_TABLES = ("crm_customer", "crm_vehicle")
CHINESE_NAME = {"name": re.compile(r"^[\u4e00-\u9fff]{2,3}$"), "name2": re.compile(r"^[\u4e00-\u9fff]{2}$")}
SAMPLE_FACTOR = 40  # rows read per query wanted, so there are enough 2-character names to choose from
GOAL_RATIO = 2.0

# (code, name, (plate province, city letters, landline area code, landline first digits))
ROOFTOPS = (
    ("sh-pudong", "上海浦东大众4S店", ("沪", "ABCDEFGHJKLMN", "21", "56")),
    ("hz-xihu", "杭州西湖大众4S店", ("浙", "A", "571", "8")),
)


@dataclass
class Probe:
    """One search query sampled from an existing row, with what ``search`` did for it."""

    query: str
    target_id: int
    statements: list[str] = field(default_factory=list)
    all_statements: int = 0
    classified: str = ""
    miss: bool = False
    target_absent: bool = False
    target_lost: bool = False


@dataclass
class KindResult:
    """The timings of one key kind at one scale; ``view_ms`` is empty when the view is missing."""

    kind: str
    probes: list[Probe]
    sql_ms: list[float] = field(default_factory=list)
    function_ms: list[float] = field(default_factory=list)
    view_ms: list[float] = field(default_factory=list)
    view_queries: list[int] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    explained: dict = field(default_factory=dict)

    @property
    def sql_p95(self) -> float:
        return _p95(self.sql_ms)

    @property
    def view_p95(self) -> float | None:
        return _p95(self.view_ms) if self.view_ms else None

    def as_json(self, scale: int) -> dict:
        view_p95 = self.view_p95
        return {
            "bench": "search",
            "scale": scale,
            "kind": self.kind,
            "n": len(self.probes),
            "view_p50_ms": _round(statistics.median(self.view_ms)) if self.view_ms else None,
            "view_p95_ms": _round(view_p95),
            "sql_p50_ms": _round(statistics.median(self.sql_ms)),
            "sql_p95_ms": _round(self.sql_p95),
            "function_p50_ms": _round(statistics.median(self.function_ms)),
            "function_p95_ms": _round(_p95(self.function_ms)),
            "server_p50_ms": _round(statistics.median(self.server_ms)),
            "server_p95_ms": _round(_p95(self.server_ms)),
            "view_over_sql_p95": _round(view_p95 / self.sql_p95) if view_p95 is not None else None,
            "misses": sum(probe.miss for probe in self.probes),
            "target_lost": sum(probe.target_lost for probe in self.probes),
            "target_absent_by_class": dict(Counter(probe.classified for probe in self.probes if probe.target_absent)),
            "misclassified": sum(probe.classified not in EXPECTED_CLASSES[self.kind] for probe in self.probes),
            "classified": dict(Counter(probe.classified for probe in self.probes)),
            "view_queries": statistics.median(self.view_queries) if self.view_queries else None,
            "search_queries": statistics.median(len(probe.statements) for probe in self.probes),
            "search_queries_with_auth": statistics.median(probe.all_statements for probe in self.probes),
        }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _allowed_host() -> str:
    for host in settings.ALLOWED_HOSTS:
        if host != "*" and not host.startswith("."):
            return host
    return "localhost"


class SearchBench:
    """Loads each scale, samples queries, times them, explains them and compares the scales."""

    def __init__(self, database_url: str, seed: int, queries: int, warmup: int) -> None:
        self.database_url = database_url
        self.seed, self.queries, self.warmup = seed, queries, warmup
        dealerships = [
            Dealership.objects.create(code=code, name=name, time_zone="Asia/Shanghai", phone_region="CN")
            for code, name, _ in ROOFTOPS
        ]
        self.rooftops = [
            Rooftop(dealership.pk, *local) for dealership, (_, _, local) in zip(dealerships, ROOFTOPS, strict=True)
        ]
        self.user = User.objects.create_user(username="bench-advisor", full_name="基准顾问")
        self.user.groups.add(Group.objects.get(name=Role.SERVICE_ADVISOR))
        self.user.dealerships.set(dealerships)
        self.client = Client(HTTP_HOST=_allowed_host())
        self.client.force_login(self.user)
        try:
            self.url: str | None = reverse("search")
        except NoReverseMatch:
            self.url = None
        # The replay connection gets the application's connection options, so it runs the same
        # statements under the same settings as the view's connection.
        self.raw = psycopg2.connect(self.database_url, **settings.DATABASES["default"].get("OPTIONS", {}))
        self.raw.autocommit = True
        with self.raw.cursor() as cursor:
            self.ddl = SecondaryDdl.read(cursor)

    @property
    def view_available(self) -> bool:
        return self.url is not None

    def connect(self) -> psycopg2.extensions.connection:
        return psycopg2.connect(self.database_url)

    def load(self, scale: int) -> dict[str, float]:
        return load(self.connect, self.ddl, DataGenerator(self.seed, self.rooftops), scale)

    def measure(self, scale: int) -> dict[str, KindResult]:
        results = {}
        for kind, probes in self._sample(scale).items():
            for probe in probes:
                self._trace(kind, probe)
            results[kind] = self._time(kind, probes)
            self._explain(results[kind])
        return results

    def summarise(self, small: dict[str, KindResult], large: dict[str, KindResult]) -> Iterator[dict]:
        for kind in KINDS:
            sql_growth = large[kind].sql_p95 / small[kind].sql_p95
            server_growth = _p95(large[kind].server_ms) / _p95(small[kind].server_ms)
            view_small, view_large = small[kind].view_p95, large[kind].view_p95
            view_growth = view_large / view_small if view_small and view_large else None
            view_over_sql = [
                result.view_p95 / result.sql_p95 for result in (small[kind], large[kind]) if result.view_p95
            ]
            scale_goal = sql_growth <= GOAL_RATIO and (view_growth is None or view_growth <= GOAL_RATIO)
            view_goal = max(view_over_sql) <= GOAL_RATIO if view_over_sql else None
            yield {
                "kind": kind,
                "view_p95_1m_over_10k": _round(view_growth),
                "sql_p95_1m_over_10k": _round(sql_growth),
                "server_p95_1m_over_10k": _round(server_growth),
                "view_over_sql_p95_max": _round(max(view_over_sql)) if view_over_sql else None,
                "scale_goal_met": scale_goal,
                "view_goal_met": view_goal,
                "goal_met": scale_goal and bool(view_goal),
            }

    def _sample(self, scale: int) -> dict[str, list[Probe]]:
        """``queries`` probes per kind from random existing rows (same seed, same probes)."""
        rng = random.Random(f"{self.seed}:{scale}:queries")
        wanted = min(scale, SAMPLE_FACTOR * self.queries)
        with self.raw.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM crm_customer")
            ids = rng.sample(range(1, cursor.fetchone()[0] + 1), wanted)
            cursor.execute("SELECT id, kind, full_name, mobile FROM crm_customer WHERE id = ANY(%s) ORDER BY id", [ids])
            customers = cursor.fetchall()
            cursor.execute("SELECT max(id) FROM crm_vehicle")
            ids = rng.sample(range(1, cursor.fetchone()[0] + 1), wanted)
            cursor.execute("SELECT id, vin, plate FROM crm_vehicle WHERE id = ANY(%s) ORDER BY id", [ids])
            vehicles = cursor.fetchall()
        candidates: dict[str, list[Probe]] = {
            kind: [
                Probe(name, row_id)
                for row_id, row_kind, name, _ in customers
                if row_kind == "person" and pattern.match(name)
            ]
            for kind, pattern in CHINESE_NAME.items()
        }
        candidates["phone"] = [Probe(mobile.removeprefix("+86"), row_id) for row_id, _, _, mobile in customers]
        candidates["last4"] = [Probe(mobile[-4:], row_id) for row_id, _, _, mobile in customers]
        candidates["plate"] = [Probe(_plate_fragment(rng, plate), row_id) for row_id, _, plate in vehicles if plate]
        candidates["vin"] = [Probe(vin[-rng.choice((6, 8)) :], row_id) for row_id, vin, _ in vehicles]
        return {kind: rng.sample(candidates[kind], min(self.queries, len(candidates[kind]))) for kind in KINDS}

    def _trace(self, kind: str, probe: Probe) -> None:
        """Run ``search`` once for ``probe``: record its SQL, its classification and whether it found the row."""
        user = User.objects.get(pk=self.user.pk)  # fresh permission and rooftop caches, as in a request
        with CaptureQueriesContext(connection) as captured:
            results = search(user, probe.query)
        probe.statements = [
            query["sql"] for query in captured.captured_queries if SEARCH_STATEMENT.search(query["sql"])
        ]
        probe.all_statements = len(captured.captured_queries)
        probe.classified = classify(probe.query)
        rows = results.vehicles if kind in VEHICLE_KINDS else results.customers
        probe.miss = not rows
        probe.target_absent = probe.target_id not in {row.pk for row in rows}
        probe.target_lost = probe.target_absent and len(rows) < RESULT_LIMIT

    def _time(self, kind: str, probes: list[Probe]) -> KindResult:
        """Warm up, then time each probe through the view, as a ``search`` call and as raw SQL, interleaved."""
        result = KindResult(kind, probes)
        for probe in probes[: self.warmup]:
            self._time_sql(probe)
            self._time_function(probe)
            if self.url is not None:
                with CaptureQueriesContext(connection) as captured:
                    self._time_view(probe)
                result.view_queries.append(len(captured.captured_queries))
        for probe in probes:
            if self.url is not None:
                result.view_ms.append(self._time_view(probe))
            result.function_ms.append(self._time_function(probe))
            result.sql_ms.append(self._time_sql(probe))
        return result

    def _explain(self, result: KindResult) -> None:
        """EXPLAIN ANALYZE every probe's statements on the big tables.

        Records the server-side time of each search (planning plus execution, summed), whether all
        statements ran on indexes (and which), and the plans of the search the server took longest over.
        """
        indexes: set[str] = set()
        seq_scans: set[str] = set()
        all_indexed = True
        worst: tuple[float, Probe, list[str]] | None = None
        with self.raw.cursor() as cursor:
            for probe in result.probes:
                spent, plans = 0.0, []
                for statement in probe.statements:
                    if not any(f'"{table}"' in statement for table in BIG_TABLES):
                        continue
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement)
                    explained = cursor.fetchone()[0][0]
                    used, scanned = _plan_scans(explained["Plan"])
                    indexes |= used
                    seq_scans |= scanned
                    all_indexed = all_indexed and bool(used) and not scanned
                    spent += explained["Planning Time"] + explained["Execution Time"]
                    plans.append(_describe(explained["Plan"]))
                result.server_ms.append(spent)
                if worst is None or spent > worst[0]:
                    worst = (spent, probe, plans)
        result.explained = {
            "kind": result.kind,
            "n": len(result.server_ms),
            "index_used": all_indexed,
            "indexes": sorted(indexes),
            "seq_scans": sorted(seq_scans),
            "worst_query": worst[1].query,
            "worst_server_ms": _round(worst[0]),
            "worst_plans": worst[2],
        }

    def _time_view(self, probe: Probe) -> float:
        started = time.perf_counter()
        response = self.client.get(self.url, {"q": probe.query}, headers={"HX-Request": "true"})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {self.url}?q={probe.query} answered {response.status_code}")
        return elapsed

    def _time_function(self, probe: Probe) -> float:
        user = User.objects.get(pk=self.user.pk)
        started = time.perf_counter()
        search(user, probe.query)
        return (time.perf_counter() - started) * 1000

    def _time_sql(self, probe: Probe) -> float:
        started = time.perf_counter()
        with self.raw.cursor() as cursor:
            for statement in probe.statements:
                cursor.execute(statement)
                cursor.fetchall()
        return (time.perf_counter() - started) * 1000


def _plate_fragment(rng: random.Random, plate: str) -> str:
    """4 or 5 consecutive characters of the plate after the province character."""
    serial = plate[1:]
    length = rng.choice((4, 5))
    start = rng.randrange(len(serial) - length + 1)
    return serial[start : start + length]


def _plan_scans(node: dict) -> tuple[set[str], set[str]]:
    """Index names used and big tables scanned sequentially anywhere under ``node``."""
    indexes = {node["Index Name"]} if "Index Name" in node else set()
    seq_scans = set()
    if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
        seq_scans.add(node["Relation Name"])
    for child in node.get("Plans", []):
        child_indexes, child_scans = _plan_scans(child)
        indexes |= child_indexes
        seq_scans |= child_scans
    return indexes, seq_scans


def _describe(node: dict) -> str:
    """A one-line plan: ``Limit > Bitmap Heap Scan on crm_customer (rows=8) > [...]``."""
    label = node["Node Type"]
    if "Relation Name" in node:
        label += f" on {node['Relation Name']}"
    if "Index Name" in node:
        label += f" using {node['Index Name']}"
    label += f" (rows={node['Actual Rows']}"
    for key in ("Rows Removed by Filter", "Rows Removed by Index Recheck"):
        if node.get(key):
            label += f", {key.lower().replace('rows removed by ', 'removed by ')}={node[key]}"
    label += ")"
    children = [_describe(child) for child in node.get("Plans", [])]
    if len(children) == 1:
        return f"{label} > {children[0]}"
    if children:
        return f"{label} > [{'; '.join(children)}]"
    return label

"""KPI rollups: metric definitions in SQL, the triggers that log stale days, refresh and reads.

A **metric** is one SQL ``SELECT`` per app (``<app>/kpis.py``) producing counters per rooftop, local
day, staff member and dimension: ``n`` rows and the ``total`` of a value. The same statement serves
two ways, so a rollup can never drift from its definition:

* **refresh**: for the (rooftop, day) pairs logged stale, the statement runs with ``kpi_scope`` holding
  one row per pair, and its rows replace that day's rollups (``grain`` ``d``); each touched month's
  rollup (``m``) is then re-summed from its days;
* **direct**: with ``kpi_scope`` holding one row per rooftop spanning the period, the statement reads
  the raw rows at once (``raw_facts``): what tests and the benchmark compare the rollups with.

``kpi_scope`` has ``dealership_id``, ``tz`` (the rooftop's time zone), ``starts`` and ``ends`` (the
local days' bounds as instants); a metric joins it on its date column, so every statement reads an
index range per scope row, never the whole history.

Every source table gets statement-level triggers (installed after ``migrate``) that append the
(rooftop, local day) of each inserted, updated or deleted row's dates to ``dms_kpidirty`` in the
writing transaction: nothing written can escape its rollup, bulk updates included.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

# Refreshes are serialised: two refreshers recomputing one day would both insert its rows.
REFRESH_LOCK = 0x4B50_4931

ZERO = Decimal("0")

SCOPE_CTE = """kpi_scope AS (
    SELECT v.dealership_id, d.time_zone AS tz,
           (v.first_day::timestamp AT TIME ZONE d.time_zone) AS starts,
           ((v.last_day + 1)::timestamp AT TIME ZONE d.time_zone) AS ends
    FROM unnest(%s::int[], %s::date[], %s::date[]) AS v(dealership_id, first_day, last_day)
    JOIN crm_dealership d ON d.id = v.dealership_id
)"""


@dataclass(frozen=True)
class Metric:
    """Counters of one metric: see the module docstring. ``sources`` maps each table whose writes
    change the metric to ``SELECT <rooftop>, <instant>`` statements over ``{rows}`` (the changed rows)."""

    name: str
    sql: str
    sources: dict[str, tuple[str, ...]]


_METRICS: dict[str, Metric] = {}


def metric(
    name: str,
    *,
    table: str,
    date: str,
    rooftop: str = "t.dealership_id",
    staff: str = "0",
    dim: str = "''",
    n: str = "count(*)",
    total: str = "0",
    joins: str = "",
    after: str = "",
    where: str = "TRUE",
    sources: dict[str, tuple[str, ...]] | None = None,
) -> Metric:
    """Register a metric over ``table`` aliased ``t`` (``joins`` and ``after`` add joined tables; ``rooftop``
    says where the rooftop is) counted on the local day of ``date``."""
    # A lateral subquery per scope row: the row's rooftop and bounds are parameters of the inner query, so the
    # planner reads the day's rows through an index on the date (not the rooftop's whole history).
    sql = f"""SELECT s.dealership_id, x.day, x.staff_id, x.dim, x.n, x.total
FROM kpi_scope s CROSS JOIN LATERAL (
    SELECT ({date} AT TIME ZONE s.tz)::date AS day, COALESCE({staff}, 0) AS staff_id,
           COALESCE(({dim})::text, '') AS dim, {n} AS n, round(COALESCE({total}, 0)::numeric, 4) AS total
    FROM {table} t {joins}
    {after}
    WHERE {rooftop} = s.dealership_id AND {date} >= s.starts AND {date} < s.ends AND ({where})
    GROUP BY 1, 2, 3
) x"""
    if sources is None:
        column = date.removeprefix("t.")
        sources = {table: (f"SELECT x.dealership_id, x.{column} AS ts FROM {{rows}} x",)}
    defined = Metric(name=name, sql=sql, sources=sources)
    _METRICS[name] = defined
    return defined


def metrics() -> dict[str, Metric]:
    return dict(_METRICS)


# ---------------------------------------------------------------------------------------------
# Triggers


def _trigger_name(table: str) -> str:
    return "kpi_dirty_" + hashlib.sha1(table.encode(), usedforsecurity=False).hexdigest()[:12]


def trigger_sql() -> list[str]:
    """The statements (re)creating every source table's triggers from the registered metrics."""
    selects: dict[str, list[str]] = defaultdict(list)
    for defined in _METRICS.values():
        for table, statements in defined.sources.items():
            for statement in statements:
                if statement not in selects[table]:
                    selects[table].append(statement)
    out = []
    for table, statements in sorted(selects.items()):
        function = _trigger_name(table)

        def insert(rows: str, statements=statements) -> str:
            union = "\n UNION ALL ".join(s.format(rows=rows) for s in statements)
            return f"""INSERT INTO dms_kpidirty (dealership_id, day)
    SELECT DISTINCT c.dealership_id, (c.ts AT TIME ZONE d.time_zone)::date
    FROM ({union}) AS c(dealership_id, ts) JOIN crm_dealership d ON d.id = c.dealership_id
    WHERE c.ts IS NOT NULL;"""

        out.append(
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {insert("new_rows")}
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {insert("old_rows")}
  END IF;
  RETURN NULL;
END $$"""
        )
        for event, referencing in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            name = f"{function}_{event.lower()}"
            out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            out.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    return out


def install_triggers(using: str = "default", **kwargs) -> None:
    """post_migrate: the triggers always match the metrics the code defines."""
    from django.db import connections

    connection = connections[using]
    existing = set(connection.introspection.table_names())
    tables = {table for defined in _METRICS.values() for table in defined.sources}
    if not tables <= existing:  # a partial migrate: the next full one installs them
        return
    with connection.cursor() as cursor:
        for statement in trigger_sql():
            cursor.execute(statement)


# ---------------------------------------------------------------------------------------------
# Refresh


def _union(names: Iterable[str]) -> str:
    parts = [
        f"SELECT m.dealership_id, m.day, '{name}'::varchar AS metric, m.staff_id, m.dim, m.n, m.total "
        f"FROM ({_METRICS[name].sql}) m"
        for name in names
    ]
    return "\n UNION ALL ".join(parts)


def refresh() -> int:
    """Recompute every stale (rooftop, day) and its month; returns how many days were recomputed.

    The stale log is emptied first in its own statement, then the days are read in later ones: a write
    whose log row this refresh did not see keeps its row for the next refresh, and one it saw had
    committed before the recomputation began, so it is counted."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM dms_kpidirty)")
        if not cursor.fetchone()[0]:
            return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        cursor.execute("DELETE FROM dms_kpidirty RETURNING dealership_id, day")
        pairs = sorted(set(cursor.fetchall()))
        if pairs:
            recompute(cursor, pairs)
    return len(pairs)


def _ranges(pairs: Sequence[tuple[int, datetime.date]]) -> list[tuple[int, datetime.date, datetime.date]]:
    """Consecutive days of a rooftop as one range: the metrics read a few long ranges, not many days."""
    ranges: list[list] = []
    for rooftop, day in sorted(set(pairs)):
        if ranges and ranges[-1][0] == rooftop and ranges[-1][2] + datetime.timedelta(days=1) == day:
            ranges[-1][2] = day
        else:
            ranges.append([rooftop, day, day])
    return [(rooftop, first, last) for rooftop, first, last in ranges]


def recompute(cursor, pairs: Sequence[tuple[int, datetime.date]]) -> None:
    """Replace the rollups of ``pairs`` (in the caller's transaction)."""
    # The metrics' union is one large statement: PostgreSQL's JIT would spend ~0.4 s compiling it for a few
    # milliseconds of work (bench.kpis, one stale day at full scale: 400 ms with JIT, 33 ms without).
    cursor.execute("SET LOCAL jit = off")
    ranges = _ranges(pairs)
    rooftops = [r[0] for r in ranges]
    firsts = [r[1] for r in ranges]
    lasts = [r[2] for r in ranges]
    cursor.execute(
        """DELETE FROM dms_kpirollup r
        USING unnest(%s::int[], %s::date[], %s::date[]) AS v(dealership_id, first_day, last_day)
        WHERE r.grain IN ('d', 'D') AND r.dealership_id = v.dealership_id AND r.day BETWEEN v.first_day AND v.last_day""",
        [rooftops, firsts, lasts],
    )
    if _METRICS:
        cursor.execute(
            f"""WITH {SCOPE_CTE}
            INSERT INTO dms_kpirollup (grain, dealership_id, day, metric, staff_id, dim, n, total)
            SELECT 'd', u.dealership_id, u.day, u.metric, u.staff_id, u.dim, u.n, u.total FROM ({_union(_METRICS)}) u""",
            [rooftops, firsts, lasts],
        )
        cursor.execute(
            """INSERT INTO dms_kpirollup (grain, dealership_id, day, metric, staff_id, dim, n, total)
            SELECT 'D', r.dealership_id, r.day, r.metric, 0, r.dim, sum(r.n), sum(r.total)
            FROM unnest(%s::int[], %s::date[], %s::date[]) AS v(dealership_id, first_day, last_day)
            JOIN dms_kpirollup r ON r.grain = 'd' AND r.dealership_id = v.dealership_id
                 AND r.day BETWEEN v.first_day AND v.last_day
            GROUP BY r.dealership_id, r.day, r.metric, r.dim""",
            [rooftops, firsts, lasts],
        )
    months = sorted({(rooftop, day.replace(day=1)) for rooftop, day in pairs})
    month_rooftops = [m[0] for m in months]
    month_days = [m[1] for m in months]
    cursor.execute(
        """DELETE FROM dms_kpirollup r USING unnest(%s::int[], %s::date[]) AS v(dealership_id, month)
        WHERE r.grain IN ('m', 'M') AND r.dealership_id = v.dealership_id AND r.day = v.month""",
        [month_rooftops, month_days],
    )
    for day_grain, month_grain in (("d", "m"), ("D", "M")):
        cursor.execute(
            """INSERT INTO dms_kpirollup (grain, dealership_id, day, metric, staff_id, dim, n, total)
            SELECT %s, r.dealership_id, v.month, r.metric, r.staff_id, r.dim, sum(r.n), sum(r.total)
            FROM unnest(%s::int[], %s::date[]) AS v(dealership_id, month)
            JOIN dms_kpirollup r ON r.grain = %s AND r.dealership_id = v.dealership_id
                 AND r.day >= v.month AND r.day < (v.month + interval '1 month')::date
            GROUP BY r.dealership_id, v.month, r.metric, r.staff_id, r.dim""",
            [month_grain, month_rooftops, month_days, day_grain],
        )


def rebuild(dealership_ids: Sequence[int], first: datetime.date, last: datetime.date) -> int:
    """Recompute every day of a range (after a bulk load, or to repair): the refresh of a full log."""
    pairs = [
        (rooftop, first + datetime.timedelta(days=offset))
        for rooftop in dealership_ids
        for offset in range((last - first).days + 1)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        recompute(cursor, pairs)
    return len(pairs)


# ---------------------------------------------------------------------------------------------
# Reads


class Facts:
    """The counters of a set of metrics over one period: ``(metric, staff_id, dim) → (n, total)``.
    Lookups go through an index by metric and staff member, built once after the counters are read."""

    def __init__(self, counters: dict[tuple[str, int, str], tuple[int, Decimal]] | None = None):
        self.counters: dict[tuple[str, int, str], tuple[int, Decimal]] = dict(counters or {})
        self._index: dict[tuple[str, int | None], dict[str, tuple[int, Decimal]]] | None = None

    def add(self, metric_name: str, staff_id: int, dim: str, n: int, total: Decimal) -> None:
        key = (metric_name, staff_id, dim)
        old_n, old_total = self.counters.get(key, (0, ZERO))
        self.counters[key] = (old_n + int(n), old_total + Decimal(total))
        self._index = None

    def _dims(self, metric_name: str, staff: int | None) -> dict[str, tuple[int, Decimal]]:
        if self._index is None:
            index: dict[tuple[str, int | None], dict[str, tuple[int, Decimal]]] = {}
            for (name, staff_id, dim), (n, total) in self.counters.items():
                for key in ((name, staff_id), (name, None)):
                    dims = index.setdefault(key, {})
                    old_n, old_total = dims.get(dim, (0, ZERO))
                    dims[dim] = (old_n + n, old_total + total)
            self._index = index
        return self._index.get((metric_name, staff), {})

    def _select(self, metric_name: str, dim: str | Iterable[str] | None, staff: int | None):
        dims = self._dims(metric_name, staff)
        if dim is None:
            return dims.values()
        if isinstance(dim, str):
            return [dims[dim]] if dim in dims else []
        return [dims[d] for d in set(dim) if d in dims]

    def n(self, metric_name: str, dim: str | Iterable[str] | None = None, staff: int | None = None) -> int:
        return sum(value[0] for value in self._select(metric_name, dim, staff))

    def total(self, metric_name: str, dim: str | Iterable[str] | None = None, staff: int | None = None) -> Decimal:
        return sum((value[1] for value in self._select(metric_name, dim, staff)), ZERO)

    def by_dim(self, metric_name: str, staff: int | None = None) -> dict[str, tuple[int, Decimal]]:
        return dict(self._dims(metric_name, staff))

    def staff_ids(self, *metric_names: str) -> set[int]:
        return {staff for (name, staff, _), _v in self.counters.items() if name in metric_names and staff}

    def __eq__(self, other) -> bool:
        if not isinstance(other, Facts):
            return NotImplemented
        clean = lambda c: {k: (n, t.normalize()) for k, (n, t) in c.items() if n or t}  # noqa: E731
        return clean(self.counters) == clean(other.counters)

    def __repr__(self) -> str:
        return f"Facts({self.counters!r})"


def split_range(first: datetime.date, last: datetime.date) -> tuple[list[datetime.date], list[datetime.date]]:
    """The whole months inside [first, last] (their first days) and the remaining days."""
    months: list[datetime.date] = []
    days: list[datetime.date] = []
    day = first
    while day <= last:
        month_end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        if day.day == 1 and month_end <= last:
            months.append(day)
            day = month_end + datetime.timedelta(days=1)
        else:
            days.append(day)
            day += datetime.timedelta(days=1)
    return months, days


def _staff_clause(staff_ids: Sequence[int] | None, params: list) -> str:
    if staff_ids is None:
        return ""
    params.append(list(staff_ids))
    return " AND staff_id = ANY(%s)"


def _grains(per_staff: bool) -> tuple[str, str]:
    return ("m", "d") if per_staff else ("M", "D")


def read_periods(
    names: Sequence[str],
    dealership_ids: Sequence[int],
    periods: dict[str, tuple[datetime.date, datetime.date]],
    staff_ids: Sequence[int] | None = None,
    per_staff: Iterable[str] | None = None,
) -> dict[str, Facts]:
    """The rollup counters of each period, in one statement (whole months from the monthly rows). A period
    is read per staff member when ``staff_ids`` filters or it is in ``per_staff`` (the default: all of
    them); otherwise from the rooftop totals, which hold a fraction of the rows (staff id 0)."""
    split = set(periods) if per_staff is None else set(per_staff)
    parts, params = [], []
    for label, (first, last) in periods.items():
        months, days = split_range(first, last)
        month_grain, day_grain = _grains(staff_ids is not None or label in split)
        params += [label, list(dealership_ids), list(names), month_grain, months, day_grain, days]
        part = (
            "SELECT %s AS label, metric, staff_id, dim, sum(n), sum(total) FROM dms_kpirollup "
            "WHERE dealership_id = ANY(%s) AND metric = ANY(%s) "
            "AND ((grain = %s AND day = ANY(%s::date[])) OR (grain = %s AND day = ANY(%s::date[])))"
        )
        part += _staff_clause(staff_ids, params) + " GROUP BY metric, staff_id, dim"
        parts.append(part)
    result = {label: Facts() for label in periods}
    if not parts:
        return result
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for label, name, staff_id, dim, n, total in cursor.fetchall():
            result[label].add(name, staff_id, dim, n, total)
    return result


def read_series(
    names: Sequence[str],
    dealership_ids: Sequence[int],
    first: datetime.date,
    last: datetime.date,
    bucket: str,
    staff_ids: Sequence[int] | None = None,
) -> dict[datetime.date, Facts]:
    """Counters per day, week (from Monday) or month of [first, last], in one statement (the rooftop
    totals unless ``staff_ids`` filters)."""
    if bucket not in ("day", "week", "month"):
        raise ValueError(bucket)
    if bucket == "month":
        months, days = split_range(first, last)
    else:
        months = []
        days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    month_grain, day_grain = _grains(staff_ids is not None)
    params: list = [bucket, list(dealership_ids), list(names), month_grain, months, day_grain, days]
    sql = (
        "SELECT date_trunc(%s, day)::date AS bucket, metric, staff_id, dim, sum(n), sum(total) FROM dms_kpirollup "
        "WHERE dealership_id = ANY(%s) AND metric = ANY(%s) "
        "AND ((grain = %s AND day = ANY(%s::date[])) OR (grain = %s AND day = ANY(%s::date[])))"
    )
    sql += _staff_clause(staff_ids, params) + " GROUP BY 1, 2, 3, 4"
    result: dict[datetime.date, Facts] = defaultdict(Facts)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for start, name, staff_id, dim, n, total in cursor.fetchall():
            result[start].add(name, staff_id, dim, n, total)
    return dict(result)


def raw_facts(
    names: Sequence[str],
    dealership_ids: Sequence[int],
    first: datetime.date,
    last: datetime.date,
    staff_ids: Sequence[int] | None = None,
) -> Facts:
    """The same counters computed directly from the raw rows of the period, without rollups."""
    facts = Facts()
    if not names or not dealership_ids:
        return facts
    rooftops = list(dealership_ids)
    params: list = [rooftops, [first] * len(rooftops), [last] * len(rooftops)]
    sql = f"WITH {SCOPE_CTE} SELECT metric, staff_id, dim, sum(n), sum(total) FROM ({_union(names)}) u WHERE TRUE"
    sql += _staff_clause(staff_ids, params) + " GROUP BY 1, 2, 3"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for name, staff_id, dim, n, total in cursor.fetchall():
            facts.add(name, staff_id, dim, n, total)
    return facts

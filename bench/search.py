"""``make bench``: the header search's latency at two data scales, through the view and as raw SQL.

For each scale (default 10,000 and 1,000,000 customers and as many vehicles) the crm tables of a
separate database, ``dms_bench`` on the same PostgreSQL server, are reloaded with COPY; then for
each key kind (full name, 2-character name, phone, last 4 digits, plate fragment, VIN fragment)
``--queries`` searches sampled from existing rows are timed through the real ``/search/`` view
(Django test client, logged in as a service advisor of both rooftops) and as the same SQL the
search issues, executed on a plain psycopg2 connection. Output is JSON lines on stdout:

* ``{"bench": "load", ...}``: seconds per load phase at each scale;
* ``{"bench": "search", "scale": ..., "kind": ..., ...}``: p50/p95 in ms of the view, of the SQL,
  of calling ``crm.search.search`` directly (to tell the ORM's share from the request's) and of
  the server-side time from EXPLAIN ANALYZE (planning plus execution, without the network and
  client, so less noisy); ``misses``: searches that returned no row of the kind searched for;
  ``target_lost``: searches that returned fewer rows than the limit yet not the row the query was
  taken from (a recall bug); ``target_absent_by_class``: searches whose source row is not among
  the results, by how ``classify`` read them (a full page of other matches is fine, a wrong
  reading is not); how ``classify`` read the queries; how many queries the view and the search ran;
* ``{"bench": "explain", ...}``: at the largest scale, from EXPLAIN ANALYZE of every search's
  statements on the big tables: whether all ran on indexes (and which), and the plans of the
  search the server took longest over;
* ``{"bench": "search-summary", ...}``: per kind, p95 at the largest over the smallest scale (the
  ``*_1m_over_10k`` names assume the default scales; the server-side ratio is for information)
  and whether the goals are met: the view's p95 within 2x the SQL's at every scale, and both p95s
  growing at most 2x from the small to the large scale.

The database is dropped and re-created on every run (the dev database is never touched); with
``DATABASE_URL`` set, ``dms_bench`` is created on that server instead of the embedded one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

BENCH_DATABASE = "dms_bench"
DEFAULT_SCALES = (10_000, 1_000_000)
DEFAULT_QUERIES = 200
SEED = 20261123


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scales",
        type=lambda value: [int(item) for item in value.split(",")],
        default=list(DEFAULT_SCALES),
        help="comma-separated row counts (customers, and as many vehicles); default 10000,1000000",
    )
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES, help="timed searches per kind and scale")
    parser.add_argument("--warmup", type=int, default=20, help="untimed searches per kind before timing")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the data and the query sample")
    options = parser.parse_args(argv)
    if len(options.scales) < 2 or sorted(options.scales) != options.scales:
        parser.error("--scales needs at least two row counts in increasing order")
    if options.queries < 2:
        parser.error("--queries needs at least 2 searches per kind for percentiles")
    return options


def recreate_bench_database(database: str = BENCH_DATABASE) -> str:
    """Drop and create ``database`` on the configured (or embedded) server; return its URL."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        from dms import embedded

        server_url = embedded.postgres_url("postgres")
    parts = urlsplit(server_url)
    admin = psycopg2.connect(parts._replace(path="/postgres").geturl())
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            name = sql.Identifier(database)
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    finally:
        admin.close()
    return parts._replace(path=f"/{database}").geturl()


def setup_django(database_url: str) -> None:
    """Point Django at the bench database, set it up and migrate it."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dms.settings.test")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def scale_parser(prog: str, doc: str, *, scales_help: str, requests: int, warmup: int) -> argparse.ArgumentParser:
    """The options every scale benchmark takes: ``--scales`` (fractions of the full data set, at least two,
    increasing), ``--requests`` and ``--warmup``; ``checked_scale_options`` checks them once parsed."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    parser.add_argument("--scales", type=lambda value: [float(item) for item in value.split(",")], help=scales_help)
    parser.add_argument("--requests", type=int, default=requests, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=warmup, help="untimed rounds before timing")
    return parser


def checked_scale_options(parser: argparse.ArgumentParser, argv, *, default_scales, smallest: str):
    options = parser.parse_args(argv)
    options.scales = options.scales or list(default_scales)
    if len(options.scales) < 2 or sorted(options.scales) != options.scales:
        parser.error("--scales needs at least two fractions in increasing order")
    if options.scales[0] < 0.001:
        parser.error(f"the smallest scale is 0.001 ({smallest})")
    if options.requests < 2:
        parser.error("--requests needs at least 2 requests per page for percentiles")
    return options


def emit_scale_summaries(name: str, results: dict, scales: list[float], goal_ratio: float) -> None:
    """Per page, the scale goals: p95 at the largest scale within ``goal_ratio`` × p95 at the smallest,
    and the same query count at both. ``results`` is page → scale → timing (p95_ms, queries, …)."""
    small, large = scales[0], scales[-1]
    for page, by_scale in results.items():
        ratio = by_scale[large]["p95_ms"] / by_scale[small]["p95_ms"]
        same_queries = by_scale[large]["queries"] == by_scale[small]["queries"]
        record = {"bench": f"{name}-summary", "page": page}
        if "role" in by_scale[large]:
            record["role"] = by_scale[large]["role"]
        emit(
            {
                **record,
                "small_scale": small,
                "large_scale": large,
                "p95_small_ms": by_scale[small]["p95_ms"],
                "p95_large_ms": by_scale[large]["p95_ms"],
                "p95_large_over_small": round(ratio, 2),
                "p95_goal": f"<= {goal_ratio}",
                "p95_met": ratio <= goal_ratio,
                "queries_small": by_scale[small]["queries"],
                "queries_large": by_scale[large]["queries"],
                "queries_met": same_queries,
                "met": ratio <= goal_ratio and same_queries,
            }
        )


def with_private_redis(run, options) -> None:
    """``run(options)`` against a Redis server of its own: the permission snapshots cached per user id must
    not be another process's (a test run on a shared server has users with the same ids)."""
    from dms.embedded import PrivateRedis

    redis_server = PrivateRedis()
    try:
        redis_server.start()
        os.environ.update({"REDIS_URL": redis_server.url, "TEST_REDIS_URL": redis_server.url})
        run(options)
    finally:
        redis_server.cleanup()


def emit(record: dict) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    database_url = recreate_bench_database()
    setup_django(database_url)
    from bench.timing import SearchBench  # needs the Django setup above

    bench = SearchBench(database_url, seed=options.seed, queries=options.queries, warmup=options.warmup)
    results = {}
    for scale in options.scales:
        emit({"bench": "load", "scale": scale, **bench.load(scale)})
        results[scale] = bench.measure(scale)
        for record in results[scale].values():
            emit(record.as_json(scale))
    for result in results[options.scales[-1]].values():
        emit({"bench": "explain", "scale": options.scales[-1], **result.explained})
    for summary in bench.summarise(results[options.scales[0]], results[options.scales[-1]]):
        emit(
            {"bench": "search-summary", "small_scale": options.scales[0], "large_scale": options.scales[-1], **summary}
        )
    if not bench.view_available:
        print("note: no URL named 'search' yet, so the view was not timed", file=sys.stderr)


if __name__ == "__main__":
    main()

"""``make bench``: the call-queue page's latency with 10,000 and with 1,000,000 follow-up rows.

The ``followup_followup`` table of a separate database, ``dms_bench_queue``, is filled with
``INSERT … SELECT FROM generate_series`` at each scale, shaped like a dealer group's history: 97% of
the rows done, 1% scheduled for later, 2% in the call queue (due in the past; a third of them
assigned to someone, a tenth of those escalated, one in twenty past its 48 hours). Then the page a
customer specialist works from, ``GET /followups/`` (the due list, counts and the first call with
its history and script), is requested ``--requests`` times through the Django test client (each customer has about 20
follow-ups at every scale), and the
same for a manager's whole-rooftop view (``?scope=all``).

JSON lines on stdout: ``{"bench": "queue-load", ...}`` per scale, ``{"bench": "queue-page", ...}``
per scale and view (p50/p95 ms, queries per request, rows listed), and ``{"bench": "queue-summary",
...}`` with the p95 ratio large/small per view and whether it is within the 1.5x goal.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.search import emit, recreate_bench_database, setup_django

BENCH_DATABASE = "dms_bench_queue"
DEFAULT_SCALES = (10_000, 1_000_000)
# Each customer has about 20 follow-ups at every scale: a group with more history has more customers,
# so the call shown beside the list carries the same amount of history at both scales.
ROWS_PER_CUSTOMER = 20
GOAL_RATIO = 1.5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.queue", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scales",
        type=lambda value: [int(item) for item in value.split(",")],
        default=list(DEFAULT_SCALES),
        help="comma-separated follow-up row counts; default 10000,1000000",
    )
    parser.add_argument("--requests", type=int, default=200, help="timed page requests per view and scale")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests before timing")
    return parser.parse_args(argv)


class QueueBench:
    def __init__(self, largest: int) -> None:
        from django.contrib.auth.models import Group
        from django.test import Client

        from bench.timing import _allowed_host
        from crm.choices import Role
        from crm.models import Customer, Dealership, User

        self.rooftops = [
            Dealership.objects.create(code=code, name=name, time_zone="Asia/Shanghai", phone_region="CN")
            for code, name in (("SH01", "上海浦东4S店"), ("BJ01", "北京朝阳4S店"))
        ]
        Customer.objects.bulk_create(
            [
                Customer(dealership=self.rooftops[index % 2], full_name=f"客户{index}", mobile=f"+86138{index:08d}")
                for index in range(max(1, largest // ROWS_PER_CUSTOMER))
            ],
            batch_size=5_000,
        )
        self.users = {}
        for username, role in (("bench-specialist", Role.CUSTOMER_SPECIALIST), ("bench-manager", Role.MANAGER)):
            user = User.objects.create_user(username=username, full_name=username)
            user.groups.add(Group.objects.get(name=role.value))
            user.dealerships.set(self.rooftops)
            self.users[role] = user
        self.clients = {}
        for role, user in self.users.items():
            client = Client(HTTP_HOST=_allowed_host())
            client.force_login(user)
            self.clients[role] = client

    def load(self, rows: int) -> dict:
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection

        from crm.choices import Role
        from crm.models import Customer

        customer_type = ContentType.objects.get_for_model(Customer).pk
        first_customer = Customer.objects.order_by("pk").values_list("pk", flat=True)[0]
        specialist = self.users[Role.CUSTOMER_SPECIALIST].pk
        manager = self.users[Role.MANAGER].pk
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE followup_attempt, followup_message, followup_followup RESTART IDENTITY CASCADE")
            cursor.execute(
                """
                INSERT INTO followup_followup (
                    dealership_id, kind, customer_id, subject_type_id, subject_id, due_at, window_ends_at,
                    assignee_id, team, status, attempts, outcome, satisfaction, notes, data,
                    claimed_until, claimed_by, done_at, created_at, updated_at)
                SELECT
                    c.dealership_id,
                    (ARRAY['service_followup', 'delivery_followup', 'maintenance_due', 'appointment_confirmation',
                           'complaint_callback'])[1 + i %% 5],
                    c.id, %(ct)s, i,
                    due, due + interval '48 hours',
                    CASE WHEN bucket > 97 AND (i / 100) %% 3 = 0 THEN
                        CASE WHEN (i / 100) %% 30 = 0 THEN %(manager)s ELSE %(specialist)s END END,
                    'Customer specialist',
                    CASE WHEN bucket < 97 THEN 'done' WHEN bucket = 97 THEN 'scheduled'
                         WHEN (i / 100) %% 30 = 0 THEN 'escalated' ELSE 'queued' END,
                    CASE WHEN bucket < 97 THEN 1 ELSE 0 END,
                    CASE WHEN bucket < 97 THEN 'reached' ELSE '' END,
                    CASE WHEN bucket < 97 THEN 4 + i %% 2 END,
                    '', '{}', NULL, '',
                    CASE WHEN bucket < 97 THEN due + interval '3 hours' END,
                    due - interval '1 day', due
                FROM (
                    SELECT i, (i * 7919) %% 100 AS bucket,
                        CASE
                            WHEN (i * 7919) %% 100 = 97 THEN now() + (i %% 72) * interval '1 hour'
                            WHEN (i * 7919) %% 100 > 97 AND i %% 20 = 0 THEN now() - interval '60 hours'
                            WHEN (i * 7919) %% 100 > 97 THEN now() - (i %% 40) * interval '1 hour'
                            ELSE now() - interval '4 days' - (i %% 1000) * interval '1 hour'
                        END AS due
                    FROM generate_series(1::bigint, %(rows)s) AS i
                ) AS g
                JOIN crm_customer AS c ON c.id = %(first)s + g.i %% %(customers)s
                """,
                {
                    "ct": customer_type,
                    "manager": manager,
                    "specialist": specialist,
                    "rows": rows,
                    "first": first_customer,
                    "customers": max(1, rows // ROWS_PER_CUSTOMER),
                },
            )
            loaded = time.perf_counter()
            cursor.execute("VACUUM ANALYZE followup_followup")
            cursor.execute("SELECT status, count(*) FROM followup_followup GROUP BY status ORDER BY status")
            statuses = dict(cursor.fetchall())
        return {
            "rows": rows,
            "customers": max(1, rows // ROWS_PER_CUSTOMER),
            "insert_s": round(loaded - started, 2),
            "analyze_s": round(time.perf_counter() - loaded, 2),
            "statuses": statuses,
        }

    def time_view(self, role, params: dict, requests: int, warmup: int) -> dict:
        from django.db import connection

        client = self.clients[role]
        for _ in range(warmup):
            client.get("/followups/", params)
        timings = []
        statements = []
        with connection.execute_wrapper(lambda execute, sql, *args: statements.append(sql) or execute(sql, *args)):
            response = client.get("/followups/", params)
        assert response.status_code == 200, response.status_code
        listed = response.content.decode().count('class="list-group-item list-group-item-action call-row')
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/followups/", params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        timings.sort()
        return {
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
            "queries": len(statements),
            "rows_listed": listed,
        }


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    setup_django(recreate_bench_database(BENCH_DATABASE))
    from crm.choices import Role

    bench = QueueBench(largest=options.scales[-1])
    views = {
        "specialist": (Role.CUSTOMER_SPECIALIST, {}),
        "manager-all": (Role.MANAGER, {"scope": "all"}),
    }
    results: dict[str, dict[int, dict]] = {name: {} for name in views}
    for scale in options.scales:
        emit({"bench": "queue-load", "scale": scale, **bench.load(scale)})
        for name, (role, params) in views.items():
            result = bench.time_view(role, params, options.requests, options.warmup)
            results[name][scale] = result
            emit({"bench": "queue-page", "scale": scale, "view": name, **result})
    small, large = options.scales[0], options.scales[-1]
    for name, by_scale in results.items():
        ratio = by_scale[large]["p95_ms"] / by_scale[small]["p95_ms"]
        emit(
            {
                "bench": "queue-summary",
                "view": name,
                "small_scale": small,
                "large_scale": large,
                "p95_large_over_small": round(ratio, 2),
                "goal": f"<= {GOAL_RATIO}",
                "met": ratio <= GOAL_RATIO,
            }
        )


if __name__ == "__main__":
    main()

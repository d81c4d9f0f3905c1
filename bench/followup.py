"""``make bench``: the follow-up dispatcher draining 100,000 due rows through real Celery workers.

A separate database, ``dms_bench_followup`` on the same PostgreSQL server (re-created and migrated
on every run), gets two Shanghai rooftops open all day every day (so no message is deferred to a
contact window), a few thousand customers (COPY, from ``bench.data``; nobody prefers email, so
every message goes to the console provider) and ``--rows`` follow-ups due now (COPY): satisfaction
surveys and greetings (messages) and a ``--call-share`` of service follow-up calls (which go to the
call queue). Then:

* the raw claim: the rows are claimed with the dispatcher's own ``UPDATE … WHERE id IN (SELECT …
  FOR UPDATE SKIP LOCKED LIMIT 500) RETURNING id`` statement (``followup.dispatch.claim_due``) on a
  plain psycopg2 connection until none is left; then the claims are reset and the table vacuumed;
* the drain: ``--workers`` ``celery -A dms worker`` processes (prefork pool, ``--concurrency`` each)
  are started on a Redis server of the benchmark's own (broker and cache) with the console provider
  writing to a temporary file and no send-rate cap; ``followup.dispatch_due`` is sent through the
  broker, and again every ``--beat-seconds`` like beat would, until no row is left scheduled. The
  time is from the first send to the last row's ``updated_at``.

Output is JSON lines on stdout:

* ``{"bench": "followup-load", ...}``: rows, messages, calls, customers and seconds per load phase;
* ``{"bench": "followup-claim-raw", ...}``: seconds and rows per second of the SQL-only claim;
* ``{"bench": "followup-drain", ...}``: seconds and rows per second end to end; ``duplicates``
  (console lines beyond one per idempotency key, plus message rows with more than one attempt)
  and ``lost`` (rows not ``done``/``queued`` at the end, plus sent messages with no console line),
  both must be 0; rows by final status; from the workers' logs, how many ``process_batch`` and
  ``dispatch_due`` tasks ran, their median and longest run time and the summed per-batch counts;
* ``{"bench": "followup-summary", ...}``: the drain's time over the raw claim's and whether it is
  within the goal (10x).

Every process the benchmark starts (workers, Redis) is stopped when it ends; the dev database is
never touched. With ``DATABASE_URL`` set, the database is created on that server instead of the
embedded one.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import io
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg2
from psycopg2 import sql

from bench.search import emit, recreate_bench_database
from dms.embedded import PrivateRedis

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "dms_bench_followup"
DEFAULT_ROWS = 100_000
DEFAULT_WORKERS = 2
DEFAULT_CUSTOMERS = 5_000
GOAL_RATIO = 10.0
SEED = 20261123
COPY_CHUNK_ROWS = 20_000
TASK_LINE = re.compile(r"Task (followup\.\w+)\[[^\]]+\] succeeded in ([0-9.]+)s: (.*)$")

FOLLOWUP_COLUMNS = (
    "id",
    "dealership_id",
    "kind",
    "customer_id",
    "subject_type_id",
    "subject_id",
    "due_at",
    "team",
    "status",
    "attempts",
    "outcome",
    "notes",
    "data",
    "claimed_by",
    "created_at",
    "updated_at",
)
# The statement of ``followup.dispatch.claim_due``, replayed on a plain connection.
CLAIM_SQL = """
    UPDATE followup_followup SET claimed_until = %s, claimed_by = %s
    WHERE id IN (
        SELECT id FROM followup_followup
        WHERE status = %s AND due_at <= %s AND (claimed_until IS NULL OR claimed_until < %s)
        ORDER BY due_at
        LIMIT %s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.followup", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="follow-ups due at once; default 100000")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="celery worker processes; default 2")
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker; default 1")
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS, help="customers the rows are about")
    parser.add_argument("--call-share", type=float, default=0.1, help="share of rows that are calls; default 0.1")
    parser.add_argument("--beat-seconds", type=float, default=2.0, help="send dispatch_due again this often")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up the drain after this many seconds")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the customers and the row kinds")
    options = parser.parse_args(argv)
    if options.rows < 1 or options.workers < 1 or options.concurrency < 1 or options.customers < 1:
        parser.error("--rows, --workers, --concurrency and --customers must be positive")
    if not 0 <= options.call_share <= 1:
        parser.error("--call-share is a share between 0 and 1")
    return options


def stop_process(process: subprocess.Popen, *, group: bool, timeout: float = 30) -> None:
    """SIGTERM ``process`` (its whole process group when ``group``), SIGKILL it if it does not exit in time."""

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)

    if process.poll() is None:
        send(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            process.wait(10)
    elif group:  # the worker's main process is gone; make sure no pool child outlived it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def setup_django(database_url: str, redis_url: str, console: Path) -> None:
    """Point this process (and, through the environment, the workers) at the bench database and Redis; migrate."""
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TEST_REDIS_URL": redis_url,
            "FOLLOWUP_CONSOLE_PATH": str(console),
            "FOLLOWUP_CONSOLE_RATE": "0",  # no cap: the console provider takes whatever it is given
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dms.settings.test")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def worker_environment() -> dict[str, str]:
    """This process's environment, which ``setup_django`` pointed at the bench database and Redis."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


class FollowupBench:
    """Loads the rows, times the raw claim, then drains them through real Celery workers."""

    def __init__(self, database_url: str, options: argparse.Namespace, workdir: Path) -> None:
        from django.conf import settings

        self.database_url = database_url
        self.options = options
        self.workdir = workdir
        self.console = Path(os.environ["FOLLOWUP_CONSOLE_PATH"])
        self.workers: list[subprocess.Popen] = []
        self.raw = psycopg2.connect(database_url, **settings.DATABASES["default"].get("OPTIONS", {}))
        self.raw.autocommit = True
        self.messages = self.calls = 0

    def close(self) -> None:
        for process in self.workers:
            stop_process(process, group=True)
        self.raw.close()

    # --- load ---------------------------------------------------------------------------------

    def load(self) -> dict:
        from django.contrib.contenttypes.models import ContentType

        from crm.models import BusinessHours, Dealership
        from followup.models import FollowUp

        from .data import CUSTOMER_COLUMNS, DataGenerator, Rooftop
        from .timing import ROOFTOPS

        timings: dict[str, float] = {}
        started = phase = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal phase
            now = time.perf_counter()
            timings[name] = round(now - phase, 2)
            phase = now

        dealerships = [
            Dealership.objects.create(code=code, name=name, time_zone="Asia/Shanghai", phone_region="CN")
            for code, name, _ in ROOFTOPS
        ]
        # Open around the clock, so the dispatcher never defers a message to the next contact window.
        BusinessHours.objects.bulk_create(
            BusinessHours(
                dealership=dealership,
                weekday=weekday,
                opens_at=datetime.time(0, 0),
                closes_at=datetime.time(23, 59, 59, 999999),
            )
            for dealership in dealerships
            for weekday in range(7)
        )
        rooftops = [
            Rooftop(dealership.pk, *local) for dealership, (_, _, local) in zip(dealerships, ROOFTOPS, strict=True)
        ]
        customers = self.options.customers
        generator = DataGenerator(self.options.seed, rooftops)
        self._copy("crm_customer", CUSTOMER_COLUMNS, generator.customer_chunks(customers, COPY_CHUNK_ROWS))
        with self.raw.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('crm_customer', 'id'), %s)", [customers])
            # Every message goes to the console provider: nobody prefers email (capped at 20 a second).
            cursor.execute("UPDATE crm_customer SET preferred_channel = 'sms' WHERE preferred_channel = 'email'")
        lap("customers_s")

        subject_type = ContentType.objects.get_for_model(FollowUp).pk
        due_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
        self._copy(
            "followup_followup",
            FOLLOWUP_COLUMNS,
            self._followup_chunks([rooftop.id for rooftop in rooftops], subject_type, due_at),
        )
        with self.raw.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('followup_followup', 'id'), %s)", [self.options.rows])
        lap("followups_s")
        self._vacuum()
        lap("vacuum_analyze_checkpoint_s")
        timings["total_s"] = round(time.perf_counter() - started, 2)
        return {
            "rows": self.options.rows,
            "messages": self.messages,
            "calls": self.calls,
            "customers": customers,
            "rooftops": len(rooftops),
            **timings,
        }

    def _followup_chunks(self, rooftop_ids: list[int], subject_type: int, due_at: datetime.datetime):
        """COPY text of rows 1..``rows``, all due at ``due_at``: surveys and greetings, and a share of calls."""
        from followup.choices import FollowUpKind, FollowUpStatus

        rng = random.Random(f"{self.options.seed}:followups")
        stamp = due_at.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        customers = self.options.customers
        message_kinds = (FollowUpKind.SURVEY.value, FollowUpKind.GREETING.value)
        for start in range(0, self.options.rows, COPY_CHUNK_ROWS):
            lines = []
            for row_id in range(start + 1, min(start + COPY_CHUNK_ROWS, self.options.rows) + 1):
                customer_id = rng.randrange(1, customers + 1)
                # ``bench.data`` puts customer i at rooftop i mod len(rooftops).
                dealership_id = rooftop_ids[customer_id % len(rooftop_ids)]
                if rng.random() < self.options.call_share:
                    kind, team = FollowUpKind.SERVICE_FOLLOWUP.value, "customer_specialist"
                    self.calls += 1
                else:
                    kind, team = rng.choice(message_kinds), ""
                    self.messages += 1
                lines.append(
                    "\t".join(
                        (
                            str(row_id),
                            str(dealership_id),
                            kind,
                            str(customer_id),
                            str(subject_type),
                            str(row_id),
                            stamp,
                            team,
                            FollowUpStatus.SCHEDULED.value,
                            "0",
                            "",
                            "",
                            "{}",
                            "",
                            stamp,
                            stamp,
                        )
                    )
                )
            lines.append("")
            yield "\n".join(lines)

    def _copy(self, table: str, columns: tuple[str, ...], chunks) -> None:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with self.raw.cursor() as cursor:
            cursor.execute("BEGIN")
            for chunk in chunks:
                cursor.copy_expert(statement, io.StringIO(chunk), size=1 << 20)
            cursor.execute("COMMIT")

    def _vacuum(self) -> None:
        with self.raw.cursor() as cursor:
            for table in ("crm_customer", "followup_followup"):
                cursor.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
            cursor.execute("CHECKPOINT")  # so the load's writes are not flushed while the claims are timed

    # --- the raw claim --------------------------------------------------------------------------

    def claim_raw(self) -> dict:
        """Claim every due row with the dispatcher's statement alone, 500 at a time; then undo the claims."""
        from followup.choices import FollowUpStatus
        from followup.dispatch import BATCH_SIZE, lease

        claimed: list[int] = []
        batches = 0
        started = time.perf_counter()
        with self.raw.cursor() as cursor:
            while True:
                now = datetime.datetime.now(datetime.UTC)
                token = uuid.uuid4().hex
                cursor.execute(CLAIM_SQL, [now + lease(), token, FollowUpStatus.SCHEDULED.value, now, now, BATCH_SIZE])
                ids = [row[0] for row in cursor.fetchall()]
                if not ids:
                    break
                claimed.extend(ids)
                batches += 1
        seconds = time.perf_counter() - started
        with self.raw.cursor() as cursor:
            cursor.execute(
                "UPDATE followup_followup SET claimed_until = NULL, claimed_by = '' WHERE claimed_until IS NOT NULL"
            )
        self._vacuum()  # the drain starts from a table as clean as the raw claim's
        return {
            "rows": len(claimed),
            "distinct_rows": len(set(claimed)),
            "batches": batches,
            "batch_size": BATCH_SIZE,
            "seconds": round(seconds, 3),
            "rows_per_second": round(len(claimed) / seconds) if seconds else None,
        }

    # --- the drain through Celery ----------------------------------------------------------------

    def start_workers(self) -> None:
        environment = worker_environment()
        for number in range(1, self.options.workers + 1):
            log = (self.workdir / f"worker-{number}.log").open("w")
            self.workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "dms",
                        "worker",
                        "--pool",
                        "prefork",
                        "--concurrency",
                        str(self.options.concurrency),
                        "-n",
                        f"bench-{number}@%h",
                        "--loglevel",
                        "INFO",
                    ],
                    cwd=ROOT,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, so its pool children are stopped with it
                )
            )
            log.close()
        from dms.celery import app

        deadline = time.monotonic() + 120
        while len(app.control.ping(timeout=1.0)) < self.options.workers:
            dead = [process.pid for process in self.workers if process.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"the workers did not all start (exited: {dead})\n{self.logs()}")

    def drain(self) -> dict:
        from django.db import connection

        from dms.celery import app
        from followup.choices import FollowUpStatus

        def scheduled() -> int:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM followup_followup WHERE status = %s", [FollowUpStatus.SCHEDULED])
                return cursor.fetchone()[0]

        started_at = datetime.datetime.now(datetime.UTC)
        started = time.monotonic()
        app.send_task("followup.dispatch_due")
        triggers, last_trigger = 1, started
        remaining = scheduled()
        while remaining and time.monotonic() - started < self.options.timeout:
            time.sleep(0.25)
            if time.monotonic() - last_trigger >= self.options.beat_seconds:
                app.send_task("followup.dispatch_due")  # what beat does, only more often
                triggers, last_trigger = triggers + 1, time.monotonic()
            remaining = scheduled()
        observed = time.monotonic() - started
        return {"started_at": started_at, "observed_s": observed, "triggers": triggers, "timed_out": bool(remaining)}

    def check(self, drained: dict) -> dict:
        """What the drain did: the time to the last row handled, duplicates and lost rows."""
        from django.db.models import Count, Max

        from followup.choices import MESSAGE_KINDS, FollowUpStatus, MessageStatus
        from followup.models import FollowUp, Message

        statuses = dict(Counter(FollowUp.objects.values_list("status", flat=True)))
        last = FollowUp.objects.exclude(status=FollowUpStatus.SCHEDULED).aggregate(last=Max("updated_at"))["last"]
        seconds = (last - drained["started_at"]).total_seconds() if last else drained["observed_s"]
        messages = FollowUp.objects.filter(kind__in=MESSAGE_KINDS)
        calls = FollowUp.objects.exclude(kind__in=MESSAGE_KINDS)
        unfinished = (
            messages.exclude(status=FollowUpStatus.DONE).count() + calls.exclude(status=FollowUpStatus.QUEUED).count()
        )
        keys = self.sent_keys()
        distinct = set(keys)
        sent = {
            str(key)
            for key in Message.objects.filter(status=MessageStatus.SENT).values_list("idempotency_key", flat=True)
        }
        all_keys = {str(key) for key in Message.objects.values_list("idempotency_key", flat=True)}
        attempted_twice = messages.annotate(tries=Count("attempt_log")).filter(tries__gt=1).count()
        rows = self.options.rows
        return {
            "rows": rows,
            "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds) if seconds > 0 else None,
            "duplicates": (len(keys) - len(distinct)) + attempted_twice,
            "lost": unfinished + len(sent - distinct),
            "workers": self.options.workers,
            "concurrency": self.options.concurrency,
            "messages_sent": len(sent),
            "console_lines": len(keys),
            "console_lines_without_message": len(distinct - all_keys),
            "calls_queued": calls.filter(status=FollowUpStatus.QUEUED).count(),
            "statuses": statuses,
            "observed_s": round(drained["observed_s"], 3),
            "dispatch_due_sent": drained["triggers"],
            "timed_out": drained["timed_out"],
            **self.task_stats(),
        }

    def sent_keys(self) -> list[str]:
        if not self.console.exists():
            return []
        with self.console.open(encoding="utf-8") as handle:
            return [json.loads(line)["key"] for line in handle if line.strip()]

    def task_stats(self) -> dict:
        """From the workers' logs: the tasks that ran, their run times and the summed per-batch counts."""
        runtimes: dict[str, list[float]] = {"followup.process_batch": [], "followup.dispatch_due": []}
        counts: Counter[str] = Counter()
        claimed_by_dispatch = 0
        for path in sorted(self.workdir.glob("worker-*.log")):
            for line in path.read_text(errors="replace").splitlines():
                match = TASK_LINE.search(line)
                if not match or match[1] not in runtimes:
                    continue
                runtimes[match[1]].append(float(match[2]))
                with contextlib.suppress(ValueError, SyntaxError):
                    value = ast.literal_eval(match[3].strip())
                    if isinstance(value, dict):
                        counts.update(value)
                    elif isinstance(value, int):
                        claimed_by_dispatch += value
        batches, dispatches = runtimes["followup.process_batch"], runtimes["followup.dispatch_due"]
        return {
            "process_batch_tasks": len(batches),
            "process_batch_p50_s": round(statistics.median(batches), 3) if batches else None,
            "process_batch_max_s": round(max(batches), 3) if batches else None,
            "process_batch_busy_s": round(sum(batches), 3),
            "batch_counts": dict(counts),
            "dispatch_due_tasks": len(dispatches),
            "dispatch_due_claimed": claimed_by_dispatch,
            "dispatch_due_max_s": round(max(dispatches), 3) if dispatches else None,
        }

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in self.workdir.glob("*.log")
        )


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="dms-bf-", dir="/tmp"))  # short: a unix socket path lives here
    redis_server = PrivateRedis(workdir)
    bench: FollowupBench | None = None
    try:
        redis_server.start()
        database_url = recreate_bench_database(BENCH_DATABASE)
        setup_django(database_url, redis_server.url, workdir / "console.jsonl")
        bench = FollowupBench(database_url, options, workdir)
        emit({"bench": "followup-load", **bench.load()})
        raw = bench.claim_raw()
        emit({"bench": "followup-claim-raw", **raw})
        bench.start_workers()
        drain = bench.check(bench.drain())
        emit({"bench": "followup-drain", **drain})
        ratio = drain["seconds"] / raw["seconds"] if raw["seconds"] else None
        emit(
            {
                "bench": "followup-summary",
                "rows": options.rows,
                "drain_s": drain["seconds"],
                "raw_claim_s": raw["seconds"],
                "drain_over_raw_claim": round(ratio, 2) if ratio is not None else None,
                "goal_ratio": GOAL_RATIO,
                "goal_drain_within_10x_raw": ratio is not None and ratio <= GOAL_RATIO,
                "exactly_once": drain["duplicates"] == 0 and drain["lost"] == 0,
            }
        )
        if drain["timed_out"] or drain["lost"] or drain["duplicates"]:
            print(bench.logs(), file=sys.stderr)
    finally:
        if bench is not None:
            bench.close()
        redis_server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

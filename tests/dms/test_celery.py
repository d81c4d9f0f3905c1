"""Background jobs: a task put on the Redis broker is run by a real ``celery worker`` process.

What a user relies on: follow-up reminders and other background work queued by the web process
actually run in the worker started by ``make run`` (or the compose ``worker`` service), the worker
shares the web's Redis for results and cache, and the health page reports that a worker is alive.

The worker is a real subprocess (``celery -A dms worker``) with the test settings, pointed at the
test database and at the test Redis database (DB 1), and it consumes only a queue of its own, so
neither a ``make run`` worker (Redis DB 0) nor another test can take the task.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import uuid
from urllib.parse import quote, urlencode

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from dms.celery import app
from dms.tasks import HEARTBEAT_CACHE_KEY, worker_heartbeat

from .processes import ROOT, child_environment, stop

TASK_TIMEOUT = 90  # seconds: worker start-up (Django set-up, broker connection) plus the task itself


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL (dj-database-url syntax) for the database Django is connected to.

    The embedded server listens on a unix socket: its directory is the HOST, percent-encoded.
    """
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = quote(settings_dict.get("HOST") or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    options = {
        key: value for key, value in (settings_dict.get("OPTIONS") or {}).items() if isinstance(value, str | int)
    }
    query = f"?{urlencode(options)}" if options else ""  # e.g. sslmode from an external DATABASE_URL
    return f"postgresql://{credentials}@{host}{port}/{quote(settings_dict['NAME'], safe='')}{query}"


def purge_queue(queue: str) -> None:
    """Remove a test queue, its messages and the routing entries kombu keeps for it, through the broker's own client."""
    with contextlib.suppress(redis.RedisError, OSError), app.connection_for_write() as broker:
        channel = broker.default_channel
        channel.client.delete(
            channel.keyprefix_queue % queue,
            channel.keyprefix_binding_permanent % queue,
            *(channel._q_for_pri(queue, priority) for priority in channel.priority_steps),
        )


class Worker:
    def __init__(self, process: subprocess.Popen, queue: str, log):
        self.process, self.queue, self._log = process, queue, log

    def output(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def wait_for(self, result, timeout: float = TASK_TIMEOUT):
        """The task's return value; fails at once, with the worker's output, if the worker dies."""
        deadline = time.monotonic() + timeout
        while not result.ready():
            if self.process.poll() is not None:
                pytest.fail(
                    f"the worker exited with {self.process.returncode} before running the task:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no worker ran the task within {timeout}s; worker output:\n{self.output()}")
            time.sleep(0.2)
        return result.get(timeout=10)


@pytest.fixture
def worker(db, tmp_path):
    """A ``celery -A dms worker`` subprocess consuming a queue of its own, stopped (SIGTERM, then SIGKILL).

    ``db`` (not ``transactional_db``) is enough: the heartbeat task touches only the cache, so the
    worker never needs to see rows this test writes; the database is only for the health view here.
    The worker still gets the test database's URL so it never starts or joins a server of its own.
    """
    queue = f"test-celery-{uuid.uuid4().hex[:12]}"
    environment = child_environment(
        DJANGO_SETTINGS_MODULE="dms.settings.test",
        DATABASE_URL=database_url(connection.settings_dict),
        # The very Redis (and DB 1) this process uses for broker, results and cache.
        REDIS_URL=settings.REDIS_URL,
        TEST_REDIS_URL=settings.REDIS_URL,
    )
    log = (tmp_path / "worker.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dms", "worker", "--pool", "solo", "--concurrency", "1"]
        + ["-Q", queue, "-n", f"{queue}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker = Worker(process, queue, log)
    try:
        yield worker
    finally:
        exit_code = stop(process, timeout=20)
        print(f"--- worker (exit {exit_code}) ---\n{worker.output()}")  # pytest shows it only if the test failed
        log.close()
        purge_queue(queue)


def test_broker_and_worker_settings_point_at_the_test_redis():
    """Guarantee: the test broker, result backend and cache are all configured from the test Redis URL
    (database 1 of the same server unless TEST_REDIS_URL says otherwise), kombu spelling included."""
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    if settings.REDIS_URL.startswith("unix://"):
        assert settings.CELERY_BROKER_URL.startswith("redis+socket://")
    assert settings.CELERY_RESULT_BACKEND == settings.CELERY_BROKER_URL


def test_tasks_are_queued_in_the_test_redis_database():
    """Guarantee: a ``make run`` worker (Redis DB 0) never takes a task queued by the tests: the broker puts
    test tasks in the same Redis database as the test cache and results (settings.REDIS_URL)."""
    queue = f"test-celery-{uuid.uuid4().hex[:12]}"
    test_database = redis.Redis.from_url(settings.REDIS_URL)
    try:
        worker_heartbeat.apply_async(args=["nobody consumes this queue"], queue=queue).forget()
        assert test_database.llen(queue) == 1, "the task message is not in the test Redis database"
    finally:
        purge_queue(queue)
        test_database.delete(queue, f"_kombu.binding.{queue}")
        test_database.close()


@pytest.mark.slow
def test_a_real_worker_runs_a_queued_task_and_writes_the_shared_cache(worker):
    """Guarantee: a task queued through Redis is picked up and run by a separate worker process, its
    result comes back to the caller, and what the worker writes to the cache is what the web sees."""
    token = uuid.uuid4().hex
    cache.delete(HEARTBEAT_CACHE_KEY)

    result = worker_heartbeat.apply_async(args=[token], queue=worker.queue)
    try:
        beat = worker.wait_for(result)
        assert result.successful()
    finally:
        result.forget()

    assert beat["token"] == token
    assert beat["at"]
    assert "succeeded" in worker.output(), worker.output()  # the worker subprocess, not this process, ran it
    assert cache.get(HEARTBEAT_CACHE_KEY) == beat, "the worker wrote the heartbeat to some other cache"
    cache.delete(HEARTBEAT_CACHE_KEY)


@pytest.mark.slow
def test_health_page_shows_the_last_worker_heartbeat(worker, client):
    """Guarantee: the health endpoint (load balancers, compose healthchecks, operators) reports the
    database as up and shows the heartbeat the last worker wrote, so a stalled worker is visible."""
    cache.delete(HEARTBEAT_CACHE_KEY)
    before = client.get(reverse("health"))
    assert before.status_code == 200
    assert before.json()["worker_heartbeat"] is None

    token = uuid.uuid4().hex
    result = worker_heartbeat.apply_async(args=[token], queue=worker.queue)
    try:
        worker.wait_for(result)
    finally:
        result.forget()

    response = client.get(reverse("health"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] is True
    assert body["worker_heartbeat"]["token"] == token, body
    cache.delete(HEARTBEAT_CACHE_KEY)

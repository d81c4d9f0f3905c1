"""The follow-up engine with real processes: Celery workers and beats on their own Redis server.

Each promise is a committed row; these tests start real `celery worker` and `celery beat`
processes against the test database, then kill, double and cut them off, and check that every
due message went out exactly once and every call reached the queue.
"""

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from crm.models import BusinessHours
from dms.embedded import PrivateRedis
from followup.choices import FollowUpKind, FollowUpStatus, MessageStatus
from followup.models import FollowUp, Message

from ..dms.processes import ROOT, child_environment, wait_until
from ..dms.test_celery import database_url
from ..factories import CustomerFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BEAT_SECONDS = 2


class Cluster:
    """Workers and beats sharing one test Redis and the test database."""

    def __init__(self, redis_server: PrivateRedis, workdir: Path):
        self.redis = redis_server
        self.workdir = workdir
        self.console = workdir / "console.jsonl"
        self.processes: dict[str, subprocess.Popen] = {}

    def environment(self) -> dict[str, str]:
        return child_environment(
            DJANGO_SETTINGS_MODULE="dms.settings.test",
            DATABASE_URL=database_url(connection.settings_dict),
            REDIS_URL=self.redis.url,
            TEST_REDIS_URL=self.redis.url,
            FOLLOWUP_CONSOLE_PATH=str(self.console),
            FOLLOWUP_LEASE_SECONDS="6",
            FOLLOWUP_CONSOLE_RATE=os.environ.get("TEST_CONSOLE_RATE", "400"),
            FOLLOWUP_SMS_PROVIDER="tests.followup.providers.SlowConsoleProvider",
            FOLLOWUP_WECHAT_PROVIDER="tests.followup.providers.SlowConsoleProvider",
        )

    def start(self, name: str, *arguments: str) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dms", *arguments],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(
            name, "worker", "--pool", "prefork", "--concurrency", "2", "-n", f"{name}@%h", "--loglevel", "INFO"
        )

    def beat(self, name: str) -> subprocess.Popen:
        return self.start(name, "beat", "--loglevel", "INFO", "-s", str(self.workdir / f"{name}-schedule"))

    def kill(self, name: str) -> None:
        """SIGKILL the process group: the worker and its pool children die mid-work, as in a crash."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in self.workdir.glob("*.log"))

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with_group = process.pid
                try:
                    os.killpg(with_group, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(with_group, signal.SIGKILL)
                    process.wait(10)

    def sent_keys(self) -> list[str]:
        if not self.console.exists():
            return []
        return [json.loads(line)["key"] for line in self.console.read_text().splitlines() if line.strip()]


@pytest.fixture
def cluster(tmp_path, rooftop):
    for weekday in range(7):  # open all day, so real-time messages are never deferred to a window
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(0, 0), closes_at=datetime.time(23, 59, 59)
        )
    every, _ = IntervalSchedule.objects.get_or_create(every=BEAT_SECONDS, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="Follow-up dispatcher", defaults={"task": "followup.dispatch_due", "interval": every}
    )
    redis_server = PrivateRedis()
    redis_server.start()
    running = Cluster(redis_server, tmp_path)
    yield running
    running.stop_all()
    if any(
        process.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM, None) for process in running.processes.values()
    ):
        print(running.logs())
    redis_server.cleanup()


def due_rows(rooftop, messages: int, calls: int) -> list[FollowUp]:
    subject_type = ContentType.objects.get_for_model(FollowUp)
    now = timezone.now()
    customers = [CustomerFactory(dealership=rooftop) for _ in range(20)]
    rows = [
        FollowUp(
            dealership=rooftop,
            kind=FollowUpKind.GREETING if index < messages else FollowUpKind.SERVICE_FOLLOWUP,
            customer=customers[index % 20],
            subject_type=subject_type,
            subject_id=index,
            due_at=now,
        )
        for index in range(messages + calls)
    ]
    return FollowUp.objects.bulk_create(rows)


def wait_for_all_handled(cluster: Cluster, timeout: float) -> None:
    handled = wait_until(lambda: not FollowUp.objects.filter(status=FollowUpStatus.SCHEDULED).exists(), timeout, 0.5)
    assert handled, f"rows still scheduled: {FollowUp.objects.filter(status='scheduled').count()}\n{cluster.logs()}"


def assert_each_message_sent_once(cluster: Cluster, messages: int) -> None:
    keys = cluster.sent_keys()
    assert len(keys) == len(set(keys)), "a message went out twice"
    sent = set(Message.objects.filter(status=MessageStatus.SENT).values_list("idempotency_key", flat=True))
    assert {str(key) for key in sent} == set(keys)
    unknown = Message.objects.filter(status=MessageStatus.UNKNOWN).count()
    assert len(keys) + unknown == messages, (len(keys), unknown)  # nothing lost: sent, or flagged for a person
    assert not {
        str(key)
        for key in Message.objects.filter(status=MessageStatus.UNKNOWN).values_list("idempotency_key", flat=True)
    } & set(keys)


def test_two_beats_and_two_workers_send_each_message_once(cluster, rooftop):
    due_rows(rooftop, messages=600, calls=100)
    for name in ("worker-a", "worker-b"):
        cluster.worker(name)
    for name in ("beat-a", "beat-b"):
        cluster.beat(name)
    wait_for_all_handled(cluster, timeout=120)
    assert FollowUp.objects.filter(kind=FollowUpKind.SERVICE_FOLLOWUP, status=FollowUpStatus.QUEUED).count() == 100
    assert_each_message_sent_once(cluster, 600)
    assert Message.objects.filter(status=MessageStatus.UNKNOWN).count() == 0


@pytest.mark.parametrize("round_", [1, 2])
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(cluster, rooftop, round_):
    due_rows(rooftop, messages=1500, calls=50)
    cluster.worker("doomed")
    cluster.beat("beat")
    assert wait_until(lambda: Message.objects.exists(), 90, 0.2), cluster.logs()
    time.sleep(0.5 * round_)
    cluster.kill("doomed")
    stranded = FollowUp.objects.filter(status=FollowUpStatus.SCHEDULED, claimed_until__isnull=False).count()
    cluster.worker("rescuer")
    wait_for_all_handled(cluster, timeout=150)
    assert_each_message_sent_once(cluster, 1500)
    assert FollowUp.objects.filter(kind=FollowUpKind.SERVICE_FOLLOWUP, status=FollowUpStatus.QUEUED).count() == 50
    assert stranded > 0, "the worker was killed after it had finished: the test proved nothing"


def test_rows_due_while_redis_is_down_go_out_soon_after_it_returns(cluster, rooftop):
    cluster.worker("worker")
    cluster.beat("beat")
    due_rows(rooftop, messages=5, calls=0)
    wait_for_all_handled(cluster, timeout=90)  # the cluster works

    cluster.redis.stop(crash=True)  # the queue and everything in Redis is gone
    time.sleep(3)
    due_rows_later = due_rows(rooftop, messages=40, calls=10)
    time.sleep(BEAT_SECONDS * 2)
    assert (
        FollowUp.objects.filter(pk__in=[row.pk for row in due_rows_later], status=FollowUpStatus.SCHEDULED).count()
        == 50
    )
    cluster.redis.start()
    back = time.monotonic()
    wait_for_all_handled(cluster, timeout=90)
    # Within 2 beat intervals of Redis's return, plus the time the processes take to reconnect.
    assert time.monotonic() - back < 2 * BEAT_SECONDS + 30, cluster.logs()
    assert_each_message_sent_once(cluster, 45)

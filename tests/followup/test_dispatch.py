"""The dispatcher in-process: claims with leases, queues calls, sends each message once."""

import datetime
import json
import re
import subprocess
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType

from crm.choices import Channel
from followup import dispatch
from followup.choices import FollowUpKind, FollowUpStatus, MessageStatus
from followup.models import FollowUp, Message

from ..factories import CustomerFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def console(tmp_path, settings):
    settings.FOLLOWUP_CONSOLE_PATH = str(tmp_path / "console.jsonl")
    settings.FOLLOWUP_CHANNELS = {
        "sms": "followup.channels.ConsoleProvider",
        "wechat": "followup.channels.ConsoleProvider",
        "email": "followup.channels.EmailProvider",
    }
    return tmp_path / "console.jsonl"


def sent_keys(path):
    return [json.loads(line)["key"] for line in path.read_text().splitlines()] if path.exists() else []


def make_due(rooftop, kind, count, due_at=NOON - datetime.timedelta(minutes=5), **customer):
    rows = []
    subject_type = ContentType.objects.get_for_model(FollowUp)
    for index in range(count):
        person = CustomerFactory(dealership=rooftop, **customer)
        rows.append(
            FollowUp(
                dealership=rooftop,
                kind=kind,
                customer=person,
                subject_type=subject_type,
                subject_id=10_000 + index + (0 if kind == FollowUpKind.GREETING else 50_000),
                due_at=due_at,
                data={"starts_at": (NOON + datetime.timedelta(days=1)).isoformat()},
            )
        )
    return FollowUp.objects.bulk_create(rows)


def run_dispatch():
    counts = {}
    while True:
        token, ids = dispatch.claim_due()
        if not ids:
            return counts
        for key, value in dispatch.process_batch(token, ids).items():
            counts[key] = counts.get(key, 0) + value


def test_calls_go_to_the_queue_and_messages_are_sent_once(rooftop, console):
    calls = make_due(rooftop, FollowUpKind.SERVICE_FOLLOWUP, 3)
    messages = make_due(rooftop, FollowUpKind.APPOINTMENT_REMINDER, 4)
    with time_machine.travel(NOON):
        counts = run_dispatch()
        assert counts == {"queued": 3, "sent": 4, "deferred": 0, "failed": 0, "skipped": 0}
        assert run_dispatch() == {}  # nothing is due twice
    assert set(FollowUp.objects.filter(pk__in=[row.pk for row in calls]).values_list("status", flat=True)) == {"queued"}
    keys = sent_keys(console)
    assert len(keys) == 4 and len(set(keys)) == 4
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert all(row.attempt_log.count() == 1 for row in FollowUp.objects.filter(pk__in=[m.pk for m in messages]))
    line = json.loads(console.read_text().splitlines()[0])
    assert line["to"].startswith("+86") and "上海浦东4S店" in line["body"]


def test_not_yet_due_and_cancelled_rows_stay(rooftop, console):
    make_due(rooftop, FollowUpKind.GREETING, 1, due_at=NOON + datetime.timedelta(minutes=5))
    cancelled = make_due(rooftop, FollowUpKind.SURVEY, 1)[0]
    FollowUp.objects.filter(pk=cancelled.pk).update(status=FollowUpStatus.CANCELLED)
    with time_machine.travel(NOON):
        assert run_dispatch() == {}
    assert sent_keys(console) == []


def test_a_lease_keeps_others_off_until_it_expires(rooftop, console, settings):
    make_due(rooftop, FollowUpKind.SERVICE_FOLLOWUP, 2)
    with time_machine.travel(NOON):
        token, ids = dispatch.claim_due()  # a worker claims, then dies before processing
        assert len(ids) == 2
        assert dispatch.claim_due()[1] == []
    with time_machine.travel(NOON + datetime.timedelta(minutes=4)):
        assert dispatch.claim_due()[1] == []
    with time_machine.travel(NOON + datetime.timedelta(minutes=5, seconds=1)):
        new_token, again = dispatch.claim_due()
        assert sorted(again) == sorted(ids)
        assert dispatch.process_batch(token, ids)["skipped"] == 2  # the dead worker's token no longer holds them
        assert dispatch.process_batch(new_token, again)["queued"] == 2


def test_a_message_whose_send_outcome_is_unknown_is_not_sent_again(rooftop, console):
    row = make_due(rooftop, FollowUpKind.GREETING, 1)[0]
    with time_machine.travel(NOON):
        token, ids = dispatch.claim_due()
        Message.objects.create(followup=row, channel="sms", recipient="+8613800000000", body="x")  # died mid-send
    with time_machine.travel(NOON + datetime.timedelta(minutes=6)):
        assert run_dispatch() == {"queued": 0, "sent": 0, "deferred": 0, "failed": 1, "skipped": 0}
    row.refresh_from_db()
    assert row.status == FollowUpStatus.FAILED and row.outcome == "send_unknown"
    assert sent_keys(console) == []


def test_a_message_the_provider_did_send_is_settled_as_sent(rooftop, console):
    row = make_due(rooftop, FollowUpKind.GREETING, 1)[0]
    message = Message.objects.create(followup=row, channel="sms", recipient="+8613800000000", body="x")
    console.write_text(json.dumps({"key": str(message.idempotency_key)}) + "\n")  # it went out, then the worker died
    with time_machine.travel(NOON):
        assert run_dispatch()["sent"] == 1
    row.refresh_from_db()
    assert row.status == FollowUpStatus.DONE
    assert len(sent_keys(console)) == 1


def test_messages_wait_for_the_customers_window(rooftop, console):
    row = make_due(
        rooftop, FollowUpKind.GREETING, 1, contact_from=datetime.time(14, 0), contact_until=datetime.time(16, 0)
    )[0]
    with time_machine.travel(NOON):
        assert run_dispatch()["deferred"] == 1
    row.refresh_from_db()
    assert row.status == FollowUpStatus.SCHEDULED and row.due_at == NOON.replace(hour=14)
    assert sent_keys(console) == []


def test_email_customers_get_email(rooftop, console, mailoutbox):
    make_due(rooftop, FollowUpKind.SURVEY, 1, preferred_channel=Channel.EMAIL, email="wang@example.cn")
    with time_machine.travel(NOON):
        assert run_dispatch()["sent"] == 1
    assert mailoutbox[0].to == ["wang@example.cn"]
    assert mailoutbox[0].extra_headers["X-Idempotency-Key"] == str(Message.objects.get().idempotency_key)


def test_a_provider_over_its_rate_defers_the_rest(rooftop, console, settings):
    settings.FOLLOWUP_RATE_LIMITS = {"console": 2}
    make_due(rooftop, FollowUpKind.GREETING, 5)
    with time_machine.travel(NOON, tick=False):
        token, ids = dispatch.claim_due()
        counts = dispatch.process_batch(token, ids)
    assert counts["sent"] == 2 and counts["deferred"] == 3
    assert FollowUp.objects.filter(status=FollowUpStatus.SCHEDULED, claimed_until__isnull=True).count() == 3
    assert Message.objects.count() == 2  # nothing is written for a message that may not go out yet

    for second, expected in ((1, 2), (2, 1)):  # the next dispatches send the rest, each once
        with time_machine.travel(NOON + datetime.timedelta(seconds=second), tick=False):
            token, ids = dispatch.claim_due()
            assert dispatch.process_batch(token, ids)["sent"] == expected
    assert FollowUp.objects.filter(status=FollowUpStatus.DONE).count() == 5
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 5


def test_no_celery_eta_or_countdown_anywhere():
    """The database row is the schedule: nothing waits days inside Redis."""
    sources = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    pattern = re.compile(r"\b(eta|countdown)\s*=|apply_async\([^)]*(eta|countdown)")
    offenders = [
        f"{path}:{number}"
        for path in sources
        if not path.startswith("tests/")
        for number, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []

"""The dispatcher: claims due follow-ups with a lease, queues the calls and sends the messages.

A claim is ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``: concurrent dispatchers
(two beats, several workers) never take the same row, and a row whose claimer died becomes due
again when its lease runs out. A message is written (``sending``) before it is handed to the
provider and marked sent after; a row found still ``sending`` has an unknown outcome and is asked
about, never sent again blindly.
"""

from __future__ import annotations

import datetime
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.choices import Channel

from .calendar import RooftopCalendar
from .channels import ChannelError, Provider, provider_for, rate_limit
from .choices import FollowUpKind, FollowUpStatus, MessageStatus, Outcome
from .models import Attempt, FollowUp, Message

BATCH_SIZE = 500


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=min(int(getattr(settings, "FOLLOWUP_LEASE_SECONDS", 300)), 300))


def claim_due(*, limit: int = BATCH_SIZE, now: datetime.datetime | None = None) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due rows (or rows whose lease ran out) for one batch; returns (token, ids)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE followup_followup SET claimed_until = %s, claimed_by = %s
            WHERE id IN (
                SELECT id FROM followup_followup
                WHERE status = %s AND due_at <= %s AND (claimed_until IS NULL OR claimed_until < %s)
                ORDER BY due_at
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id
            """,
            [now + lease(), token, FollowUpStatus.SCHEDULED, now, now, limit],
        )
        return token, [row[0] for row in cursor.fetchall()]


class RateLimited(Exception):
    """The provider's sends-per-second cap is reached; the rest waits for the next dispatch."""


def _take_send_slot(provider: Provider) -> None:
    cap = rate_limit(provider)
    if not cap:
        return
    key = f"followup-rate:{provider.name}:{int(time.time())}"
    cache.add(key, 0, timeout=5)
    if cache.incr(key) > cap:
        raise RateLimited(provider.name)


def process_batch(token: str, ids: list[int]) -> dict[str, int]:
    """Queue the calls and send the messages of one claimed batch; returns counts by result."""
    counts = {"queued": 0, "sent": 0, "deferred": 0, "failed": 0, "skipped": 0}
    calendars: dict[int, RooftopCalendar] = {}
    rows = list(FollowUp.objects.filter(pk__in=ids, claimed_by=token).select_related("customer", "dealership"))
    counts["skipped"] = len(ids) - len(rows)  # our lease ran out and another dispatcher took them
    for followup in rows:
        calendar = calendars.setdefault(followup.dealership_id, RooftopCalendar.of(followup.dealership))
        try:
            counts[_process(followup, token, calendar)] += 1
        except RateLimited:
            _release(followup, token)
            counts["deferred"] += 1
    return counts


def _release(followup: FollowUp, token: str) -> None:
    FollowUp.objects.filter(pk=followup.pk, claimed_by=token).update(claimed_until=None, claimed_by="")


def _process(followup: FollowUp, token: str, calendar: RooftopCalendar) -> str:
    now = timezone.now()
    with transaction.atomic():
        locked = (
            FollowUp.objects.select_for_update()
            .filter(pk=followup.pk, claimed_by=token, status=FollowUpStatus.SCHEDULED)
            .first()
        )
        if locked is None:  # cancelled, or our lease ran out and another dispatcher has it
            return "skipped"
        if not locked.is_message:
            locked.status, locked.claimed_until, locked.claimed_by = FollowUpStatus.QUEUED, None, ""
            locked.save(update_fields=["status", "claimed_until", "claimed_by", "updated_at"])
            return "queued"
        contact_at = calendar.next_contact_time(now, followup.customer)
        if contact_at > now:  # the dispatcher was late: messages only go out inside the contact window
            locked.due_at, locked.claimed_until, locked.claimed_by = contact_at, None, ""
            locked.save(update_fields=["due_at", "claimed_until", "claimed_by", "updated_at"])
            return "deferred"
        message = Message.objects.filter(followup=locked).first()
        if message is not None:
            return _settle_unknown(locked, message)
        message = _compose(locked)
    return _send(followup, message, token)


def _compose(followup: FollowUp) -> Message:
    customer = followup.customer
    channel = customer.preferred_channel
    if channel == Channel.EMAIL and customer.email:
        recipient = customer.email
    else:
        channel, recipient = (Channel.WECHAT if channel == Channel.WECHAT else Channel.SMS), customer.mobile
    return Message.objects.create(
        followup=followup,
        channel=channel,
        recipient=recipient,
        body=message_text(followup),
        status=MessageStatus.SENDING,
    )


def message_text(followup: FollowUp) -> str:
    dealership = followup.dealership
    language = "zh-hans" if dealership.phone_region == "CN" else "en"
    with translation.override(language):
        name = followup.customer.full_name
        if followup.kind == FollowUpKind.APPOINTMENT_REMINDER:
            starts_at = datetime.datetime.fromisoformat(followup.data["starts_at"]).astimezone(dealership.zone)
            return _(
                "%(rooftop)s: %(name)s, a reminder of your appointment on %(when)s. Reply or call us to change it."
            ) % {"rooftop": dealership.name, "name": name, "when": starts_at.strftime("%Y-%m-%d %H:%M")}
        if followup.kind == FollowUpKind.SURVEY:
            return _("%(rooftop)s: %(name)s, how did we do? Your answers help us serve you better.") % {
                "rooftop": dealership.name,
                "name": name,
            }
        return _("%(rooftop)s sends %(name)s its best wishes.") % {"rooftop": dealership.name, "name": name}


def _send(followup: FollowUp, message: Message, token: str) -> str:
    provider = provider_for(message.channel)
    _take_send_slot(provider)
    try:
        reference = provider.send(message)
    except ChannelError as error:
        _finish(
            followup.pk, message, MessageStatus.FAILED, Outcome.SEND_FAILED, FollowUpStatus.FAILED, error=str(error)
        )
        return "failed"
    _finish(followup.pk, message, MessageStatus.SENT, Outcome.SENT, FollowUpStatus.DONE, reference=reference)
    return "sent"


def _settle_unknown(followup: FollowUp, message: Message) -> str:
    """A message left ``sending`` by a worker that died: ask the provider, don't send it again."""
    if message.status == MessageStatus.SENDING and provider_for(message.channel).lookup(message) == MessageStatus.SENT:
        _finish(followup.pk, message, MessageStatus.SENT, Outcome.SENT, FollowUpStatus.DONE)
        return "sent"
    _finish(
        followup.pk,
        message,
        MessageStatus.UNKNOWN,
        Outcome.SEND_UNKNOWN,
        FollowUpStatus.FAILED,
        error="the provider does not know whether it was sent; check before sending again",
    )
    return "failed"


def _finish(followup_id, message, message_status, outcome, status, *, reference="", error="") -> None:
    now = timezone.now()
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            status=message_status,
            provider_reference=reference,
            error=error,
            sent_at=now if message_status == MessageStatus.SENT else None,
        )
        followup = FollowUp.objects.select_for_update().get(pk=followup_id)
        followup.attempts += 1
        followup.status, followup.outcome, followup.claimed_until, followup.claimed_by = status, outcome, None, ""
        followup.done_at = now if status == FollowUpStatus.DONE else None
        followup.save(
            update_fields=["attempts", "status", "outcome", "claimed_until", "claimed_by", "done_at", "updated_at"]
        )
        Attempt.objects.create(followup=followup, number=followup.attempts, outcome=outcome, notes=error)

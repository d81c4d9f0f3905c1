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
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.choices import Channel
from crm.vouchers import code_display

from .calendar import RooftopCalendar
from .channels import ChannelError, Provider, provider_for, rate_limit
from .choices import URGENT_MESSAGE_KINDS, FollowUpKind, FollowUpStatus, MessageStatus, Outcome
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


def _take_send_slots(provider: Provider, wanted: int) -> int:
    """How many of ``wanted`` sends ``provider`` may make this second (its cap, counted in Redis)."""
    cap = rate_limit(provider)
    if not cap or not wanted:
        return wanted
    key = f"followup-rate:{provider.name}:{int(time.time())}"
    cache.add(key, 0, timeout=5)
    after = cache.incr(key, wanted)
    return max(0, min(wanted, cap - (after - wanted)))


def _recipient(customer) -> tuple[str, str]:
    """The channel and address a customer's messages go to: email if preferred and known, else the mobile."""
    channel = customer.preferred_channel
    if channel == Channel.EMAIL and customer.email:
        return Channel.EMAIL, customer.email
    return (Channel.WECHAT if channel == Channel.WECHAT else Channel.SMS), customer.mobile


def process_batch(token: str, ids: list[int]) -> dict[str, int]:
    """Queue the calls and send the messages of one claimed batch, as a set; returns counts by result.

    1. One transaction locks the batch's rows still claimed by ``token``, queues the calls, defers
       messages outside the contact window, takes each provider's send slots (rows without one are
       released for the next dispatch, no message written) and writes every message ``sending``.
    2. Messages found already written (a dispatcher died after step 1) are settled by asking the
       provider, never sent again blindly.
    3. The new messages are handed to their providers.
    4. One transaction records every outcome: messages, follow-ups and attempts.
    """
    counts = {"queued": 0, "sent": 0, "deferred": 0, "failed": 0, "skipped": 0}
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            FollowUp.objects.select_for_update(of=("self",))
            .filter(pk__in=ids, claimed_by=token, status=FollowUpStatus.SCHEDULED)
            .select_related("customer", "dealership")
        )
        counts["skipped"] = len(ids) - len(rows)  # cancelled, or our lease ran out and another dispatcher has them
        calls = [row.pk for row in rows if not row.is_message]
        FollowUp.objects.filter(pk__in=calls).update(
            status=FollowUpStatus.QUEUED, claimed_until=None, claimed_by="", updated_at=now
        )
        counts["queued"] = len(calls)
        messages = [row for row in rows if row.is_message]
        deferred = _defer_outside_window(messages, now)
        counts["deferred"] += len(deferred)
        due = [row for row in messages if row.pk not in deferred]
        existing = {message.followup_id: message for message in Message.objects.filter(followup__in=due)}
        unknown = [(row, existing[row.pk]) for row in due if row.pk in existing]
        fresh, limited = _allot_send_slots([row for row in due if row.pk not in existing])
        _release(limited)
        counts["deferred"] += len(limited)
        outbox = Message.objects.bulk_create(
            [
                Message(followup=row, channel=channel, recipient=recipient, body=message_text(row))
                for row in fresh
                for channel, recipient in [_recipient(row.customer)]
            ]
        )
    for followup, message in unknown:
        counts[_settle_unknown(followup, message)] += 1
    results = [_hand_over(message) for message in outbox]
    _record(token, fresh, outbox, results, now)
    counts["sent"] += sum(1 for status, _, _ in results if status == MessageStatus.SENT)
    counts["failed"] += sum(1 for status, _, _ in results if status == MessageStatus.FAILED)
    return counts


def _defer_outside_window(rows: list[FollowUp], now: datetime.datetime) -> set[int]:
    """Messages only go out inside the contact window: a late dispatcher moves the rest to its next opening."""
    calendars: dict[int, RooftopCalendar] = {}
    moved = []
    for row in rows:
        if row.kind in URGENT_MESSAGE_KINDS:
            continue
        if row.dealership_id not in calendars:
            calendars[row.dealership_id] = RooftopCalendar.of(row.dealership)
        contact_at = calendars[row.dealership_id].next_contact_time(now, row.customer)
        if contact_at > now:
            row.due_at, row.claimed_until, row.claimed_by, row.updated_at = contact_at, None, "", now
            moved.append(row)
    FollowUp.objects.bulk_update(moved, ["due_at", "claimed_until", "claimed_by", "updated_at"])
    return {row.pk for row in moved}


def _allot_send_slots(rows: list[FollowUp]) -> tuple[list[FollowUp], list[FollowUp]]:
    """Split rows into those their provider may send now and those over its rate cap."""
    by_provider: dict[str, list[FollowUp]] = {}
    providers: dict[str, Provider] = {}
    for row in rows:
        provider = provider_for(_recipient(row.customer)[0])
        providers[provider.name] = provider
        by_provider.setdefault(provider.name, []).append(row)
    allowed, limited = [], []
    for name, group in by_provider.items():
        slots = _take_send_slots(providers[name], len(group))
        allowed += group[:slots]
        limited += group[slots:]
    return allowed, limited


def _release(rows: list[FollowUp]) -> None:
    FollowUp.objects.filter(pk__in=[row.pk for row in rows]).update(claimed_until=None, claimed_by="")


def _hand_over(message: Message) -> tuple[str, str, str]:
    """Send one written message; returns (message status, provider reference, error)."""
    try:
        return MessageStatus.SENT, provider_for(message.channel).send(message), ""
    except ChannelError as error:
        return MessageStatus.FAILED, "", str(error)


def _record(token: str, rows: list[FollowUp], outbox: list[Message], results: list, now: datetime.datetime) -> None:
    """Every send's outcome in one transaction. A row whose lease ran out meanwhile is left to the
    dispatcher that has it now: it finds the message already settled."""
    if not outbox:
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE followup_message AS m
                SET status = v.status, provider_reference = v.reference, error = v.error,
                    sent_at = CASE WHEN v.status = %s THEN %s::timestamptz END
                FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS v(id, status, reference, error)
                WHERE m.id = v.id
                """,
                [
                    MessageStatus.SENT,
                    now,
                    [message.pk for message in outbox],
                    [status for status, _, _ in results],
                    [reference for _, reference, _ in results],
                    [error for _, _, error in results],
                ],
            )
        status_of = {message.followup_id: result for message, result in zip(outbox, results, strict=True)}
        ours = dict(
            FollowUp.objects.select_for_update()
            .filter(pk__in=[row.pk for row in rows], claimed_by=token)
            .values_list("pk", "attempts")
        )
        attempts = []
        for sent in (True, False):
            group = [pk for pk in ours if (status_of[pk][0] == MessageStatus.SENT) == sent]
            FollowUp.objects.filter(pk__in=group).update(
                attempts=F("attempts") + 1,
                status=FollowUpStatus.DONE if sent else FollowUpStatus.FAILED,
                outcome=Outcome.SENT if sent else Outcome.SEND_FAILED,
                claimed_until=None,
                claimed_by="",
                done_at=now if sent else None,
                updated_at=now,
            )
            attempts += [
                Attempt(
                    followup_id=pk,
                    number=ours[pk] + 1,
                    outcome=Outcome.SENT if sent else Outcome.SEND_FAILED,
                    notes=status_of[pk][2],
                )
                for pk in group
            ]
        Attempt.objects.bulk_create(attempts)


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
        if followup.kind == FollowUpKind.READY_NOTICE:
            return _("%(rooftop)s: %(name)s, your car is ready for collection. Order %(number)s, total %(total)s.") % {
                "rooftop": dealership.name,
                "name": name,
                "number": followup.data.get("number", ""),
                "total": followup.data.get("total", ""),
            }
        if followup.kind == FollowUpKind.APPROVAL_REQUEST:
            return _(
                "%(rooftop)s: %(name)s, we found more work on your car (%(total)s). See it and approve or decline: %(url)s"
            ) % {
                "rooftop": dealership.name,
                "name": name,
                "total": followup.data.get("total", ""),
                "url": followup.data.get("url", ""),
            }
        if followup.kind == FollowUpKind.SURVEY:
            return _("%(rooftop)s: %(name)s, how did we do? Your answers help us serve you better: %(url)s") % {
                "rooftop": dealership.name,
                "name": name,
                "url": followup.data.get("url", ""),
            }
        if followup.kind == FollowUpKind.CAMPAIGN_MESSAGE:
            return campaign_message_text(followup, dealership.name, name)
        if followup.kind == FollowUpKind.GREETING and followup.data.get("occasion") == "birthday":
            return _("%(rooftop)s: happy birthday, %(name)s! All of us wish you a wonderful year.") % {
                "rooftop": dealership.name,
                "name": name,
            }
        return _("%(rooftop)s sends %(name)s its best wishes.") % {"rooftop": dealership.name, "name": name}


def campaign_message_text(followup: FollowUp, rooftop: str, name: str) -> str:
    """A campaign's marketing message: its offer, and the customer's voucher code when it comes with one."""
    data = followup.data
    text = _("%(rooftop)s: %(name)s, %(offer)s") % {
        "rooftop": rooftop,
        "name": name,
        "offer": data.get("offer") or data.get("campaign", ""),
    }
    if data.get("voucher_code"):
        text += " " + _("Your voucher %(code)s is worth ¥%(value)s until %(until)s: show it at the front desk.") % {
            "code": code_display(data["voucher_code"]),
            "value": data.get("voucher_value", ""),
            "until": data.get("valid_until", ""),
        }
    return text


def _settle_unknown(followup: FollowUp, message: Message) -> str:
    """A message left ``sending`` by a worker that died: ask the provider, don't send it again.
    (One already marked sent by a dispatcher whose lease ran out is simply finished.)"""
    if message.status == MessageStatus.SENT or (
        message.status == MessageStatus.SENDING and provider_for(message.channel).lookup(message) == MessageStatus.SENT
    ):
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

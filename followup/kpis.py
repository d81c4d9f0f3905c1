"""Follow-up KPIs (DESIGN §6, CRM): the 2-day follow-up done within 48 h and contact success.

Metrics (counted per rooftop and local day):

* ``two_day``: delivery and service follow-ups (``TWO_DAY_KINDS``) not cancelled, on the day their 48 h
  window ends (``window_ends_at``), per assignee; dim ``in_time`` (done, ``done_at`` ≤ the window's end),
  ``late`` (done after it), ``failed``, or ``open`` (scheduled, queued, in progress or escalated).
* ``contact_attempts``: call attempts (every outcome but the messages' ``sent`` / ``send_failed`` /
  ``send_unknown``), on the day they were made, per caller (``actor``); dim = the outcome. Attempts
  carry no rooftop: it is their follow-up's.

A ratio of an empty period is ``None`` (shown as "—").
"""

from __future__ import annotations

from decimal import Decimal

from crm.retention import rate
from dms.rollups import Facts, metric

from .choices import FollowUpStatus, Outcome
from .selectors import TWO_DAY_KINDS

MESSAGE_OUTCOMES = (Outcome.SENT, Outcome.SEND_FAILED, Outcome.SEND_UNKNOWN)
# The customer was spoken to: the call reached them, whatever they said.
SPOKEN_OUTCOMES = (Outcome.REACHED, Outcome.BOOKED, Outcome.REFUSED, Outcome.CALL_BACK)


def _sql_list(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _two_day(alias: str) -> str:
    """The 2-day kinds, as the partial index followup_two_day (dealership, window_ends_at) says them."""
    return f"{alias}.kind IN ({_sql_list(TWO_DAY_KINDS)})"


metric(
    "two_day",
    table="followup_followup",
    date="t.window_ends_at",
    staff="t.assignee_id",
    dim=f"""CASE WHEN t.status = '{FollowUpStatus.DONE}' AND t.done_at <= t.window_ends_at THEN 'in_time'
        WHEN t.status = '{FollowUpStatus.DONE}' THEN 'late'
        WHEN t.status = '{FollowUpStatus.FAILED}' THEN 'failed' ELSE 'open' END""",
    where=f"{_two_day('t')} AND t.status <> '{FollowUpStatus.CANCELLED}'",
    sources={
        # Only the 2-day kinds: claims and updates of every other follow-up log nothing (constants, no input).
        "followup_followup": (
            f"SELECT x.dealership_id, x.window_ends_at AS ts FROM {{rows}} x WHERE {_two_day('x')}",  # noqa: S608
        )
    },
)
metric(
    "contact_attempts",
    # attempts carry no rooftop: each day's attempts are read by time (followup_attempt_created), each
    # finding its rooftop through its follow-up's key (OFFSET 0: not by hashing the rooftop's every follow-up)
    table="followup_attempt",
    joins="CROSS JOIN LATERAL (SELECT f.dealership_id FROM followup_followup f WHERE f.id = t.followup_id OFFSET 0) f",
    rooftop="f.dealership_id",
    date="t.created_at",
    staff="t.actor_id",
    dim="t.outcome",
    where=f"t.outcome NOT IN ({_sql_list(MESSAGE_OUTCOMES)})",
    sources={
        "followup_attempt": (
            "SELECT f.dealership_id, x.created_at AS ts FROM {rows} x JOIN followup_followup f ON f.id = x.followup_id",
        )
    },
)

METRICS = ("two_day", "contact_attempts")


def two_day_in_time_rate(facts: Facts, staff: int | None = None, *, pending: Facts | None = None) -> Decimal | None:
    """2-day follow-ups done within their 48 h window / those judged: of the follow-ups whose window ends in
    the period, every one done (in time or late) or failed, and every one still open whose window ended
    before the rooftop's today (overdue): the SLA view's rate (``followup.selectors.two_day_sla``), by day.

    The figure depends on the day, never on the hour: a window that ends today is not judged while it is
    open. ``facts`` are the period's counters; when the period reaches today (or later), ``pending`` are the
    counters of its days from today on, whose open follow-ups are left out (read them in the same statement:
    ``read_periods(names, rooftops, {"c": (first, last), "pending": (today, last)})``). For a period that
    ended before today, leave ``pending`` out."""
    in_time = facts.n("two_day", "in_time", staff)
    judged = facts.n("two_day", staff=staff)
    if pending is not None:
        judged -= pending.n("two_day", "open", staff)
    return rate(in_time, judged)


def contact_success_rate(facts: Facts, staff: int | None = None) -> Decimal | None:
    """Call attempts on which the customer was spoken to (reached, booked, refused, or asked to be called
    back) / call attempts made in the period (no answer and wrong number count as unsuccessful)."""
    return rate(facts.n("contact_attempts", SPOKEN_OUTCOMES, staff), facts.n("contact_attempts", staff=staff))

"""Work other apps do for crm, without crm importing them: the follow-up engine registers how a
complaint's call-back is scheduled (in its ``AppConfig.ready``), so crm never imports followup."""

from __future__ import annotations

from collections.abc import Callable

complaint_callback_schedulers: list[Callable] = []


def register_complaint_callback(schedule: Callable) -> Callable:
    """``schedule(complaint=…, due_at=…)`` promises the call-back, inside the caller's transaction."""
    if schedule not in complaint_callback_schedulers:
        complaint_callback_schedulers.append(schedule)
    return schedule


def schedule_complaint_callback(complaint, due_at) -> None:
    for schedule in complaint_callback_schedulers:
        schedule(complaint=complaint, due_at=due_at)

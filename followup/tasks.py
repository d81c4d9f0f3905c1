"""Celery entry points. The database rows are the schedule: beat runs ``dispatch_due`` every minute;
no task is ever given an ETA or countdown (a test makes sure)."""

from celery import shared_task

from . import dispatch

MAX_BATCHES_PER_RUN = 1000


@shared_task(name="followup.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    """Claim every due row in batches and hand each batch to a worker; returns the rows claimed."""
    claimed = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        token, ids = dispatch.claim_due()
        if not ids:
            break
        process_batch.delay(token, ids)
        claimed += len(ids)
    return claimed


@shared_task(name="followup.process_batch", ignore_result=True, acks_late=True)
def process_batch(token: str, ids: list[int]) -> dict:
    return dispatch.process_batch(token, ids)


@shared_task(name="followup.scan_maintenance_due", ignore_result=True)
def scan_maintenance_due() -> int:
    """Daily: a proactive appointment call for every vehicle due for maintenance and not booked."""
    from .scans import scan_maintenance_due as scan

    return scan()


@shared_task(name="followup.scan_no_shows", ignore_result=True)
def scan_no_shows() -> int:
    """Every few minutes: a care call for every appointment missed."""
    from .scans import scan_no_shows as scan

    return scan()


@shared_task(name="followup.scan_birthdays", ignore_result=True)
def scan_birthdays() -> int:
    """Daily: a birthday greeting for every consenting customer whose birthday it is."""
    from .scans import scan_birthdays as scan

    return scan()

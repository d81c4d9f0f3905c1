"""Celery entry points of crm: thin, safe to run twice."""

from celery import shared_task


@shared_task(name="crm.escalate_overdue_complaints", ignore_result=True)
def escalate_overdue_complaints() -> int:
    """Every few minutes: open complaints past their due time go to the manager (once each)."""
    from .services import complaints_escalate_overdue

    return complaints_escalate_overdue()

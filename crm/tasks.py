"""Celery entry points of crm: thin, safe to run twice."""

from celery import shared_task


@shared_task(name="crm.escalate_overdue_complaints", ignore_result=True)
def escalate_overdue_complaints() -> int:
    """Every few minutes: open complaints past their due time go to the manager (once each)."""
    from .services import complaints_escalate_overdue

    return complaints_escalate_overdue()


@shared_task(name="crm.snapshot_retention", ignore_result=True)
def snapshot_retention() -> int:
    """Nightly: every rooftop's retention figures as of its local today, stored for the dashboards."""
    from .kpis import retention_snapshots_store

    return retention_snapshots_store()

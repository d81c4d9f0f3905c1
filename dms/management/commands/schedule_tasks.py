"""Put the periodic tasks into django-celery-beat's tables (editable in admin afterwards)."""

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

PERIODIC_TASKS = (
    # name, task, every (seconds)
    ("Worker heartbeat", "dms.worker_heartbeat", 60),
)


class Command(BaseCommand):
    help = "Create the periodic tasks the DMS needs; existing ones keep the schedule an administrator gave them."

    def handle(self, *args, **options):
        for name, task, seconds in PERIODIC_TASKS:
            every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
            PeriodicTask.objects.get_or_create(
                name=name, defaults={"task": task, "interval": every, "args": '["beat"]'}
            )

"""The rollups are kept by the Celery beat task with no dashboard open: a real beat and worker."""

import datetime
from decimal import Decimal

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from dms.models import KpiDirty, KpiRollup
from service.models import RepairOrder

from ..dms.processes import wait_until
from ..followup.test_workers import BEAT_SECONDS, cluster  # noqa: F401 (workers and beats on a private Redis)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def processes(request):
    every, _ = IntervalSchedule.objects.get_or_create(every=BEAT_SECONDS, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="KPI rollups refresh", defaults={"task": "dms.refresh_kpis", "interval": every, "enabled": True}
    )
    PeriodicTask.objects.exclude(name="KPI rollups refresh").update(enabled=False)
    return request.getfixturevalue("cluster")


def test_beat_and_a_worker_bring_the_rollups_up_to_date(processes, rooftop, vehicle, advisor):
    day = datetime.date(2026, 11, 2)
    checked_in = datetime.datetime(2026, 11, 2, 9, tzinfo=rooftop.zone)
    for number in (1, 2, 3):
        RepairOrder.objects.create(
            dealership=rooftop,
            number=f"W{number}",
            year=2026,
            sequence=number,
            customer=vehicle.owner,
            vehicle=vehicle,
            advisor=advisor,
            service_type="repair",
            odometer_km=1,
            concern="x",
            tax_rate=Decimal("0.13"),
            checked_in_at=checked_in,
        )
    assert KpiDirty.objects.exists() and not KpiRollup.objects.filter(metric="ro_opened").exists()
    processes.worker("worker")
    processes.beat("beat")

    def opened() -> int:
        row = KpiRollup.objects.filter(grain="d", dealership_id=rooftop.pk, day=day, metric="ro_opened").first()
        return row.n if row else 0

    assert wait_until(lambda: opened() == 3, 90, 0.5), processes.logs()
    assert not KpiDirty.objects.exists()
    assert KpiRollup.objects.get(grain="m", dealership_id=rooftop.pk, day=day.replace(day=1), metric="ro_opened").n == 3
    RepairOrder.objects.filter(number="W3").update(status="cancelled")  # a later write: its day again, by beat
    assert wait_until(lambda: opened() == 2, 60, 0.5), processes.logs()

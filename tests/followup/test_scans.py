"""The maintenance-due and no-show scans, and the hooks the service app plugs into."""

import datetime
import zoneinfo

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from crm.choices import Role
from crm.models import BusinessHours
from followup import scans, services
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import FollowUp
from followup.scripts import script_for

from ..factories import CustomerFactory, VehicleFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY_0600 = datetime.datetime(2026, 11, 23, 6, 0, tzinfo=SHANGHAI)


@pytest.fixture
def hooks():
    """Hooks registered by a test are removed after it, as the service app's would never be."""
    saved = [list(scans.booked_vehicle_hooks), list(scans.declined_work_hooks), list(scans.no_show_sources)]
    yield scans
    scans.booked_vehicle_hooks[:], scans.declined_work_hooks[:], scans.no_show_sources[:] = saved


@pytest.fixture
def weekdays(rooftop):
    for weekday in range(5):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(17, 30)
        )
    return rooftop


def vehicle(rooftop, **fields):
    return VehicleFactory(dealership=rooftop, owner=CustomerFactory(dealership=rooftop), **fields)


def calls():
    return FollowUp.objects.filter(kind=FollowUpKind.MAINTENANCE_DUE)


def test_vehicles_due_by_date_or_mileage_get_a_proactive_appointment_call(weekdays):
    by_date = vehicle(weekdays, next_service_on=datetime.date(2026, 12, 1))
    by_km = vehicle(weekdays, next_service_km=30_000)
    vehicle(weekdays, next_service_on=datetime.date(2027, 3, 1), next_service_km=60_000)  # not yet
    VehicleFactory(dealership=weekdays, next_service_on=datetime.date(2026, 11, 1))  # no owner to call
    type(by_km).objects.filter(pk=by_km.pk).update(odometer_km=29_400)

    with time_machine.travel(MONDAY_0600, tick=False):
        assert scans.scan_maintenance_due() == 2
    rows = {row.subject_id: row for row in calls()}
    assert set(rows) == {by_date.pk, by_km.pk}
    row = rows[by_date.pk]
    assert row.customer == by_date.owner and row.team == "Customer specialist"
    assert row.due_at == datetime.datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)  # when the desk opens
    assert "by 2026-12-01" in " ".join(script_for(row, None)["steps"])
    assert "at 30000 km, 29400 km on the last reading" in " ".join(script_for(rows[by_km.pk], None)["steps"])


def test_scanning_again_adds_nothing_even_after_the_call_was_made(weekdays, staff):
    due = vehicle(weekdays, next_service_on=datetime.date(2026, 11, 30))
    with time_machine.travel(MONDAY_0600, tick=False):
        assert scans.scan_maintenance_due() == 1
        assert scans.scan_maintenance_due() == 0
    FollowUp.objects.filter(subject_id=due.pk).update(status=FollowUpStatus.QUEUED)
    row = calls().get()
    with time_machine.travel(MONDAY_0600 + datetime.timedelta(hours=3), tick=False):
        services.followup_record_outcome(
            followup_id=row.pk,
            actor=staff[Role.CUSTOMER_SPECIALIST],
            outcome=Outcome.REFUSED,
            refusal_reason="not_interested",
        )
    with time_machine.travel(MONDAY_0600 + datetime.timedelta(days=7), tick=False):
        assert scans.scan_maintenance_due() == 0  # refused a week ago: leave the customer in peace
    with time_machine.travel(MONDAY_0600 + datetime.timedelta(days=35), tick=False):
        assert scans.scan_maintenance_due() == 1  # still due a month later: call again
    assert calls().count() == 2


def test_booked_vehicles_are_skipped_and_declined_work_rides_along(weekdays, hooks):
    booked = vehicle(weekdays, next_service_on=datetime.date(2026, 11, 25))
    declined = vehicle(weekdays, next_service_on=datetime.date(2026, 11, 25))
    hooks.register_booked_vehicles(lambda ids: {booked.pk} & set(ids))
    hooks.register_declined_work(lambda ids: {declined.pk: ["更换刹车片 / brake pads"]})
    with time_machine.travel(MONDAY_0600, tick=False):
        assert scans.scan_maintenance_due() == 1
    row = calls().get()
    assert row.subject_id == declined.pk
    assert row.data["declined_work"] == ["更换刹车片 / brake pads"]
    assert "更换刹车片 / brake pads" in script_for(row, None)["steps"][-1]


def test_a_missed_appointment_gets_one_care_call_and_its_confirmation_is_dropped(weekdays, customer, hooks):
    appointment = VehicleFactory(dealership=weekdays, owner=customer)  # stands in for service's appointment
    starts = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(starts - datetime.timedelta(days=3), tick=False):
        services.schedule_for_appointment(appointment=appointment, customer=customer, starts_at=starts)
    hooks.register_no_show_source(lambda now: [scans.NoShow(appointment, customer, starts)] if now > starts else [])

    with time_machine.travel(starts + datetime.timedelta(minutes=40), tick=False):
        assert scans.scan_no_shows() == 1
        assert scans.scan_no_shows() == 0
    care = FollowUp.objects.get(kind=FollowUpKind.NO_SHOW_CARE)
    assert care.subject == appointment and care.customer == customer
    assert care.due_at == starts + datetime.timedelta(minutes=40)
    assert "We were expecting you at 2026-11-23 09:00" in script_for(care, None)["steps"][0]
    confirmation = FollowUp.objects.get(kind=FollowUpKind.APPOINTMENT_CONFIRMATION)
    assert confirmation.status == FollowUpStatus.CANCELLED
    FollowUp.objects.filter(pk=care.pk).update(status=FollowUpStatus.DONE)
    with time_machine.travel(starts + datetime.timedelta(hours=3), tick=False):
        assert scans.scan_no_shows() == 0  # once per missed appointment, ever


def test_the_scans_are_on_the_beat_schedule(db):
    tasks = dict(PeriodicTask.objects.values_list("name", "task"))
    assert tasks["Maintenance-due scan"] == "followup.scan_maintenance_due"
    assert tasks["No-show scan"] == "followup.scan_no_shows"
    daily = PeriodicTask.objects.get(name="Maintenance-due scan").crontab
    assert (daily.hour, daily.minute) == ("6", "0")

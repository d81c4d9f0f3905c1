"""The service tests' workshop: hours every day, 30-minute slots with 2 bays, ¥380 an hour, a part in stock."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.choices import Role
from crm.models import BusinessHours
from service.models import Appointment, Job, LabourLine, Part, PartLine, RepairOrder, ServiceSettings, TimeEntry
from tests.factories import UserFactory


@pytest.fixture
def workshop(rooftop, vehicle):
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(18, 0)
        )
    rooftop.labour_rate_amount = Decimal("380.00")
    rooftop.save()
    settings = ServiceSettings.of(rooftop)
    settings.slot_minutes, settings.bays = 30, 2
    settings.save()
    type(vehicle).objects.filter(pk=vehicle.pk).update(odometer_km=41_000)
    vehicle.refresh_from_db()
    Part.objects.create(
        dealership=rooftop, part_number="06L115562", description="机油滤清器", unit_price="68.00", stock_on_hand=3
    )
    return rooftop


@pytest.fixture
def people(staff):
    return staff[Role.SERVICE_ADVISOR], staff[Role.TECHNICIAN], staff[Role.CUSTOMER_SPECIALIST]


@pytest.fixture
def console_path(tmp_path, settings):
    """Messages go to a console file of this test's own."""
    settings.FOLLOWUP_CONSOLE_PATH = str(tmp_path / "console.jsonl")
    settings.FOLLOWUP_CHANNELS = {
        "sms": "followup.channels.ConsoleProvider",
        "wechat": "followup.channels.ConsoleProvider",
        "email": "followup.channels.ConsoleProvider",
    }
    return tmp_path / "console.jsonl"


# A hand-built October for the KPI and dashboard tests

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month, day, hour, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def order(rooftop, vehicle, advisor, number, checked_in_at, **fields):
    fields.setdefault("status", "in_progress")
    return RepairOrder.objects.create(
        dealership=rooftop,
        number=f"RO{number}",
        year=2026,
        sequence=number,
        customer=vehicle.owner,
        vehicle=vehicle,
        advisor=advisor,
        service_type="maintenance",
        odometer_km=40_000,
        concern="保养",
        tax_rate=Decimal("0.13"),
        checked_in_at=checked_in_at,
        **fields,
    )


def appointment(rooftop, vehicle, advisor, starts_at, status):
    return Appointment.objects.create(
        dealership=rooftop,
        customer=vehicle.owner,
        vehicle=vehicle,
        advisor=advisor,
        service_type="maintenance",
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=1),
        status=status,
    )


def labour(ro, hours, rate, **fields):
    return LabourLine.objects.create(
        repair_order=ro, description="工时", operation_code="OP1", hours=Decimal(hours), rate=Decimal(rate), **fields
    )


def part(ro, quantity, price, **fields):
    return PartLine.objects.create(
        repair_order=ro,
        description="零件",
        part_number="P1",
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        **fields,
    )


@pytest.fixture
def october(workshop, vehicle, staff):
    """Two advisors' October at 上海浦东; see each test for the figures it yields."""
    rooftop = workshop
    a = staff[Role.SERVICE_ADVISOR]
    b = UserFactory(username="advisor_b", role=Role.SERVICE_ADVISOR, rooftops=[rooftop])
    technician = staff[Role.TECHNICIAN]
    kept = appointment(rooftop, vehicle, a, at(10, 3, 9), "arrived")
    appointment(rooftop, vehicle, a, at(10, 8, 9), "no_show")
    appointment(rooftop, vehicle, a, at(10, 9, 9), "cancelled")
    appointment(rooftop, vehicle, b, at(10, 12, 9), "no_show")
    appointment(rooftop, vehicle, b, at(10, 15, 9), "arrived")
    # RO1: from the appointment, delivered on time after 6 h
    ro1 = order(
        rooftop,
        vehicle,
        a,
        1,
        at(10, 3, 9),
        appointment=kept,
        status="delivered",
        promised_at=at(10, 3, 16),
        delivered_at=at(10, 3, 15),
        discount_amount=Decimal("6"),
    )
    labour(ro1, "2", "380", discount_amount=Decimal("10"))
    part(ro1, "2", "68")
    # RO2: walk-in, delivered late after 24 h; extra part approved, extra labour declined, a proposal open
    ro2 = order(
        rooftop,
        vehicle,
        a,
        2,
        at(10, 10, 10),
        status="delivered",
        promised_at=at(10, 10, 18),
        delivered_at=at(10, 11, 10),
    )
    labour(ro2, "1.5", "400")
    part(ro2, "1", "200", is_additional=True, decided_at=at(10, 10, 12))
    labour(ro2, "1", "400", is_additional=True, status="declined", decided_at=at(10, 10, 12))
    labour(ro2, "1", "400", is_additional=True, status="proposed")
    # RO3: B's comeback, still in the workshop
    ro3 = order(rooftop, vehicle, b, 3, at(10, 20, 9), is_comeback=True)
    # RO4: checked in 31 October 23:30, delivered 1 November 00:30 (local): opened in October only
    order(rooftop, vehicle, b, 4, at(10, 31, 23, 30), status="delivered", delivered_at=at(11, 1, 0, 30))
    # outside: September, and a cancelled one
    order(rooftop, vehicle, a, 5, at(9, 30, 23, 59), status="delivered", delivered_at=at(9, 30, 23, 59))
    order(rooftop, vehicle, a, 6, at(10, 5, 9), status="cancelled")
    job = Job.objects.create(repair_order=ro3, technician=technician, planned_hours=Decimal("4"))
    TimeEntry.objects.create(job=job, technician=technician, started_at=at(10, 3, 9), ended_at=at(10, 3, 11))
    TimeEntry.objects.create(job=job, technician=technician, started_at=at(10, 3, 13), ended_at=at(10, 3, 14, 30))
    TimeEntry.objects.create(job=job, technician=technician, started_at=at(10, 4, 9))  # still clocked on
    return {"rooftop": rooftop, "a": a, "b": b, "technician": technician}

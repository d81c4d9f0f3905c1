"""The service tests' workshop: hours every day, 30-minute slots with 2 bays, ¥380 an hour, a part in stock."""

import datetime
from decimal import Decimal

import pytest

from crm.choices import Role
from crm.models import BusinessHours
from service.models import Part, ServiceSettings


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

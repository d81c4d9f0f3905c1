"""Reception logs a walk-in; the consultant grades the lead and books a test drive, in a real browser."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from crm.choices import Role
from crm.models import BusinessHours
from sales.models import DemoVehicle, Lead
from sales.models import TestDrive as Drive

from ..factories import UserFactory
from .conftest import screenshot

pytestmark = pytest.mark.browser
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def showroom_floor(transactional_db):
    from ..factories import DealershipFactory

    rooftop = DealershipFactory(code="SH01", name="上海浦东4S店")
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(18, 0)
        )
    reception = UserFactory(username="reception", full_name="前台小陈", role=Role.SALES_CONSULTANT, rooftops=[rooftop])
    consultant = UserFactory(username="consultant", full_name="李销售", role=Role.SALES_CONSULTANT, rooftops=[rooftop])
    DemoVehicle.objects.create(dealership=rooftop, model="ID.4 CROZZ", plate="沪A0001试", vin="LSVDEMO0000000001")
    return reception, consultant


def log_in(page, live_server, user, next_url):
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}{next_url}")


def test_reception_logs_a_walk_in_the_consultant_grades_it_and_books_a_test_drive(live_server, page, showroom_floor):
    reception, consultant = showroom_floor
    log_in(page, live_server, reception, "/sales/visits/")
    page.keyboard.type("139 1234 5678")  # the mobile box has the focus
    page.fill("#id_full_name", "陈思远")
    page.fill("#id_party_size", "3")
    page.fill("#id_model_of_interest", "ID.4 CROZZ")
    page.select_option("#id_consultant", label=str(consultant))
    page.click("#form-visit button[type=submit]")
    page.wait_for_selector("#visit-log >> text=陈思远")
    assert "李销售" in page.inner_text("#visit-log")
    screenshot(page, "sales-visit-log")
    lead = Lead.objects.get(customer__full_name="陈思远")
    assert lead.owner == consultant and lead.source == "walk_in"

    page.context.clear_cookies()
    log_in(page, live_server, consultant, "/sales/pipeline/")
    page.click(f"#lead-{lead.pk} a")
    page.wait_for_url(f"{live_server.url}/sales/leads/{lead.pk}/")
    page.select_option("#form-grade select[name=grade]", "H")
    page.click("#form-grade button[type=submit]")
    page.wait_for_selector("#lead-grade >> text=H")
    tomorrow = timezone.localdate(timezone.now(), SHANGHAI) + datetime.timedelta(days=1)
    page.select_option("#form-test-drive select[name=demo_vehicle]", label="ID.4 CROZZ 沪A0001试")
    page.fill("#form-test-drive input[name=starts_at]", f"{tomorrow:%Y-%m-%d}T10:30")
    page.fill("#form-test-drive input[name=licence_number]", "310101199001011234")
    page.fill("#form-test-drive input[name=licence_expires_on]", "2020-01-01")
    page.click("#form-test-drive button[type=submit]")
    page.wait_for_selector("#form-test-drive .invalid-feedback")  # an expired licence is refused
    assert "must be valid on the day" in page.inner_text("#form-test-drive")
    assert not Drive.objects.exists()
    page.fill("#form-test-drive input[name=licence_expires_on]", "2031-06-30")
    page.click("#form-test-drive button[type=submit]")
    page.wait_for_selector("#test-drives")
    assert "ID.4 CROZZ" in page.inner_text("#test-drives")
    screenshot(page, "sales-lead")
    drive = Drive.objects.get()
    assert timezone.localtime(drive.starts_at, SHANGHAI).strftime("%H:%M") == "10:30"
    lead.refresh_from_db()
    assert lead.grade == "H" and lead.next_followup_on is not None

"""A service advisor checks in a walk-in vehicle and writes its repair order, in a real browser."""

import datetime
from decimal import Decimal

import pytest

from crm.choices import Role
from crm.models import BusinessHours
from service.models import RepairOrder

from ..factories import CustomerFactory, UserFactory, VehicleFactory
from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def service_desk(transactional_db):
    from ..factories import DealershipFactory

    rooftop = DealershipFactory(code="SH01", name="上海浦东4S店", labour_rate_amount=Decimal("380.00"))
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(0, 0), closes_at=datetime.time(23, 59)
        )
    advisor = UserFactory(username="advisor", full_name="王服务", role=Role.SERVICE_ADVISOR, rooftops=[rooftop])
    UserFactory(username="tech", full_name="刘技师", role=Role.TECHNICIAN, rooftops=[rooftop])
    owner = CustomerFactory(dealership=rooftop, full_name="张静怡", mobile="+8613900001234")
    vehicle = VehicleFactory(
        dealership=rooftop, owner=owner, plate="沪AD12345", vin="LSVAM4187C2184512", model="Tiguan L"
    )
    return advisor, vehicle


def test_advisor_checks_in_a_walk_in_and_writes_its_repair_order(live_server, page, service_desk):
    advisor, vehicle = service_desk
    page.goto(f"{live_server.url}/login/?next=/service/check-in/")
    page.fill("#id_username", advisor.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/service/check-in/")

    page.keyboard.type("D1234")  # the search box has the focus
    result = page.locator("#check-in-list a.check-in-result").first
    result.wait_for()
    assert "沪AD12345" in result.inner_text()
    result.click()
    page.wait_for_url(f"{live_server.url}/service/check-in/{vehicle.pk}/")
    page.fill("#id_concern", "冷车启动时发动机舱有异响")
    page.fill("#id_odometer_km", "23500")
    page.fill("#id_warning_lights", "发动机故障灯")
    page.click("#check-in-form button[type=submit]")
    order = RepairOrder.objects.get()
    page.wait_for_url(f"{live_server.url}/service/repair-orders/{order.pk}/")
    assert order.number == "SH01-" + str(order.year) + "-000001"
    assert order.number in page.locator("h1").inner_text()

    page.fill("#form-labour #id_operation_code", "ENG01")
    page.fill("#form-labour #id_description", "发动机异响检查")
    page.fill("#form-labour #id_hours", "1.5")
    page.click("#form-labour button[type=submit]")
    page.locator("#labour-lines", has_text="发动机异响检查").wait_for()
    assert page.locator('[data-total="customer_due"]').inner_text() == "¥644.10"  # 1.5 h × ¥380 + 13%
    screenshot(page, "repair-order")

    page.fill("#form-approve #id_approved_by_name", "张静怡")
    page.click("#form-approve button[type=submit]")
    page.locator("#ro-status", has_text="Waiting for the workshop").wait_for()
    page.select_option("#form-dispatch #id_technician", label="刘技师")
    page.fill("#form-dispatch #id_planned_hours", "1.5")
    page.click("#form-dispatch button[type=submit]")
    page.locator("#jobs", has_text="刘技师").wait_for()
    page.goto(f"{live_server.url}/service/board/")
    page.locator(f'.board-card[data-order="{order.number}"]').wait_for()
    screenshot(page, "workshop-board")

    page.goto(f"{live_server.url}/service/repair-orders/{order.pk}/")
    page.select_option("select[name=language]", "zh-hans")
    page.wait_for_load_state("networkidle")
    assert "待开工" in page.locator("#ro-status").inner_text()
    screenshot(page, "repair-order-zh")

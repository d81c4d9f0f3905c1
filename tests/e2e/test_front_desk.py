"""A service advisor at the front desk, in a real browser."""

import pytest

from crm.choices import Role
from crm.models import RevealLog

from ..factories import CustomerFactory, UserFactory, VehicleFactory
from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def front_desk(transactional_db):
    from ..factories import DealershipFactory

    rooftop = DealershipFactory(code="SH01", name="上海浦东4S店")
    advisor = UserFactory(username="advisor", full_name="王服务", role=Role.SERVICE_ADVISOR, rooftops=[rooftop])
    owner = CustomerFactory(dealership=rooftop, full_name="张静怡", mobile="+8613900001234")
    VehicleFactory(dealership=rooftop, owner=owner, plate="沪AD12345", vin="LSVAM4187C2184512", model="Tiguan L")
    for index in range(5):
        CustomerFactory(dealership=rooftop, full_name=f"李{'一二三四五'[index]}")
    return advisor, owner


def test_advisor_finds_owner_from_a_plate_fragment_with_the_keyboard(live_server, page, front_desk):
    advisor, owner = front_desk
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", advisor.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/")

    page.keyboard.press("/")  # focus the header search from anywhere
    page.keyboard.type("d1234")
    results = page.locator("#search-results a.result")
    results.first.wait_for()
    assert "沪AD12345" in results.first.inner_text()
    screenshot(page, "front-desk-search")

    page.keyboard.press("ArrowDown")  # from the vehicle to its owner
    assert "active" in (results.nth(1).get_attribute("class") or "")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}{owner.get_absolute_url()}")
    assert page.locator("h1").inner_text().startswith("张静怡")
    assert "沪AD12345" in page.locator("main").inner_text()
    screenshot(page, "customer-360")

    # the mobile is masked until a click reveals it, and the click is logged
    mobile = page.locator("#customer-mobile")
    assert "+86 139****1234" in mobile.inner_text() and "0000" not in mobile.inner_text()
    mobile.locator("button.reveal").click()
    mobile.locator(".revealed").wait_for()
    assert "+86 139 0000 1234" in mobile.inner_text()
    assert RevealLog.objects.filter(user=advisor, customer=owner, field="mobile").count() == 1

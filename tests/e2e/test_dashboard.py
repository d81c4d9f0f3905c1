"""An after-sales manager reads the service dashboard in a real browser, changes the period and follows a
number to the repair orders behind it."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from crm.choices import Role

from ..service.conftest import october, workshop  # noqa: F401 (the service tests' hand-built October)
from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def service_month(request):
    return request.getfixturevalue("october")


def test_manager_changes_the_period_and_follows_a_number(live_server, page, service_month, staff):
    manager = staff[Role.MANAGER]
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", manager.username)
        page.fill("#id_password", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/dashboard/service/")
        delivered = page.locator("[data-kpi=ros_delivered] .kpi-value")
        assert delivered.inner_text() == "1"  # this month: RO4, delivered on 1 November
        assert page.locator("#period-shown").inner_text().startswith("2026-11-01 – 2026-11-20")

        page.select_option("#id_preset", "last_month")  # submits on change
        page.wait_for_url("**preset=last_month**")
        assert delivered.inner_text() == "2"
        assert page.locator("[data-kpi=average_ro_value] .kpi-value").inner_text() == "¥840"
        assert page.locator("[data-kpi=extra_work_approval_rate] .kpi-value").inner_text() == "50.0%"
        assert page.locator("canvas[data-chart=chart-orders]").is_visible()
        screenshot(page, "dashboard-service")

        delivered.locator("a").click()
        page.wait_for_url("**/service/repair-orders/**")
        rows = page.locator("table tbody tr")
        assert sorted(rows.all_inner_texts()) == sorted(
            text for text in rows.all_inner_texts() if "RO1" in text or "RO2" in text
        )
        assert rows.count() == 2
        screenshot(page, "dashboard-service-drilldown")

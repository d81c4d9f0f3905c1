"""The customer-care dashboard on the follow-up tests' hand-built March: figures, scope, queries."""

from decimal import Decimal

import pytest
from django.test import Client

from crm.choices import Role
from tests.conftest import api_client_for

from .test_kpis import march, people  # noqa: F401 (the hand-built March)

MARCH_QUERY = {"preset": "custom", "first": "2026-03-01", "last": "2026-03-31"}


@pytest.fixture
def care_month(request):
    return request.getfixturevalue("march")


def test_the_care_manager_sees_march(care_month, staff, django_assert_max_num_queries):
    client = Client()
    client.force_login(staff[Role.MANAGER])
    client.get("/dashboard/care/", MARCH_QUERY)  # refreshes the rollups
    with django_assert_max_num_queries(20):
        response = client.get("/dashboard/care/", MARCH_QUERY)
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert dashboard.tile("two_day_in_time_rate").value == Decimal("0.5714")  # 4 in time of 7 judged
    assert dashboard.tile("contact_success_rate").value == Decimal("0.6667")
    assert dashboard.tile("csi_average").value is None  # no survey answered: a dash, no division by zero
    assert dashboard.tile("return_rate").value is None and "—" in response.content.decode()
    rows = {row["id"]: row for row in dashboard.table("staff").rows}
    specialist = staff[Role.CUSTOMER_SPECIALIST]
    assert rows[specialist.pk]["calls"] == 7 and rows[specialist.pk]["two_day_rate"] == Decimal("0.6000")


def test_a_specialist_sees_their_own_calls(care_month, staff):
    specialist = staff[Role.CUSTOMER_SPECIALIST]
    figures = api_client_for(specialist).get("/api/kpis/", {"dashboard": "care", **MARCH_QUERY}).json()
    kpis = figures["dashboards"]["care"]["kpis"]
    assert figures["staff"] == specialist.pk
    assert kpis["contact_success_rate"]["value"] == pytest.approx(0.7143)
    assert "return_rate" not in kpis  # rooftop figures are not one person's
    assert [row["name"] for row in figures["dashboards"]["care"]["tables"]["staff"]["rows"]] == [str(specialist)]

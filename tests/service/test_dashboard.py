"""The service dashboard and /api/kpis/: figures, targets, exports, role and rooftop scoping, bounded queries."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from crm.choices import Role
from dms.models import KpiTarget
from service.models import RepairOrder
from tests.conftest import api_client_for
from tests.factories import UserFactory, VehicleFactory

from .conftest import at, order

OCTOBER_QUERY = {"preset": "custom", "first": "2026-10-01", "last": "2026-10-31"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(staff):
    return staff[Role.MANAGER]


def kpis_of(user, **params):
    response = api_client_for(user).get("/api/kpis/", {"dashboard": "service", **OCTOBER_QUERY, **params})
    assert response.status_code == 200, response.content
    return response.json()["dashboards"]["service"]


def test_a_manager_sees_the_rooftops_figures_with_a_target(october, manager):
    KpiTarget.objects.create(
        dealership=october["rooftop"], month=datetime.date(2026, 10, 1), kpi="ro_delivered", value=Decimal("4")
    )
    response = client_for(manager).get("/dashboard/service/", OCTOBER_QUERY)
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert dashboard.tile("ros_opened").value == 4
    assert dashboard.tile("average_ro_value").value == Decimal("840.00")
    delivered = dashboard.tile("ros_delivered")
    assert (delivered.value, delivered.target, delivered.progress) == (2, Decimal("4"), Decimal("0.5000"))
    html = response.content.decode()
    assert "¥840" in html and "50.0%" in html
    assert f'<a href="/service/repair-orders/?advisor={october["a"].pk}&amp;checked_in_after=' in html  # table cells link
    # every number links to the orders behind it
    assert (
        "status=delivered" in delivered.link and "delivered_after=2026-10-01T00%3A00%3A00%2B08%3A00" in delivered.link
    )
    listed = client_for(manager).get(delivered.link)
    assert listed.status_code == 200
    assert sorted(o.number for o in listed.context["table"].data) == ["RO1", "RO2"]
    advisors = {row["id"]: row for row in dashboard.table("advisors").rows}
    assert advisors[october["a"].pk]["opened"] == 2 and advisors[october["b"].pk]["opened"] == 2


def test_an_empty_period_shows_a_dash(october, manager):
    response = client_for(manager).get(
        "/dashboard/service/", {"preset": "custom", "first": "2020-01-01", "last": "2020-01-31"}
    )
    assert response.status_code == 200
    assert response.context["dashboard"].tile("on_time_rate").value is None
    assert (
        '<a class="text-reset text-decoration-none stretched-link" href="/service/repair-orders/?status=delivered'
        in (response.content.decode())
    )
    assert response.content.decode().count(">—<") >= 6


def test_an_advisor_sees_only_their_own_figures(october):
    advisor = october["a"]
    figures = kpis_of(advisor, staff=october["b"].pk)  # asking for someone else's changes nothing
    assert figures["kpis"]["ros_opened"]["value"] == 2
    assert [row["name"] for row in figures["tables"]["advisors"]["rows"]] == [str(advisor)]
    page = client_for(advisor).get("/dashboard/service/", {**OCTOBER_QUERY, "staff": october["b"].pk})
    assert page.context["dashboard"].scope.personal and page.context["dashboard"].tile("ros_opened").value == 2
    assert "advisor=" in page.context["dashboard"].tile("ros_opened").link


def test_a_manager_may_choose_a_staff_member(october, manager):
    assert kpis_of(manager, staff=october["b"].pk)["kpis"]["ros_opened"]["value"] == 2
    assert kpis_of(manager)["kpis"]["ros_opened"]["value"] == 4


def test_rooftops_are_those_of_the_user(october, manager, other_rooftop, customer):
    other_vehicle = VehicleFactory(dealership=other_rooftop, owner=customer)
    order(other_rooftop, other_vehicle, None, 1, at(10, 5, 9))
    assert kpis_of(manager)["kpis"]["ros_opened"]["value"] == 4  # BJ01 is not the manager's
    response = api_client_for(manager).get("/api/kpis/", {**OCTOBER_QUERY, "dealership": other_rooftop.pk})
    assert response.status_code == 400 and "dealership" in response.json()
    page = client_for(manager).get("/dashboard/service/", {**OCTOBER_QUERY, "dealership": other_rooftop.pk})
    assert page.status_code == 400
    group_manager = UserFactory(username="gm", role=Role.MANAGER, rooftops=[october["rooftop"], other_rooftop])
    assert kpis_of(group_manager)["kpis"]["ros_opened"]["value"] == 5
    assert kpis_of(group_manager, dealership=other_rooftop.pk)["kpis"]["ros_opened"]["value"] == 1


def test_who_may_not_see_a_dashboard(october, staff):
    technician = staff[Role.TECHNICIAN]
    assert client_for(technician).get("/dashboard/service/").status_code == 403
    assert api_client_for(technician).get("/api/kpis/").status_code == 403
    assert Client().get("/dashboard/service/").status_code == 302
    assert Client().get("/api/kpis/").status_code in (401, 403)


def test_bad_filters_are_refused_with_a_message(october, manager):
    response = api_client_for(manager).get(
        "/api/kpis/", {"preset": "custom", "first": "2026-10-31", "last": "2026-10-01"}
    )
    assert response.status_code == 400 and response.json() == {"last": ["The period ends before it starts."]}
    response = api_client_for(manager).get(
        "/api/kpis/", {"preset": "custom", "first": "2020-01-01", "last": "2026-10-01"}
    )
    assert response.status_code == 400 and "three years" in response.json()["last"][0]
    response = api_client_for(manager).get("/api/kpis/", {"preset": "someday"})
    assert response.status_code == 400 and "preset" in response.json()
    page = client_for(manager).get("/dashboard/service/", {"preset": "custom", "first": "2026-10-01"})
    assert page.status_code == 400 and "Choose the last day of the period." in page.content.decode()


def test_tables_export_as_csv_and_excel(october, manager):
    client = client_for(manager)
    csv = client.get("/dashboard/service/", {**OCTOBER_QUERY, "export": "csv", "table": "advisors"})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Advisor,Opened,Delivered,Appointment rate")
    assert f"{october['a']},2,2,50.0,50.0,3.5,1686.0,840.0" in lines
    xlsx = client.get("/dashboard/service/", {**OCTOBER_QUERY, "export": "xlsx", "table": "technicians"})
    assert xlsx.content[:2] == b"PK" and "technicians-20261001-20261031.xlsx" in xlsx["Content-Disposition"]
    assert client.get("/dashboard/service/", {**OCTOBER_QUERY, "export": "csv", "table": "nope"}).status_code == 404


def _more_orders(october, count):
    rooftop = october["rooftop"]
    vehicle = RepairOrder.objects.first().vehicle
    advisors = [UserFactory(username=f"adv{i}", role=Role.SERVICE_ADVISOR, rooftops=[rooftop]) for i in range(8)]
    for i in range(count):
        order(
            rooftop,
            vehicle,
            advisors[i % 8],
            100 + i,
            at(10, 1 + i % 28, 10),
            status="delivered",
            delivered_at=at(10, 1 + i % 28, 15),
            promised_at=at(10, 1 + i % 28, 16),
        )


@pytest.mark.parametrize("extra", [0, 60])
def test_the_dashboard_reads_a_bounded_number_of_queries(october, manager, extra, django_assert_max_num_queries):
    _more_orders(october, extra)
    client = client_for(manager)
    client.get("/dashboard/service/", OCTOBER_QUERY)  # the first request refreshes the rollups
    with django_assert_max_num_queries(16):
        response = client.get("/dashboard/service/", {"preset": "this_year"})
    assert response.status_code == 200
    with django_assert_max_num_queries(16):
        assert api_client_for(manager).get("/api/kpis/", {"dashboard": "service"}).status_code == 200

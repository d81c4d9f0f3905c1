"""The sales dashboard on the hand-built March of test_kpis: figures, drill-down, scope, queries."""

from django.test import Client

from crm.choices import Role
from tests.conftest import api_client_for
from tests.factories import UserFactory

from .test_kpis import at, make_lead

MARCH_QUERY = {"preset": "custom", "first": "2026-03-01", "last": "2026-03-31"}


def page(user, client=None, **params):
    if client is None:
        client = Client()
        client.force_login(user)
    response = client.get("/dashboard/sales/", {**MARCH_QUERY, **params})
    assert response.status_code == 200, response.content[:500]
    return client, response.context["dashboard"]


def test_the_sales_manager_sees_the_month_and_follows_a_number(month, staff):
    client, dashboard = page(staff[Role.MANAGER])
    values = {tile.key: tile.value for tile in dashboard.tiles}
    assert values["leads"] == 9 and values["orders"] == 3 and values["deliveries"] == 2 and values["visits"] == 3
    assert str(values["close_rate"]) == "0.2222" and str(values["days_lead_to_order"]) == "7.8"
    assert [(row["reason"], row["leads"]) for row in dashboard.table("lost_reasons").rows] == [("价格", 2), ("竞品", 1)]
    consultants = {row["id"]: row for row in dashboard.table("consultants").rows}
    assert consultants[month.a]["leads"] == 5 and consultants[month.b]["leads"] == 4
    listed = client.get(dashboard.tile("leads").link)
    assert listed.status_code == 200 and listed.context["filter"].qs.count() == 9
    delivered = client.get(dashboard.tile("deliveries").link)
    assert sorted(lead.pk for lead in delivered.context["filter"].qs) == sorted(
        [month.leads["L0"].pk, month.leads["L1"].pk]
    )
    lost = client.get(dashboard.tile("lost_rate").link)
    assert lost.context["filter"].qs.count() == 3


def test_a_consultant_sees_their_own_figures(month):
    consultant = month.leads["L1"].owner
    _, dashboard = page(consultant, staff=month.b)
    assert dashboard.scope.personal and dashboard.tile("leads").value == 5
    assert [row["id"] for row in dashboard.table("consultants").rows] == [month.a]
    figures = api_client_for(consultant).get("/api/kpis/", {"dashboard": "sales", **MARCH_QUERY}).json()
    assert figures["dashboards"]["sales"]["kpis"]["close_rate"]["value"] == 0.2


def test_the_sales_dashboard_reads_a_bounded_number_of_queries(month, staff, django_assert_max_num_queries):
    client, _ = page(staff[Role.MANAGER])
    with django_assert_max_num_queries(16):
        page(None, client)
    more = [UserFactory(username=f"c{i}", role=Role.SALES_CONSULTANT, rooftops=[month.rooftop]) for i in range(6)]
    for i in range(60):
        make_lead(month.rooftop, more[i % 6], at(3, 1 + i % 28))
    page(None, client)
    with django_assert_max_num_queries(16):
        _, dashboard = page(None, client)
    assert dashboard.tile("leads").value == 69

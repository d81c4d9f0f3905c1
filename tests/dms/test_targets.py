"""Managers set each rooftop's monthly targets in one form; bad values change nothing."""

import datetime
from decimal import Decimal

from django.test import Client

from crm.choices import Role
from dms.models import KpiTarget


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_sets_changes_and_clears_targets(staff, rooftop, other_rooftop):
    client = client_for(staff[Role.MANAGER])
    month = datetime.date(2026, 12, 1)
    page = client.get("/dashboard/targets/", {"month": "2026-12"})
    assert page.status_code == 200 and f'name="t_{rooftop.pk}_leads"' in page.content.decode()
    assert f'name="t_{other_rooftop.pk}_leads"' not in page.content.decode()  # not the manager's rooftop
    response = client.post(
        "/dashboard/targets/?month=2026-12",
        {f"t_{rooftop.pk}_leads": "120", f"t_{rooftop.pk}_labour_revenue": "350000", f"t_{other_rooftop.pk}_leads": "9"},
    )
    assert response.status_code == 302
    assert dict(KpiTarget.objects.filter(month=month).values_list("kpi", "value")) == {
        "leads": Decimal("120.00"),
        "labour_revenue": Decimal("350000.00"),
    }
    assert not KpiTarget.objects.filter(dealership=other_rooftop).exists()
    client.post("/dashboard/targets/?month=2026-12", {f"t_{rooftop.pk}_leads": "130"})
    assert dict(KpiTarget.objects.filter(month=month).values_list("kpi", "value")) == {"leads": Decimal("130.00")}


def test_a_bad_target_saves_nothing(staff, rooftop):
    client = client_for(staff[Role.MANAGER])
    KpiTarget.objects.create(dealership=rooftop, month=datetime.date(2026, 12, 1), kpi="orders", value=10)
    response = client.post(
        "/dashboard/targets/?month=2026-12", {f"t_{rooftop.pk}_orders": "12", f"t_{rooftop.pk}_leads": "-5"}
    )
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert KpiTarget.objects.get(kpi="orders").value == Decimal("10.00")


def test_only_managers_set_targets(staff):
    assert client_for(staff[Role.SERVICE_ADVISOR]).get("/dashboard/targets/").status_code == 403
